"""The reminder daemon: a few periodic sweeps over indexed tables, on APScheduler 3's BlockingScheduler.

There is never one scheduler job per item: APScheduler keeps its jobs in memory here, and the database is
the only source of truth, so any number of daemons (on PostgreSQL) or a standby (on SQLite) can come and go.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import insert, update

from workflow import schema as t
from workflow import witness
from workflow.api import Workflow
from workflow.clock import stamp
from workflow.logs import get_logger
from workflow.metrics import serve
from workflow.outbox import Sender, Tally, drop_lease, hold_lease
from workflow.reminders import Planner, build_channels
from workflow.signals import STOP_SIGNALS, stop_signals_blocked

log = get_logger("zwgk.daemon")
LEASE = "sqlite-daemon"


@dataclass
class Pass:
    rolled: int = 0
    recomputed: int = 0
    planned: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    sealed: int = 0
    witnessed: int = 0
    waiting: bool = False  # another daemon holds the SQLite lease
    broken: tuple[str, ...] = ()  # the jobs that failed (logged as job_failed): `--once` exits 1


class Daemon:
    def __init__(self, wf: Workflow, *, reload_calendar: Callable[[], Any] | None = None) -> None:
        wf.writable_clock()  # a clock set by hand runs a daemon only on a simulation
        self.wf = wf
        self.config = wf.config
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.channels = build_channels(self.config)
        self.planner = self._planner()
        self.sender = Sender(wf.engine, self.config.reminders, self.channels, self.id, wf.clock)
        self.sqlite = wf.engine.dialect.name == "sqlite"
        self.stopping = threading.Event()
        self.totals = Pass()
        self.reload_calendar = reload_calendar
        self._log = log.bind(daemon=self.id)

    def _planner(self) -> Planner:
        return Planner(self.wf.engine, self.wf.config, self.channels)

    # -- the jobs ----------------------------------------------------------------------------------------

    def _may_work(self) -> bool:
        """On SQLite one daemon works and the others wait; on PostgreSQL they share the work."""
        if not self.sqlite:
            return True
        lease = max(self.config.daemon.plan_every, self.config.daemon.send_every,
                    self.config.daemon.heartbeat_every) * 3
        return hold_lease(self.wf.engine, LEASE, self.id, self.wf.clock(), lease)

    def roll(self) -> Pass:
        done = Pass()
        if not self._may_work():
            return Pass(waiting=True)
        if self.reload_calendar is not None and self.reload_calendar():
            self.planner = self._planner()  # the new calendar's dates for the next steps too
            done.recomputed = len(self.wf.recompute_deadlines())
        done.rolled = len(self.wf.roll_schedules())
        return done

    def plan(self) -> Pass:
        if not self._may_work():
            return Pass(waiting=True)
        return Pass(planned=len(self.planner.plan(self.wf.clock())))

    def send(self) -> Pass:
        if not self._may_work():
            return Pass(waiting=True)
        if self.config.reminders.office_hours_only and not self.wf.timeline.in_office_hours(self.wf.clock()):
            return Pass()  # what falls due at night goes out when the office opens
        started = time.monotonic()
        try:
            tally: Tally = self.sender.deliver(stop=self.stopping.is_set)
        except Exception:
            self.sender.metrics.send_pass(time.monotonic() - started, ok=False)
            raise
        self.sender.metrics.send_pass(time.monotonic() - started, ok=True)
        return Pass(sent=tally.sent, failed=tally.failed, dead=tally.dead)

    def seal(self) -> Pass:
        """Seal every chain's head in the register (unless nothing moved since the last seal), then queue the latest
        seal's root digest for the witnesses: whichever made it (this pass, `zwgk digest`), and again if a pass
        died between the two (the outbox's key makes queueing twice add nothing)."""
        if not self._may_work():
            return Pass(waiting=True)
        sealed = self.wf.seal()
        latest = self.wf.last_seal()
        queued = witness.queue(self.wf.engine, self.config, self.channels, latest, self.wf.clock()) if latest else 0
        return Pass(sealed=int(sealed is not None), witnessed=queued)

    def beat(self, *, stopped: bool = False) -> None:
        now = stamp(self.wf.clock())
        values = {"beat_at": now, "planned": self.totals.planned, "sent": self.totals.sent,
                  "failed": self.totals.failed, "stopped_at": now if stopped else None}
        with self.wf.engine.begin() as conn:
            if conn.execute(update(t.daemon).where(t.daemon.c.id == self.id).values(**values)).rowcount == 0:
                conn.execute(insert(t.daemon).values(id=self.id, host=socket.gethostname(), pid=os.getpid(),
                                                     started_at=now, **values))

    def _job(self, name: str, job: Callable[[], Pass]) -> Callable[[], None]:
        def run() -> None:
            if self.stopping.is_set():
                return
            try:
                done = job()
            except Exception:  # a failed sweep is logged and tried again at the next tick
                self._log.exception("job_failed", job=name)
                self.totals.broken += (name,)
                return
            self._add(done)
            if done.rolled or done.recomputed or done.planned or done.sent or done.failed or done.sealed:
                self._log.info(name, **{k: v for k, v in vars(done).items() if v})
        return run

    def _add(self, done: Pass) -> None:
        for key in ("rolled", "recomputed", "planned", "sent", "failed", "dead", "sealed", "witnessed"):
            setattr(self.totals, key, getattr(self.totals, key) + getattr(done, key))
        self.totals.waiting = done.waiting

    # -- running -----------------------------------------------------------------------------------------

    def once(self) -> Pass:
        """One pass of every job (for cron and tests): roll, plan, seal, send what is due, beat. A message that fails
        waits for its retry time, i.e. the next run. SIGTERM or SIGINT: finish the messages being sent, hand back the
        rest of the claims, stop."""
        handlers = self._on_stop_signals() if threading.current_thread() is threading.main_thread() else {}
        try:
            self.beat()
            for name, job in (("roll", self.roll), ("plan", self.plan), ("seal", self.seal), ("send", self.send)):
                self._job(name, job)()
            self.beat(stopped=True)
            self._release()
        finally:
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
        return self.totals

    def _on_stop_signals(self) -> dict[int, Any]:
        """SIGTERM and SIGINT set the stop flag (acted on between messages); the handlers they replace."""
        def stop(signum: int, _frame: FrameType | None) -> None:
            self.stopping.set()  # before the log line: whoever reads "stopping" knows the senders will stop
            self._log.info("stopping", signal=signal.Signals(signum).name)

        return {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}

    def run(self) -> None:
        """Until SIGTERM or SIGINT: finish the message being sent, hand back the rest of the claim, stop."""
        every = self.config.daemon
        scheduler = BlockingScheduler(timezone=UTC, executors={"default": _Workers()},
                                      job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        first = datetime.now(UTC)
        for name, job, seconds in (("roll", self.roll, every.roll_every), ("plan", self.plan, every.plan_every),
                                   ("seal", self.seal, every.seal_every), ("send", self.send, every.send_every)):
            scheduler.add_job(self._job(name, job), "interval", seconds=seconds, id=name, next_run_time=first)
        scheduler.add_job(self._beat_job, "interval", seconds=every.heartbeat_every, id="heartbeat")
        # The signal handler only raises a flag; this job, running once the scheduler does, acts on it. So a
        # signal that comes before the scheduler has started is not lost.
        scheduler.add_job(self._watch(scheduler), "interval", seconds=0.2, id="watch", next_run_time=first)

        self._on_stop_signals()
        with stop_signals_blocked():
            self.sender.metrics = serve(every.metrics)
        try:
            self.beat()
            self._log.info("started", database=self.wf.engine.dialect.name, channels=list(self.channels),
                           metrics=every.metrics or None)
            scheduler.start()
            self._release()
            self.beat(stopped=True)
        finally:
            self.sender.metrics.close()
        self._log.info("stopped", **{k: v for k, v in vars(self.totals).items() if v})

    def _watch(self, scheduler: BlockingScheduler) -> Callable[[], None]:
        stopping = threading.Event()

        def watch() -> None:
            if self.stopping.is_set() and not stopping.is_set():
                stopping.set()
                # shutdown(wait=True) waits for the running sweeps, this one included: not in this thread.
                threading.Thread(target=scheduler.shutdown, daemon=True).start()
        return watch

    def _beat_job(self) -> None:
        try:
            self.beat()
        except Exception:
            self._log.exception("job_failed", job="heartbeat")

    def _release(self) -> None:
        released = self.sender.release()
        if released:
            self._log.info("released", notifications=released)
        if self.sqlite:
            drop_lease(self.wf.engine, LEASE, self.id)


class _Workers(ThreadPoolExecutor):  # type: ignore[misc]  # APScheduler has no type hints
    """APScheduler's thread pool, whose threads block the stop signals (workflow/signals.py): it starts them as it
    submits a job, in the main thread."""

    def _do_submit_job(self, job: Any, run_times: Any) -> None:
        with stop_signals_blocked():
            super()._do_submit_job(job, run_times)

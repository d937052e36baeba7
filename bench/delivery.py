"""Delivery with one channel hung: do the other channels' messages still go out in their normal time?

    python -m bench.delivery [--items 20] [--timeout 5]

Each of `--items` overdue items reminds 5 people on three channels: two webhooks (local http.server) and e-mail.
Run (a): e-mail goes to a working local SMTP server (aiosmtpd). Run (b): e-mail goes to a server that accepts and
then says nothing, until the relay's `--timeout`. Each run is one sending pass (`Sender.deliver`, as `zwgk daemon
--once` makes it) on a fresh SQLite database; the figure is the time from the start of the pass until the
webhooks have received all their messages. Target (issue 11): (b) within 2x (a).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from tests.daemon_helpers import (
    NOW,
    PEOPLE,
    HungServer,
    SmtpRecorder,
    SmtpServer,
    WebhookRecorder,
    email_channel,
    overdue_items,
    seed_people,
    webhook_channel,
    write_config,
)
from workflow import Workflow
from workflow.clock import fixed
from workflow.config import load
from workflow.outbox import Sender
from workflow.reminders import Planner, build_channels


def one_pass(folder: Path, items: int, smtp_port: int, timeout: float) -> tuple[float, float]:
    """(seconds until both webhooks had everything, seconds the whole pass took)."""
    hooks = [WebhookRecorder(), WebhookRecorder()]
    try:
        config = write_config(folder / "zwgk.toml", {"hook1": webhook_channel(hooks[0].url),
                                                     "hook2": webhook_channel(hooks[1].url),
                                                     "email": email_channel(smtp_port, timeout=timeout)})
        wf = Workflow(f"sqlite:///{folder}/zwgk.db", clock=fixed(NOW), config=load(config))
        seed_people(wf)
        overdue_items(wf, items)
        channels = build_channels(wf.config)
        Planner(wf.engine, wf.config, channels).plan(NOW)
        expected = items * len(PEOPLE)
        sender = Sender(wf.engine, wf.config.reminders, channels, "bench", wf.clock)
        start = time.perf_counter()
        thread = threading.Thread(target=sender.deliver)
        thread.start()
        while any(h.count() < expected for h in hooks):
            time.sleep(0.002)
        others = time.perf_counter() - start
        thread.join()
        whole = time.perf_counter() - start
        wf.close()
        return others, whole
    finally:
        for h in hooks:
            h.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=20)
    p.add_argument("--timeout", type=float, default=5.0, help="the e-mail channel's timeout, seconds")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        smtp = SmtpServer(SmtpRecorder()).start()
        try:
            (Path(tmp) / "a").mkdir()
            normal, normal_whole = one_pass(Path(tmp) / "a", a.items, smtp.port, a.timeout)
        finally:
            smtp.stop()
        hung = HungServer()
        try:
            (Path(tmp) / "b").mkdir()
            slow, slow_whole = one_pass(Path(tmp) / "b", a.items, hung.port, a.timeout)
        finally:
            hung.close()
    n = a.items * len(PEOPLE)
    print(f"(a) e-mail working: the webhooks' {2 * n} messages out in {normal:.3f} s (whole pass {normal_whole:.3f} s)")
    print(f"(b) e-mail hung:    the webhooks' {2 * n} messages out in {slow:.3f} s (whole pass {slow_whole:.3f} s, "
          f"the relay's timeout {a.timeout:g} s)")
    ratio = slow / normal
    print(f"ratio (b)/(a): {ratio:.2f} (target <= 2): {'ok' if ratio <= 2 else 'MISSED'}")


if __name__ == "__main__":
    main()

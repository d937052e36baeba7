"""Concurrency with real OS processes ('spawn'), each opening its own Workflow(url), on SQLite and PostgreSQL.

The database is never mocked: SQLite is a file shared by the processes (writers queue on busy_timeout),
PostgreSQL is the real server (writers queue on row locks). Every wait is bounded so that a hang fails.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tests import workers
from tests.conftest import new_info, seed, to_head_approval
from workflow import Workflow
from workflow import schema as t

CTX = multiprocessing.get_context("spawn")
RESULT_TIMEOUT = 90.0  # generous for a loaded CI machine; a real hang still fails
SIZE = 4


class Pool:
    """SIZE long-lived worker processes (spawned once per module: starting one costs a second of imports).

    Barriers: "pair" for workers 0 and 1, "pair+main" for them and this process, "all" for every worker.
    """

    def __init__(self) -> None:
        self.barriers = {"pair": CTX.Barrier(2), "pair+main": CTX.Barrier(3), "all": CTX.Barrier(SIZE)}
        self.out = CTX.Queue()
        self.inboxes = [CTX.Queue() for _ in range(SIZE)]
        self.procs = [CTX.Process(target=workers.serve, args=(box, self.out, self.barriers), daemon=True)
                      for box in self.inboxes]
        for p in self.procs:
            p.start()
        self.tag = 0

    def alive(self) -> bool:
        return all(p.is_alive() for p in self.procs)

    def close(self) -> None:
        for box in self.inboxes:
            box.put(None)
        for p in self.procs:
            p.join(timeout=10)
        self.kill()

    def kill(self) -> None:
        for p in self.procs:
            if p.is_alive():
                p.kill()
                p.join(timeout=5)

    def run(self, task: str, arg_lists: list[tuple[Any, ...]], *, barrier: str, expected: int,
            while_running: Callable[[], None] | None = None) -> list[tuple[Any, ...]]:
        """Worker i runs `task(*arg_lists[i], barrier, out)`; returns the `expected` results once every worker
        is done. Any crash or hang fails the test (and the pool is killed, to be started afresh)."""
        try:
            return self._run(task, arg_lists, barrier, expected, while_running)
        except BaseException:
            self.kill()
            raise

    def _run(self, task: str, arg_lists: list[tuple[Any, ...]], barrier: str, expected: int,
             while_running: Callable[[], None] | None) -> list[tuple[Any, ...]]:
        self.tag += 1
        for b in self.barriers.values():
            if b.broken:
                b.reset()
        for box, args in zip(self.inboxes, arg_lists, strict=False):
            box.put((self.tag, task, barrier, args))
        if while_running is not None:
            self.barriers[barrier].wait(timeout=RESULT_TIMEOUT)
            while_running()
        results: list[tuple[Any, ...]] = []
        done = 0
        deadline = time.monotonic() + RESULT_TIMEOUT
        while len(results) < expected or done < len(arg_lists):
            try:
                r = self.out.get(timeout=max(deadline - time.monotonic(), 0.1))
            except queue.Empty:
                pytest.fail(f"workers hung: {len(results)} of {expected} results, {done} of {len(arg_lists)} "
                            f"done after {RESULT_TIMEOUT}s: {results}")
            if r[0] != self.tag:
                continue  # left over from an earlier, failed run
            if r[1] == "done":
                done += 1
            elif r[2] == "crash":
                pytest.fail(f"worker {r[1]} crashed:\n{r[4]}")
            else:
                results.append(r[1:])
        assert len(results) == expected, results
        return results


_POOL: list[Pool] = []


@pytest.fixture
def pool() -> Pool:
    if _POOL and not _POOL[0].alive():
        _POOL.pop().kill()
    if not _POOL:
        _POOL.append(Pool())
    return _POOL[0]


@pytest.fixture(scope="module", autouse=True)
def _stop_pool() -> Iterator[None]:
    yield
    while _POOL:
        _POOL.pop().close()


@pytest.fixture
def base(db_url: str) -> Iterator[tuple[str, Workflow]]:
    wf = seed(Workflow(db_url))
    yield db_url, wf
    wf.close()


def event_seqs(wf: Workflow) -> list[int]:
    with wf.engine.connect() as c:
        return list(c.execute(select(t.event.c.seq).order_by(t.event.c.seq)).scalars())


def assert_sound(wf: Workflow, events: int) -> None:
    """Nothing half-written: the log is gapless, has exactly `events` events, the head agrees, verify is ok."""
    assert event_seqs(wf) == list(range(1, events + 1))
    assert wf.digest().seq == events
    report = wf.verify()
    assert report.ok, report.problems
    assert report.events == events


def items_at_leader_check(wf: Workflow, n: int) -> list[str]:
    ids = []
    for k in range(n):
        item_id = new_info(wf, id=f"race-{k}", title=f"并发事项 {k}")
        wf.advance(item_id, "submit", actor="clerk")
        wf.advance(item_id, "proofread", actor="proof")
        wf.advance(item_id, "clear", actor="sec", decision="full")
        ids.append(item_id)
    return ids


def by_item(results: list[tuple[Any, ...]]) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    for r in results:
        out.setdefault(r[1], []).append(r)
    return out


ROUNDS = 5


def test_stale_version_race_exactly_one_wins(base: tuple[str, Workflow], pool: Pool) -> None:
    """Both processes read the item at the same version, then both sign 'check' with that version."""
    url, wf = base
    ids = items_at_leader_check(wf, ROUNDS)
    before = wf.digest().seq
    versions = {i: wf.item(i).version for i in ids}
    results = pool.run("race", [
        (url, "A", ids, "check", "lead", "item"),
        (url, "B", ids, "check", "multi", "version"),
    ], barrier="pair", expected=2 * ROUNDS)
    winners: Counter[str] = Counter()
    for item_id, rs in by_item(results).items():
        outcomes = sorted(r[2] for r in rs)
        assert outcomes == ["ItemChanged", "ok"], rs
        won = next(r for r in rs if r[2] == "ok")
        lost = next(r for r in rs if r[2] != "ok")
        winners[won[0]] += 1
        assert "reload" in lost[3], lost
        assert f"item {item_id} changed" in lost[3], lost
        assert f"[version read: {versions[item_id]}]" in lost[3], lost  # both had read the same version
        history = wf.history(item_id)
        checks = [s for s in history if s.action == "check"]
        assert len(checks) == 1, history
        assert checks[0].actor == {"A": "lead", "B": "multi"}[won[0]]
        assert checks[0].seq == won[3]
        item = wf.item(item_id)
        assert (item.state, item.version) == ("head_approval", versions[item_id] + 1)
    assert sum(winners.values()) == ROUNDS
    assert_sound(wf, before + ROUNDS)


def test_same_action_without_version_race(base: tuple[str, Workflow], pool: Pool) -> None:
    """No expected_version: the loser is refused by the pipeline (the item moved on), never half-written."""
    url, wf = base
    ids = items_at_leader_check(wf, ROUNDS)
    before = wf.digest().seq
    results = pool.run("race", [
        (url, "A", ids, "check", "lead", "none"),
        (url, "B", ids, "check", "multi", "none"),
    ], barrier="pair", expected=2 * ROUNDS)
    for item_id, rs in by_item(results).items():
        outcomes = [r[2] for r in rs]
        assert outcomes.count("ok") == 1, rs
        lost = next(r for r in rs if r[2] != "ok")
        assert lost[2] in ("ActionNotAvailable", "ItemChanged"), rs
        assert [s.action for s in wf.history(item_id)].count("check") == 1
        assert wf.item(item_id).state == "head_approval"
    assert_sound(wf, before + ROUNDS)


def test_same_in_place_signature_race(base: tuple[str, Workflow], pool: Pool) -> None:
    """'approve' leaves the state unchanged: the second head is refused as already signed, not signed twice."""
    url, wf = base
    ids = []
    for k in range(ROUNDS):
        item_id = new_info(wf, id=f"appr-{k}")
        to_head_approval(wf, item_id)
        ids.append(item_id)
    before = wf.digest().seq
    results = pool.run("race", [
        (url, "A", ids, "approve", "head", "none"),
        (url, "B", ids, "approve", "multi", "none"),
    ], barrier="pair", expected=2 * ROUNDS)
    for item_id, rs in by_item(results).items():
        assert sorted(r[2] for r in rs) == ["AlreadySigned", "ok"], rs
        assert [s.action for s in wf.history(item_id)].count("approve") == 1
    assert_sound(wf, before + ROUNDS)


def test_same_new_item_id_race(base: tuple[str, Workflow], pool: Pool) -> None:
    url, wf = base
    before = wf.digest().seq
    results = pool.run("create_same_id", [(url, "A", "dup-1"), (url, "B", "dup-1")], barrier="pair", expected=2)
    assert sorted(r[2] for r in results) == ["AlreadyExists", "ok"], results
    assert [s.action for s in wf.history("dup-1")] == ["create"]
    winner = next(r[0] for r in results if r[2] == "ok")
    assert wf.item("dup-1").body == winner
    assert_sound(wf, before + 1)


WRITERS = SIZE
ITEMS_EACH = 3


def test_writers_on_their_own_items_all_succeed(base: tuple[str, Workflow], pool: Pool) -> None:
    url, wf = base
    results = pool.run("walk_own_items", [(url, f"w{k}", ITEMS_EACH) for k in range(WRITERS)], barrier="all",
                       expected=WRITERS)
    failures = [r for r in results if r[2] != "ok"]
    assert not failures, failures
    total = WRITERS * ITEMS_EACH * workers.EVENTS_PER_LIFE
    got = sorted(s for r in results for s in r[3])
    assert got == list(range(1, total + 1))  # every seq handed out once, none lost
    for r in results:
        assert r[3] == sorted(r[3])  # each writer's own signatures are in its order
    for k in range(WRITERS):
        for i in range(ITEMS_EACH):
            item = wf.item(f"w{k}-{i}")
            assert (item.state, item.round) == ("published", 2)
            assert len(wf.history(item.id)) == workers.EVENTS_PER_LIFE
    assert_sound(wf, total)


def test_verify_while_others_write_sees_a_consistent_log(base: tuple[str, Workflow], pool: Pool) -> None:
    """A verify that runs while other processes sign must not report tampering that is not there."""
    url, wf = base
    false_alarms: list[list[str]] = []
    runs = 0

    def verify_meanwhile() -> None:
        nonlocal runs
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            report = wf.verify()
            runs += 1
            if not report.ok:
                false_alarms.append(report.problems)
            if wf.digest().seq >= total:
                break

    total = 2 * 3 * workers.EVENTS_PER_LIFE
    results = pool.run("walk_own_items", [(url, f"v{k}", 3) for k in range(2)], barrier="pair+main",
                       expected=2, while_running=verify_meanwhile)
    assert all(r[2] == "ok" for r in results), results
    assert runs > 1
    assert not false_alarms, f"{len(false_alarms)} of {runs} verifies during writes failed: {false_alarms[:3]}"
    assert_sound(wf, total)

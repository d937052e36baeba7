"""Concurrency with real OS processes ('spawn'), each opening its own Workflow(url), on SQLite and PostgreSQL.

The database is never mocked: SQLite is a file shared by the processes (writers queue on busy_timeout),
PostgreSQL is the real server (writers queue on row locks). Every wait is bounded so that a hang fails.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tests import workers
from tests.conftest import ADMIN, PEOPLE, new_info, seed, to_head_approval
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
            while_running: Callable[[Callable[[], object]], None] | None = None) -> list[tuple[Any, ...]]:
        """Worker i runs `task(*arg_lists[i], barrier, out)`; returns the `expected` results once every worker
        is done. Any crash or hang fails the test (and the pool is killed, to be started afresh).

        `while_running(release)` runs in this process meanwhile; the workers wait at the barrier until it calls
        `release()`, so that it can be sure to have begun before they do."""
        try:
            return self._run(task, arg_lists, barrier, expected, while_running)
        except BaseException:
            self.kill()
            raise

    def _run(self, task: str, arg_lists: list[tuple[Any, ...]], barrier: str, expected: int,
             while_running: Callable[[Callable[[], object]], None] | None) -> list[tuple[Any, ...]]:
        self.tag += 1
        for b in self.barriers.values():
            if b.broken:
                b.reset()
        for box, args in zip(self.inboxes, arg_lists, strict=False):
            box.put((self.tag, task, barrier, args))
        if while_running is not None:
            gate = self.barriers[barrier]
            while_running(lambda: gate.wait(timeout=RESULT_TIMEOUT))
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


UNIT = "gov"  # where the tests about writers on one chain sign: one unit, one chain, one head to queue on
REGISTER = "_register"


def event_seqs(wf: Workflow, chain: str = UNIT) -> list[int]:
    with wf.engine.connect() as c:
        return list(c.execute(select(t.event.c.seq).where(t.event.c.chain == chain).order_by(t.event.c.seq)).scalars())


def head(wf: Workflow, chain: str = UNIT) -> tuple[int, str]:
    """The chain's head row: the seq and hash of its last event."""
    with wf.engine.connect() as c:
        row = c.execute(select(t.chain.c.seq, t.chain.c.hash).where(t.chain.c.chain == chain)).one()
    return row.seq, row.hash


def assert_sound(wf: Workflow, events: int) -> None:
    """Nothing half-written: the unit's chain is gapless and has exactly `events` events, its head agrees, verify is
    ok (and read every event of the register and the unit), and a seal records the unit's head."""
    assert event_seqs(wf) == list(range(1, events + 1))
    assert head(wf)[0] == events
    report = wf.verify()
    assert report.ok, report.problems
    assert report.events == events + len(event_seqs(wf, REGISTER))
    seal = wf.event(REGISTER, wf.digest().seq)
    assert (seal.action, seal.data["chains"]) == ("seal", [[UNIT, *head(wf)]])


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
    before = head(wf)[0]
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
    before = head(wf)[0]
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
    before = head(wf)[0]
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
    before = head(wf)[0]
    results = pool.run("create_same_id", [(url, "A", "dup-1"), (url, "B", "dup-1")], barrier="pair", expected=2)
    assert sorted(r[2] for r in results) == ["AlreadyExists", "ok"], results
    assert [s.action for s in wf.history("dup-1")] == ["create"]
    winner = next(r[0] for r in results if r[2] == "ok")
    assert wf.item("dup-1").body == winner
    assert_sound(wf, before + 1)


WRITERS = SIZE
ITEMS_EACH = 3


def test_concurrent_creators_take_each_number_once_without_gaps(base: tuple[str, Workflow], pool: Pool) -> None:
    """Every writer creates items in gov at once: the numbers, taken under gov's head lock, run 1..n."""
    url, wf = base
    before = head(wf)[0]
    results = pool.run("create_numbered", [(url, f"n{k}", ITEMS_EACH) for k in range(WRITERS)], barrier="all",
                       expected=WRITERS)
    assert all(r[2] == "ok" for r in results), results
    made = [i for r in results for i in r[3]]
    year = wf.today().year
    assert sorted(made) == [f"gov-{year}-{n:06d}" for n in range(1, WRITERS * ITEMS_EACH + 1)]
    for r in results:  # each writer's own items in the order it made them
        assert r[3] == sorted(r[3])
    assert_sound(wf, before + WRITERS * ITEMS_EACH)


def test_writers_on_their_own_items_all_succeed(base: tuple[str, Workflow], pool: Pool) -> None:
    """Writers in one unit: their signatures share the unit's chain, so they queue on its head."""
    url, wf = base
    before = head(wf)[0]
    results = pool.run("walk_own_items", [(url, f"w{k}", ITEMS_EACH, UNIT) for k in range(WRITERS)], barrier="all",
                       expected=WRITERS)
    failures = [r for r in results if r[2] != "ok"]
    assert not failures, failures
    total = WRITERS * ITEMS_EACH * workers.EVENTS_PER_LIFE
    got = sorted(s for r in results for s in r[3])
    assert got == list(range(before + 1, before + total + 1))  # every seq handed out once, none lost
    for r in results:
        assert r[3] == sorted(r[3])  # each writer's own signatures are in its order
    for k in range(WRITERS):
        for i in range(ITEMS_EACH):
            item = wf.item(f"w{k}-{i}")
            assert (item.state, item.round) == ("published", 2)
            assert len(wf.history(item.id)) == workers.EVENTS_PER_LIFE
    assert_sound(wf, before + total)


def add_unit_with_staff(wf: Workflow, unit: str) -> None:
    """A unit in which the plan's people (but multi) hold the roles they hold in gov."""
    wf.add_unit(unit, name=f"单位 {unit}", by=ADMIN)
    for person, roles in PEOPLE.items():
        if person != "multi":
            for role in roles:
                wf.grant(person, role, unit=unit, by=ADMIN)


def test_writers_in_different_units_each_keep_their_own_chain(base: tuple[str, Workflow], pool: Pool) -> None:
    """Writers each in a unit of their own: each unit's chain holds exactly its writer's signatures, gapless."""
    url, wf = base
    units = [f"u{k}" for k in range(WRITERS)]
    for unit in units:
        add_unit_with_staff(wf, unit)
    before = {unit: head(wf, unit)[0] for unit in [UNIT, *units]}
    results = pool.run("walk_own_items", [(url, f"x{k}", ITEMS_EACH, units[k]) for k in range(WRITERS)],
                       barrier="all", expected=WRITERS)
    failures = [r for r in results if r[2] != "ok"]
    assert not failures, failures
    for r in results:
        unit = units[int(r[0][1:])]
        assert r[3] == list(range(before[unit] + 1, before[unit] + ITEMS_EACH * workers.EVENTS_PER_LIFE + 1))
        assert event_seqs(wf, unit) == list(range(1, head(wf, unit)[0] + 1))
        assert head(wf, unit)[0] == before[unit] + ITEMS_EACH * workers.EVENTS_PER_LIFE
        for i in range(ITEMS_EACH):
            item = wf.item(f"{r[0]}-{i}")
            assert (item.unit, item.state, item.round) == (unit, "published", 2)
            assert {s.chain for s in wf.history(item.id)} == {unit}
    assert head(wf)[0] == before[UNIT]  # gov's chain was not touched
    report = wf.verify()
    assert report.ok, report.problems
    assert report.chains == 2 + WRITERS
    seal = wf.event(REGISTER, wf.digest().seq)
    assert seal.data["chains"] == sorted([unit, *head(wf, unit)] for unit in [UNIT, *units])


def test_a_unit_signs_while_another_units_chain_head_is_locked(pg_url: str) -> None:
    """PostgreSQL: a transaction holding gov's chain head (a host's, not yet committed) keeps no other unit
    waiting. (SQLite has one writer at a time for the whole file, so this holds on PostgreSQL only.)"""
    wf = seed(Workflow(pg_url))
    add_unit_with_staff(wf, "fin")
    in_gov, in_fin = new_info(wf), new_info(wf, unit="fin")
    other = Workflow(pg_url)
    done, errors = threading.Event(), []

    def sign_in_fin() -> None:
        try:
            other.advance(in_fin, "submit", actor="clerk")
        except Exception as e:  # collected for the assertion below
            errors.append(e)
        done.set()

    try:
        with wf.engine.connect() as conn, conn.begin():
            wf.advance(in_gov, "submit", actor="clerk", conn=conn)  # gov's head is locked until we commit
            thread = threading.Thread(target=sign_in_fin)
            thread.start()
            assert done.wait(RESULT_TIMEOUT), "a signature in unit fin waited for unit gov's open transaction"
            assert errors == []
            assert other.item(in_fin).state == "confidentiality_review"
            assert other.item(in_gov).state == "draft"  # not committed yet
        thread.join(RESULT_TIMEOUT)
        assert wf.item(in_gov).state == "confidentiality_review"
        assert wf.verify().ok
    finally:
        other.close()
        wf.close()


def test_verify_while_others_write_sees_a_consistent_log(base: tuple[str, Workflow], pool: Pool) -> None:
    """A verify that runs while other processes sign must not report tampering that is not there."""
    url, wf = base
    false_alarms: list[list[str]] = []
    runs = during = 0
    before = head(wf)[0]

    def verify_meanwhile(release: Callable[[], object]) -> None:
        """Verify again and again until the writers are done. How many verifies fit in their run depends on the
        machine; the first is sure to start while the chain is still growing: the writers start only once it has
        read the head."""
        nonlocal runs, during
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            growing = head(wf)[0] < before + total  # read, not digest(): a digest seals, a write of its own
            if runs == 0:
                release()
            report = wf.verify()
            runs += 1
            during += growing
            if not report.ok:
                false_alarms.append(report.problems)
            if not growing:
                break

    total = 2 * 3 * workers.EVENTS_PER_LIFE
    results = pool.run("walk_own_items", [(url, f"v{k}", 3, UNIT) for k in range(2)], barrier="pair+main",
                       expected=2, while_running=verify_meanwhile)
    assert all(r[2] == "ok" for r in results), results
    assert during >= 1, runs
    assert not false_alarms, f"{len(false_alarms)} of {runs} verifies during writes failed: {false_alarms[:3]}"
    assert_sound(wf, before + total)

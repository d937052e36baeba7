"""Time that cannot be rewritten: a chain's time never goes backwards, a clock far behind is refused, and a clock
set by hand writes only to a database made for simulation."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli_helpers import isolate, one_error_line, run
from tests.conftest import ADMIN, new_info, seed
from tests.tampering import Raw
from workflow import ClockBehind, SimulatedClock, Workflow
from workflow.config import Config, Ledger
from workflow.daemon import Daemon

T0 = datetime(2026, 10, 9, 1, 0, tzinfo=UTC)


@pytest.fixture
def now() -> list[datetime]:
    return [T0]


@pytest.fixture
def sim(db_url: str, now: list[datetime]) -> Iterator[Workflow]:
    wf = seed(Workflow(db_url, clock=lambda: now[0]))
    yield wf
    wf.close()


def test_a_clock_far_behind_the_chain_is_refused(sim: Workflow, now: list[datetime]) -> None:
    item = new_info(sim)
    now[0] = datetime(1800, 1, 1, tzinfo=UTC)
    with pytest.raises(ClockBehind, match=r"this computer's clock \(1800-01-01T00:00:00.000000\+00:00\) is "
                                          r"[\d,]+ s behind the last event of chain gov .*more than max_clock_skew "
                                          r"\(60 s\)"):
        sim.advance(item, "submit", actor="clerk")
    assert sim.item(item).version == 1


def test_a_clock_a_little_behind_records_the_chains_time(sim: Workflow, now: list[datetime]) -> None:
    """Two offices' clocks differ by seconds: the later signature takes the chain's time, never an earlier one."""
    item = new_info(sim)
    created = sim.history(item)[0].at
    now[0] = T0 - timedelta(seconds=59)
    sig = sim.advance(item, "submit", actor="clerk")
    assert sig.at == created
    assert sim.verify().ok


def test_max_clock_skew_comes_from_the_configuration(db_url: str, now: list[datetime]) -> None:
    wf = seed(Workflow(db_url, clock=lambda: now[0], config=Config(ledger=Ledger(max_clock_skew=0))))
    try:
        item = new_info(wf)
        now[0] = T0 - timedelta(microseconds=1)
        with pytest.raises(ClockBehind, match=r"max_clock_skew \(0 s\)"):
            wf.advance(item, "submit", actor="clerk")
    finally:
        wf.close()


def test_time_runs_per_chain(sim: Workflow, now: list[datetime]) -> None:
    """Another unit's chain has its own time: a unit whose last event is older is not held back by one that is
    newer."""
    sim.add_unit("fin", name="财政所", kind="station", by=ADMIN)
    sim.grant("clerk", "drafter", unit="fin", by=ADMIN)
    now[0] = T0 + timedelta(hours=1)
    new_info(sim)  # gov moves on an hour
    now[0] = T0 + timedelta(minutes=1)
    fin_item = new_info(sim, unit="fin")
    assert sim.history(fin_item)[0].at == T0 + timedelta(minutes=1)


def test_a_backdated_event_fails_verify(sim: Workflow) -> None:
    item = new_info(sim)
    sig = sim.advance(item, "submit", actor="clerk")
    r = Raw(sim.engine.url.render_as_string(hide_password=False))
    try:
        r.drop_guards()
        r.set_event(sig.seq, at="1800-01-01T00:00:00.000000+00:00")
        r.rewrite_from(sig.seq)
    finally:
        r.close()
    report = sim.verify()
    assert report.first_problem == (f"chain gov event {sig.seq}: its time 1800-01-01T00:00:00.000000+00:00 is before "
                                    f"the event before it ({sim.history(item)[0].at.isoformat(timespec='microseconds')}"
                                    "): a chain's time never goes backwards"), report.problems


# -- a clock set by hand: simulations only ------------------------------------------------------------------------


@pytest.fixture
def production(db_url: str) -> Iterator[str]:
    """A database made for real work (no simulation), with the plan's people."""
    wf = Workflow(db_url)
    wf.init(admin=ADMIN, name="党政办登记管理员")
    wf.add_unit("gov", name="平田乡人民政府", by=ADMIN)
    wf.add_person("clerk", name="clerk", unit="gov", roles=["drafter"], by=ADMIN)
    wf.close()
    yield db_url


def test_a_set_clock_does_not_write_to_a_production_database(production: str) -> None:
    wf = Workflow(production, clock=lambda: datetime(1800, 1, 1, tzinfo=UTC))
    try:
        with pytest.raises(SimulatedClock, match="this database is not a simulation"):
            new_info(wf)
        with pytest.raises(SimulatedClock):
            wf.add_person("x", name="X", by=ADMIN)
        with pytest.raises(SimulatedClock):
            wf.digest()
        with pytest.raises(SimulatedClock):
            Daemon(wf)
        assert wf.items() == [] and len(wf.people()) == 2 and wf.deadlines() == []  # reading is fine
        report = wf.verify()
        assert report.ok and not report.simulation
    finally:
        wf.close()


def test_a_set_clock_cannot_start_a_production_register(db_url: str) -> None:
    wf = Workflow(db_url, clock=lambda: T0)
    try:
        with pytest.raises(SimulatedClock, match="may start only a simulation"):
            wf.init(admin=ADMIN, name="x")
        wf.init(admin=ADMIN, name="x", simulation=True)
        report = wf.verify()
        assert report.ok and report.simulation  # an auditor is told: its times prove nothing
    finally:
        wf.close()


def test_the_simulation_flag_is_signed_in_the_registers_first_event(production: str) -> None:
    r = Raw(production)
    try:
        r.drop_guards()
        data = r.event(1, "_register")["data"]
        assert '"simulation":false' in data
        r.set_event(1, "_register", data=data.replace('"simulation":false', '"simulation":true'))
    finally:
        r.close()
    wf = Workflow(production)
    try:
        assert wf.verify().first_problem == "chain _register event 1: contents do not match its hash (event modified)"
    finally:
        wf.close()


def test_the_cli_refuses_zwgk_now_on_a_production_database_but_reads_with_it(
        production: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The red team's `ZWGK_NOW=1800-01-01T09:00:00+08:00 zwgk item new ...`."""
    isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("ZWGK_DATABASE_URL", production)
    monkeypatch.setenv("ZWGK_NOW", "1800-01-01T09:00:00+08:00")
    rc, out, err = run(capsys, "item", "new", "--title", "T", "--unit", "gov", "--category", "3.4", "--timing",
                       "periodic", "--kind", "info", "--as", "clerk")
    assert rc == 2 and out == ""
    assert one_error_line(err).startswith("this database is not a simulation")
    for argv in (["item", "list"], ["deadlines"], ["remind", "--dry-run"], ["verify"]):
        rc, _, err = run(capsys, *argv)
        assert (rc, err) == (0, ""), argv


def test_the_daemon_with_zwgk_now_refuses_to_start_on_a_production_database(production: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZWGK_") or k == "ZWGK_LANG"} | {
        "ZWGK_DATABASE_URL": production, "ZWGK_NOW": "2026-10-09T09:00:00+08:00"}
    done = subprocess.run([sys.executable, "-m", "scripts.zwgk", "daemon", "--once"], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("zwgk: this database is not a simulation"), done.stderr
    assert done.stderr.count("\n") == 1


def forge_clear(sim: Workflow, item: str, register_seq: int, at: str) -> int:
    """Append sec's clearance of `item` to gov's chain, well hashed and linked, its case row brought along."""
    last = sim.history(item)[-1]
    r = Raw(sim.engine.url.render_as_string(hide_password=False))
    try:
        r.drop_guards()
        forged = r.append_forged(action="clear", from_state="confidentiality_review", to_state="leader_check",
                                 actor="sec", role="confidentiality_reviewer", decision="full", comment=None,
                                 register_seq=register_seq, at=at, content_hash=last.content_hash)
        r.set_case(item, state="leader_check", version=5, roles="confidentiality_reviewer,drafter,proofreader",
                   signers='{"clear":"sec","create":"clerk","proofread":"proof","submit":"clerk"}')
    finally:
        r.close()
    return int(forged["seq"])


def test_a_signature_claiming_the_register_before_its_signer_was_deactivated_fails(sim: Workflow,
                                                                                     now: list[datetime]) -> None:
    """A unit's event names the register event it was decided under; one that names the register as it stood
    before its signer's deactivation, made well after it, is a forgery (only a signature racing the deactivation,
    within max_clock_skew, may)."""
    item = new_info(sim)
    sim.advance(item, "submit", actor="clerk")
    before = sim.advance(item, "proofread", actor="proof").register_seq
    now[0] = T0 + timedelta(minutes=5)
    sim.deactivate("sec", by=ADMIN)
    now[0] = T0 + timedelta(minutes=10)
    seq = forge_clear(sim, item, before, "2026-10-09T01:10:00.000000+00:00")
    assert sim.verify().first_problem == (
        f"chain gov event {seq}: decided under register event {before}, though register event "
        f"{before + 1} was made at 2026-10-09T01:05:00+00:00, more than max_clock_skew before it")


def test_a_head_whose_time_was_moved_fails_verify(sim: Workflow) -> None:
    """The head's time is what the next signature is held to: moved ahead it would freeze the unit, moved back
    it would let a clock run backwards."""
    new_info(sim)
    r = Raw(sim.engine.url.render_as_string(hide_password=False))
    try:
        seq, digest = r.head()
        r.set_head(seq, digest, at="2099-01-01T00:00:00.000000+00:00")
    finally:
        r.close()
    assert (sim.verify().first_problem or "").startswith("chain gov: its head's time 2099-01-01T00:00:00.000000+00:00 "
                                                         "is not its last event's")


@pytest.mark.parametrize("at", ["2099-01-01T00:00:00.000000+00:00", "2026-99-99T00:00:00.000000+00:00"])
def test_a_production_event_from_the_future_or_no_calendar_fails(production: str, at: str) -> None:
    wf = Workflow(production)
    try:
        r = Raw(production)
        try:
            r.drop_guards()
            forged = r.append_forged(comment="x", at=at)
        finally:
            r.close()
        problem = wf.verify().first_problem
        assert problem in (f"chain gov event {forged['seq']}: its time {at} is later than now: no clock of this "
                           "office could have written it",
                           f"chain gov event {forged['seq']}: its time {at!r} is not one the engine writes"), problem
    finally:
        wf.close()


def test_the_cli_plans_reminders_with_zwgk_now_only_on_a_simulation(
        production: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("ZWGK_DATABASE_URL", production)
    for argv in (["remind", "--now", "2027-06-01T09:00:00+08:00"], ["remind"]):
        if argv == ["remind"]:
            monkeypatch.setenv("ZWGK_NOW", "2027-06-01T09:00:00+08:00")
        rc, out, err = run(capsys, *argv)
        assert (rc, out) == (2, "") and one_error_line(err).startswith("this database is not a simulation"), argv
    assert run(capsys, "remind", "--dry-run")[0] == 0


def test_a_failed_start_of_a_simulation_leaves_the_clock_unable_to_write(production: str) -> None:
    wf = Workflow(production, clock=lambda: datetime(2030, 1, 1, tzinfo=UTC))
    try:
        with pytest.raises(Exception, match="the register is started already"):
            wf.init(admin="other", name="x", simulation=True)
        with pytest.raises(SimulatedClock):
            new_info(wf)
    finally:
        wf.close()


def test_a_signature_dated_before_the_register_event_it_claims_fails(sim: Workflow, now: list[datetime]) -> None:
    """Backdated behind a register event: a person added (or a role granted) later cannot have signed earlier."""
    item = new_info(sim)
    sim.advance(item, "submit", actor="clerk")
    sim.advance(item, "proofread", actor="proof")
    now[0] = T0 + timedelta(days=20)
    sim.add_person("nh", name="新来的", by=ADMIN)  # the register's last event, twenty days on
    register_seq = sim.digest().seq - 1  # (the digest seals the chains after it)
    seq = forge_clear(sim, item, register_seq, "2026-10-09T01:02:00.000000+00:00")
    assert sim.verify().first_problem == (
        f"chain gov event {seq}: dated 2026-10-09T01:02:00.000000+00:00, more than max_clock_skew before register "
        f"event {register_seq} (2026-10-29T01:00:00+00:00) that it was decided under (backdated)")


def test_a_signature_slipped_in_behind_a_seal_fails(sim: Workflow, now: list[datetime]) -> None:
    """Appended after a seal but dated before it: the seal found the chain shorter, so it came later. Nothing the
    seal names changes, so only the time can tell."""
    item = new_info(sim)
    sim.advance(item, "submit", actor="clerk")
    before = sim.advance(item, "proofread", actor="proof").register_seq
    now[0] = T0 + timedelta(minutes=30)
    seal = sim.digest()
    seq = forge_clear(sim, item, before, "2026-10-09T01:05:00.000000+00:00")
    assert sim.verify().first_problem == (
        f"chain gov event {seq}: dated 2026-10-09T01:05:00.000000+00:00, more than max_clock_skew before the seal "
        f"of register event {seal.seq} (2026-10-09T01:30:00+00:00) that found chain gov before it (backdated)")


def test_a_clock_far_behind_the_register_is_refused(sim: Workflow, now: list[datetime]) -> None:
    """What verify fails, advance refuses: a signature dated well before the register event it is decided under."""
    item = new_info(sim)
    now[0] = T0 + timedelta(hours=2)
    sim.add_person("nh", name="新来的", by=ADMIN)
    now[0] = T0 + timedelta(minutes=1)
    with pytest.raises(ClockBehind, match=r"behind the last event of chain _register"):
        sim.advance(item, "submit", actor="clerk")
    now[0] = T0 + timedelta(hours=2) - timedelta(seconds=30)  # within the skew: recorded at the register's time
    assert sim.advance(item, "submit", actor="clerk").at == T0 + timedelta(hours=2)
    assert sim.verify().ok

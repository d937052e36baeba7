"""A chain per unit under one register: units never wait for each other, linked events live in both chains,
seals record every chain in the register, and verify checks against them, whole or since a digest."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ADMIN, new_info, publish, seed, to_head_approval
from tests.tampering import Raw
from workflow import Digest, SchemaMissing, Workflow


@pytest.fixture
def two(db_url: str) -> Iterator[Workflow]:
    wf = seed(Workflow(db_url))
    wf.add_unit("fin", name="平田乡财政所", kind="station", by=ADMIN)
    for pid, roles in {"clerk": ["drafter", "publisher"], "proof": ["proofreader"],
                       "sec": ["confidentiality_reviewer"], "lead": ["leader"], "head": ["head"]}.items():
        for role in roles:
            wf.grant(pid, role, unit="fin", by=ADMIN)
    yield wf
    wf.close()


def raw(wf: Workflow) -> Raw:
    return Raw(wf.engine.url.render_as_string(hide_password=False))


# -- units do not wait for each other -------------------------------------------------------------------------


def test_a_signature_in_one_unit_does_not_wait_for_another_units_transaction(pg_url: str) -> None:
    """A unit's signature locks its own chain's head and reads the register unlocked: while gov's transaction
    (a signature and an admin's act on gov) is open, fin signs and commits."""
    wf = seed(Workflow(pg_url))
    try:
        wf.add_unit("fin", name="财政所", kind="station", by=ADMIN)
        wf.grant("clerk", "drafter", unit="fin", by=ADMIN)
        gov_item, fin_item = new_info(wf), new_info(wf, unit="fin")
        other = Workflow(pg_url)
        done: list[object] = []
        with wf.engine.connect() as conn, conn.begin():
            wf.advance(gov_item, "submit", actor="clerk", conn=conn)
            wf.grant("drafter2", "publisher", unit="gov", by=ADMIN, conn=conn)  # holds the register's head too
            worker = threading.Thread(target=lambda: done.append(other.advance(fin_item, "submit", actor="clerk")))
            worker.start()
            worker.join(30)
            assert not worker.is_alive() and len(done) == 1, "fin waited for gov's transaction"
        other.close()
        assert wf.verify().ok
    finally:
        wf.close()


def test_a_signature_in_the_same_unit_waits_and_then_sees_the_first(pg_url: str) -> None:
    wf = seed(Workflow(pg_url))
    try:
        item = new_info(wf)
        other = Workflow(pg_url)
        errors: list[Exception] = []
        started = threading.Event()

        def rival() -> None:
            started.set()
            try:
                other.advance(item, "submit", actor="clerk")
            except Exception as e:  # collected for the assertion below
                errors.append(e)

        with wf.engine.connect() as conn, conn.begin():
            wf.advance(item, "submit", actor="clerk", conn=conn)
            worker = threading.Thread(target=rival)
            worker.start()
            started.wait(10)
            worker.join(0.5)
            assert worker.is_alive(), "the rival did not wait for gov's head"
        worker.join(30)
        other.close()
        assert [type(e).__name__ for e in errors] == ["ActionNotAvailable"]
    finally:
        wf.close()


# -- events linking two units ---------------------------------------------------------------------------------


def test_an_interpretation_of_another_units_policy_is_written_to_both_chains(two: Workflow) -> None:
    policy = new_info(two, kind="policy", title="财政补助办法", unit="fin")
    reading = new_info(two, kind="interpretation", interprets=policy, title="解读")
    created = two.history(reading)[0]
    note = two.history(policy)[-1]
    assert (created.chain, note.chain, note.action, note.case_id) == ("gov", "fin", "link", policy)
    assert {k: v for k, v in created.data.items() if k != "screen"} == {"link": {"chain": "fin", "seq": note.seq},
                                                                         "year": 2026, "number": 1}
    assert note.data == {"link": {"chain": "gov", "seq": created.seq, "hash": created.hash}}
    assert two.item(policy).version == 2
    assert two.verify().ok
    publish(two, policy)
    publish(two, reading)
    assert two.item(policy).interpreted_by == (reading,)
    assert [d.status for d in two.deadlines(item=policy) if d.kind == "interpretation"] == ["met"]
    assert two.verify().ok


def test_a_link_cut_on_one_side_is_named(two: Workflow) -> None:
    policy = new_info(two, kind="policy", title="财政补助办法", unit="fin")
    reading = new_info(two, kind="interpretation", interprets=policy, title="解读")
    created, note = two.history(reading)[0], two.history(policy)[-1]
    r = raw(two)
    try:
        r.drop_guards()
        r.set_event(note.seq, "fin", data=note.data and '{"link":{"chain":"gov","hash":"' + "0" * 64 + '","seq":'
                    + str(created.seq) + "}}")
        r.rewrite_from(note.seq, "fin")
    finally:
        r.close()
    report = two.verify()
    assert report.problems == [f"chain fin event {note.seq}: its other copy (gov event {created.seq}) differs"]


def test_a_link_note_without_its_other_copy_is_named(two: Workflow) -> None:
    policy = new_info(two, kind="policy", title="财政补助办法", unit="fin")
    reading = new_info(two, kind="interpretation", interprets=policy, title="解读")
    created = two.history(reading)[0]
    r = raw(two)
    try:
        r.drop_guards()
        r.set_event(created.seq, "gov", data=None)
        r.rewrite_from(created.seq, "gov")
    finally:
        r.close()
    report = two.verify()
    assert report.problems == [f"chain fin event {two.history(policy)[-1].seq}: names event {created.seq} of chain "
                               "gov as its other copy, which does not name it back"]


# -- seals and digests ----------------------------------------------------------------------------------------


def test_a_seal_records_every_chain_and_is_not_repeated_while_nothing_moves(two: Workflow) -> None:
    first = two.digest()
    assert two.digest() == first  # nothing moved: no second seal
    seal = two.event("_register", first.seq)
    heads = {c: (s, h) for c, s, h in seal.data["chains"]}
    assert set(heads) == {"gov", "fin"}
    assert heads["gov"] == (two.history(new_info(two))[0].seq - 1, heads["gov"][1])
    second = two.digest()
    assert second.seq == first.seq + 1
    assert two.verify(against=first).ok and two.verify(against=second).ok


def test_a_unit_of_the_register_without_a_chain_fails(two: Workflow) -> None:
    r = raw(two)
    try:
        r.drop_guards()
        r.run("DELETE FROM zwgk_adopted WHERE unit_id = 'fin'")
        r.run("DELETE FROM zwgk_role WHERE chain = 'fin'")
        r.delete_events("chain = 'fin'")
        r.run("DELETE FROM zwgk_chain WHERE chain = 'fin'")
    finally:
        r.close()
    assert two.verify().first_problem == "unit fin of the register has no chain (its events and head were deleted)"


def test_a_chain_of_no_unit_fails(two: Workflow) -> None:
    r = raw(two)
    try:
        r.run("INSERT INTO zwgk_chain VALUES ('shadow', 0, :h, '')", h="0" * 64)
    finally:
        r.close()
    assert two.verify().first_problem == ("chain shadow belongs to no unit of the register (made behind the engine's "
                                          "back)")


# -- verify since a digest ----------------------------------------------------------------------------------------


def test_verify_since_checks_only_what_came_after(two: Workflow) -> None:
    item = new_info(two)
    to_head_approval(two, item)
    kept = two.digest()
    two.advance(item, "approve", actor="head")
    fin_item = new_info(two, unit="fin")
    two.add_unit("civil", name="民政所", kind="station", by=ADMIN)
    report = two.verify(since=kept)
    assert report.ok, report.problems
    # gov's approve, fin's creation, and civil: added in the register, its chain opened, its pipeline adopted
    assert (report.since, report.events, report.cases) == (kept, 5, 2)
    assert two.history(fin_item)[0].seq > 0


def test_verify_since_catches_what_changed_after_the_digest(two: Workflow) -> None:
    item = new_info(two)
    to_head_approval(two, item)
    kept = two.digest()
    sig = two.advance(item, "approve", actor="head")
    r = raw(two)
    try:
        r.drop_guards()
        r.set_event(sig.seq, actor="lead")
    finally:
        r.close()
    assert two.verify(since=kept).first_problem == (f"chain gov event {sig.seq}: contents do not match its hash "
                                                    "(event modified)")


def test_verify_since_judges_new_steps_by_the_earlier_events_of_their_case(two: Workflow) -> None:
    """The round's signers before the digest still forbid a second signature by the same person after it."""
    item = new_info(two)
    two.advance(item, "submit", actor="clerk")
    two.advance(item, "proofread", actor="proof")
    two.advance(item, "clear", actor="sec", decision="full")
    kept = two.digest()
    cleared = two.history(item)[-1]
    two.grant("sec", "leader", unit="gov", by=ADMIN)
    r = raw(two)
    try:
        r.drop_guards()
        forged = r.append_forged(case_kind="item", case_id=item, round=1, action="check", from_state="leader_check",
                                 to_state="head_approval", actor="sec", role="leader", decision=None, comment=None,
                                 data=None, pipeline=cleared.pipeline, content_hash=cleared.content_hash)
    finally:
        r.close()
    assert two.verify(since=kept).first_problem == (
        f"chain gov event {forged['seq']}: item {item} (leader_check (分管领导把关), round 1): sec signed clear (审核) "
        "in this round and may not also sign check (把关) (a signature the rules would have refused)")


def test_verify_since_a_digest_that_is_not_in_the_register_fails(two: Workflow) -> None:
    kept = two.digest()
    report = two.verify(since=Digest(kept.seq, "0" * 64))
    assert report.problems == [f"digest {kept.seq}:{'0' * 64}: the register's event {kept.seq} is not the one the "
                               "digest names (the log was rewritten)"]
    beyond = Digest(kept.seq + 100, kept.hash)
    assert two.verify(since=beyond).problems == [f"digest {beyond}: the register has no event {beyond.seq} (events "
                                                 "deleted from its end, or a digest of another database)"]


def test_verify_since_fails_when_a_chain_was_rewritten_before_the_seal(two: Workflow) -> None:
    item = new_info(two)
    kept = two.digest()
    r = raw(two)
    try:
        r.drop_guards()
        last = r.tail()[0]
        r.set_event(last, comment="改过")
        r.rewrite_from(last)
    finally:
        r.close()
    report = two.verify(since=kept)
    assert report.problems == [f"chain gov: event {last} is not the one the seal up to digest {kept} names (the log "
                               "was rewritten)"]
    assert item



def test_verify_since_holds_the_earlier_events_it_folds_to_their_hashes(two: Workflow) -> None:
    """The earlier acts and case events a recheck folds are not rechecked by the rules, but an edit of one in place
    (a role granted turned into the head's) is still an edit: it no longer hashes as it did (red team, round 2)."""
    kept = two.digest()
    item = new_info(two)
    r = raw(two)
    try:
        r.drop_guards()
        grant = r.rows("SELECT seq, data FROM zwgk_event WHERE chain = 'gov' AND action = 'grant' AND data LIKE "
                       "'%publisher%' ORDER BY seq")[0]
        r.set_event(grant[0], data=grant[1].replace("publisher", "head"))
        created = r.rows("SELECT seq FROM zwgk_event WHERE case_id = :i", i=item)[0][0]
    finally:
        r.close()
    assert created > grant[0]
    assert two.verify(since=kept).problems == [f"chain gov event {grant[0]}: contents do not match its hash (event "
                                               "modified)"]


# -- the schema --------------------------------------------------------------------------------------------------


def test_a_database_of_zwgk_0_1_is_refused_in_one_line(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    with engine.begin() as c:
        c.execute(text("CREATE TABLE zwgk_alembic_version (version_num VARCHAR(32) NOT NULL)"))
        c.execute(text("INSERT INTO zwgk_alembic_version VALUES ('0004')"))
    engine.dispose()
    wf = Workflow(sqlite_url)
    try:
        with pytest.raises(SchemaMissing, match=r"made by zwgk 0.1 \(revision 0004\), which 0.2 does not upgrade"):
            wf.init()
    finally:
        wf.close()


def test_verify_since_reads_the_acts_on_their_own_index(db_url: str) -> None:
    """`--since` folds every act of authority before the digest: through the acts' partial index, not a scan of
    each chain's events, so its time follows the new events, not the size of the log."""
    from states.authority import AUTHORITY_KINDS
    from workflow.schema import ACTS_ONLY
    from workflow.sql import statements

    assert "case_kind IN (" + ", ".join(repr(k) for k in AUTHORITY_KINDS) + ")" == ACTS_ONLY
    assert ACTS_ONLY in statements("sqlite").texts["acts_before"]
    wf = seed(Workflow(db_url))
    try:
        for _ in range(20):
            new_info(wf)
        with wf.engine.begin() as c:
            if db_url.startswith("sqlite"):
                c.exec_driver_sql("ANALYZE")
                sql = statements("sqlite").texts["acts_before"].replace(":chain", "'gov'").replace(":upto", "30")
                plan = " ".join(r[3] for r in c.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            else:
                c.exec_driver_sql("SET enable_seqscan = off")
                sql = statements("postgresql").texts["acts_before"].replace(":chain", "'gov'").replace(":upto", "30")
                plan = " ".join(r[0] for r in c.exec_driver_sql(f"EXPLAIN {sql}"))
        assert "ix_zwgk_event_acts" in plan, plan
    finally:
        wf.close()

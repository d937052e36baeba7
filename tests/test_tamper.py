"""Tampering with the chains behind the engine's back, and what `verify` makes of it.

SQLite is tampered with through the stdlib `sqlite3` module on the same file; PostgreSQL through a plain
SQLAlchemy connection to the same schema. The append-only triggers are dropped first where needed. The events
tampered with are those of unit gov's chain unless a test says otherwise.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from scripts import zwgk
from tests.cli_helpers import SIMULATION
from tests.conftest import new_info, publish, seed, to_head_approval
from tests.tampering import Raw, Setup, build, copy_sqlite
from workflow import Digest, Workflow
from workflow.ledger.events import FIELDS, event_hash

REFUSED = (sqlite3.DatabaseError, DBAPIError)
MODIFIED = "contents do not match its hash (event modified)"
LINK = "previous-hash link broken (event deleted, inserted or reordered)"
GAP = "(missing or reordered events)"


def at(seq: int, chain: str = "gov") -> str:
    return f"chain {chain} event {seq}"


def fails_with(wf: Workflow, first: str, against: Digest | None = None, *, prefix: bool = False) -> None:
    """verify() is not ok and its first problem is `first` (or starts with it)."""
    report = wf.verify(against)
    assert not report.ok
    got = report.first_problem or ""
    assert got.startswith(first) if prefix else got == first, report.problems


# -- the database itself refuses -------------------------------------------------------------------------


REFUSED_SQL = [
    "UPDATE zwgk_event SET actor = 'multi' WHERE chain = 'gov' AND seq = 22",
    "UPDATE zwgk_event SET hash = prev_hash",
    "DELETE FROM zwgk_event WHERE chain = 'gov' AND seq = 22",
    "DELETE FROM zwgk_event",
]


def test_event_table_refuses_update_and_delete(built: Setup) -> None:
    before = built.raw.rows("SELECT * FROM zwgk_event ORDER BY chain, seq")
    for sql in REFUSED_SQL:
        verb = sql.split()[0]
        with pytest.raises(REFUSED, match=f"zwgk_event is append-only: {verb} refused"):
            built.raw.run(sql)
        assert built.raw.rows("SELECT * FROM zwgk_event ORDER BY chain, seq") == before, sql
    assert built.raw.event(22)["actor"] == "lead"
    assert built.wf.verify().ok


def test_pipeline_definitions_refuse_update_and_delete(built: Setup) -> None:
    for sql in ("UPDATE zwgk_pipeline SET definition = '{}'", "DELETE FROM zwgk_pipeline"):
        with pytest.raises(REFUSED, match=f"zwgk_pipeline is append-only: {sql.split()[0]} refused"):
            built.raw.run(sql)


def test_event_table_refuses_truncate_on_postgresql(pg_url: str) -> None:
    wf = seed(Workflow(pg_url))
    try:
        build(wf)
        raw = Raw(pg_url)
        try:
            with pytest.raises(DBAPIError, match="zwgk_event is append-only: TRUNCATE refused"):
                raw.run("TRUNCATE zwgk_event")
            assert raw.rows("SELECT count(*) FROM zwgk_event WHERE chain = 'gov'") == [(36,)]
        finally:
            raw.close()
        assert wf.verify().ok
    finally:
        wf.close()


def test_the_engine_connection_is_refused_too(built: Setup) -> None:
    """Not just a side door: the engine's own connection cannot rewrite the log either."""
    with pytest.raises(DBAPIError, match="append-only"), built.wf.engine.begin() as c:
        c.exec_driver_sql("UPDATE zwgk_event SET comment = 'x' WHERE seq = 1")
    assert built.raw.event(1)["comment"] is None


# -- modified events -------------------------------------------------------------------------------------


CHANGES = [
    ("actor", "multi"),
    ("reason", "另一个理由"),
    ("at", "2020-01-01T00:00:00.000000+00:00"),
    ("to_state", "published"),
    ("from_state", "draft"),
    ("action", "clear"),
    ("case_id", "A"),
    ("case_kind", "request"),
    ("round", 2),
    ("ground", "art14"),
    ("comment", "伪造的备注"),
    ("comment", 'tab\t"quote" \\ \u0001 é </script> \u2028'),
    ("reason", None),
    ("ground", None),
    ("decision", "full"),
    ("role", "head"),
    ("recorded_by", "clerk"),
    ("operator", "someone@elsewhere"),
    ("register_seq", 1),
    ("pipeline", "0" * 64),
    ("content_hash", "0" * 64),
    ("data", '{"link":{"chain":"gov","seq":1}}'),
    ("hash", "f" * 64),
]


def test_modified_middle_event(tampered: Setup) -> None:
    """Each field in turn is changed, caught at that event, and put back (after which all is well again)."""
    raw, seq = tampered.raw, tampered.seqs["C", "withhold"]
    original = raw.event(seq)
    for field, value in CHANGES:
        assert original[field] != value, field
        raw.set_event(seq, **{field: value})
        report = tampered.wf.verify()
        assert report.first_problem == f"{at(seq)}: {MODIFIED}", (field, report.problems)
        raw.set_event(seq, **{field: original[field]})
        assert tampered.wf.verify().ok, field


def test_modified_register_event(tampered: Setup) -> None:
    raw = tampered.raw
    raw.set_event(3, "_register", data='{"name":"别人","unit":"gov"}')
    fails_with(tampered.wf, f"{at(3, '_register')}: {MODIFIED}")


def test_modified_prev_hash(tampered: Setup) -> None:
    seq = tampered.seqs["A", "check"]
    tampered.raw.set_event(seq, prev_hash=tampered.raw.event(seq - 2)["hash"])
    fails_with(tampered.wf, f"{at(seq)}: {LINK}")


def test_modified_and_rehashed_breaks_the_next_link(tampered: Setup) -> None:
    raw, seq = tampered.raw, tampered.seqs["A", "clear"]
    original = raw.event(seq)
    for field, value in [("actor", "multi"), ("decision", "partial"), ("at", "2026-01-01"), ("content_hash", "1" * 64),
                         ("operator", "forger@host")]:
        raw.set_event(seq, **{field: value})
        raw.rehash(seq)
        report = tampered.wf.verify()
        if field == "decision":  # a partial clearance without a reason: the rules see it first
            assert report.first_problem == (f"{at(seq)}: item A (confidentiality_review (保密审查), round 1): clear "
                                            "(审核) by sec needs a reason (a signature the rules would have refused)"
                                            ), report.problems
        elif field == "at":
            assert report.first_problem == f"{at(seq)}: its time '2026-01-01' is not one the engine writes"
        elif field == "content_hash":  # a step signs the content in force
            assert (report.first_problem or "").startswith(f"{at(seq)}: records clear of item A"), report.problems
        else:
            assert report.first_problem == f"{at(seq + 1)}: {LINK}", (field, report.problems)
        raw.set_event(seq, **{field: original[field]})
        assert raw.rehash(seq) == original["hash"]
    assert tampered.wf.verify().ok


def test_last_event_modified_and_rehashed_disagrees_with_the_head(tampered: Setup) -> None:
    last = tampered.raw.tail()[0]
    tampered.raw.set_event(last, actor="multi")
    tampered.raw.rehash(last)
    fails_with(tampered.wf, f"chain gov: its head says event {last} but the chain ends at event {last} "
                            "(events deleted from the end, or the head was altered)")


def swap_the_checker(tampered: Setup) -> None:
    """Another leader put in as the signer of A's check, every later link and hash recomputed, the head moved
    and the case row made to agree: a consistent forgery of unit gov's chain."""
    seq = tampered.seqs["A", "check"]
    tampered.raw.set_event(seq, actor="multi")
    tampered.raw.rewrite_from(seq)
    signers = tampered.raw.rows("SELECT signers FROM zwgk_case WHERE id = 'A'")[0][0]
    tampered.raw.set_case("A", signers=signers.replace('"check":"lead"', '"check":"multi"'))


def test_full_rewrite_of_a_chain_is_caught_by_the_registers_seal(tampered: Setup) -> None:
    tampered.wf.digest()
    swap_the_checker(tampered)
    last = tampered.raw.tail()[0]
    fails_with(tampered.wf, f"chain gov: event {last} differs from what a seal of the register names (rewritten)")


def test_full_rewrite_of_chain_and_register_is_caught_only_by_a_digest_kept_elsewhere(tampered: Setup) -> None:
    """An owner who rewrites a unit's chain and then the register's seal consistently fools verify; the root
    digest a witness kept does not."""
    raw, wf = tampered.raw, tampered.wf
    kept = wf.digest()
    swap_the_checker(tampered)
    seq, digest = raw.tail()
    seal = raw.event(kept.seq, "_register")["data"]
    sealed = re.sub(r'\["gov",\d+,"[0-9a-f]{64}"\]', f'["gov",{seq},"{digest}"]', seal)
    raw.set_event(kept.seq, "_register", data=sealed)
    raw.rewrite_from(kept.seq, "_register")
    assert wf.verify().ok  # consistent on its own
    fails_with(wf, f"digest {kept}: the register's event {kept.seq} differs from it (the log was rewritten)",
               against=kept)


def test_full_rewrite_that_changes_a_state_is_caught_by_the_rules(tampered: Setup) -> None:
    seq = tampered.seqs["C", "withhold"]
    tampered.raw.set_event(seq, to_state="published", action="publish")
    tampered.raw.rewrite_from(seq)
    fails_with(tampered.wf, f"{at(seq)}: item C is in state confidentiality_review (保密审查); sec cannot 'publish' "
                            "there (possible: proofread, clear, withhold, override, return) (a signature the rules "
                            "would have refused)")


def test_full_rewrite_that_breaks_an_items_sequence_is_caught_by_the_rules(tampered: Setup) -> None:
    seq = tampered.seqs["A", "proofread"]
    tampered.raw.set_event(seq, to_state="leader_check")
    tampered.raw.rewrite_from(seq)
    fails_with(tampered.wf, f"{at(seq)}: records proofread of item A as round 1, confidentiality_review -> "
                            "leader_check signed as proofreader, where the rules make it round 1, "
                            "confidentiality_review -> confidentiality_review signed as proofreader, on the content "
                            "in force")


# -- inserted, deleted and reordered events --------------------------------------------------------------


def forged(raw: Raw, seq: int, prev_hash: str, **changes: Any) -> dict[str, Any]:
    """A well-formed event copied from B's 'check', with a correct link and its own correct hash."""
    row = raw.event(28) | {"seq": seq, "prev_hash": prev_hash, "at": "2026-12-31T23:59:00.000000+00:00"} | changes
    row["hash"] = event_hash(tuple(row[f] for f in FIELDS))
    return row


def test_forged_event_appended_without_moving_the_head(tampered: Setup) -> None:
    raw = tampered.raw
    seq, h = raw.tail()
    raw.insert_event(**forged(raw, seq + 1, h, action="publish", from_state="head_approval",
                              to_state="published", actor="clerk", role="publisher"))
    fails_with(tampered.wf, f"chain gov: its head says event {seq} but the chain ends at event {seq + 1} "
                            "(events deleted from the end, or the head was altered)")


def test_forged_event_appended_with_the_head_moved(tampered: Setup) -> None:
    raw = tampered.raw
    seq, h = raw.tail()
    row = forged(raw, seq + 1, h, action="publish", from_state="head_approval", to_state="published",
                 actor="clerk", role="publisher")
    raw.insert_event(**row)
    raw.set_head(seq + 1, row["hash"])
    fails_with(tampered.wf, "item B: state head_approval round 1 disagrees with its signatures "
                            "(they give published round 1)")


def forge_next(tampered: Setup, item_id: str, action: str, to_state: str, actor: str, role: str) -> int:
    """Append a well-hashed step for `item_id` and bring its case row and the chain head along: only the rules
    can tell that it should never have been signed."""
    raw = tampered.raw
    last = raw.rows("SELECT seq, to_state, round, content_hash FROM zwgk_event WHERE case_id = :i "
                    "ORDER BY seq DESC", i=item_id)[0]
    seq, prev = raw.tail()
    row = forged(raw, seq + 1, prev, case_id=item_id, action=action, from_state=last[1], to_state=to_state,
                 round=last[2], actor=actor, role=role, content_hash=last[3], decision=None, reason=None,
                 ground=None, comment=None, recorded_by=None, paper_sha256=None)
    raw.insert_event(**row)
    raw.set_head(seq + 1, row["hash"], at=row["at"])
    version = raw.rows("SELECT version FROM zwgk_case WHERE id = :i", i=item_id)[0][0]
    raw.set_case(item_id, state=to_state, version=version + 1)
    return seq + 1


def test_forged_publish_without_the_heads_approval_is_caught_by_the_rules(tampered: Setup) -> None:
    new_info(tampered.wf, id="E", title="伪造的发布")
    to_head_approval(tampered.wf, "E")
    seq = forge_next(tampered, "E", "publish", "published", "clerk", "publisher")
    fails_with(tampered.wf, f"{at(seq)}: item E (head_approval (主要领导同意), round 1): clerk cannot sign publish "
                            "(发布) yet: it needs approve (同意) signed first in this round (a signature the rules "
                            "would have refused)")


def test_forged_check_by_the_drafter_is_caught_by_the_separation_of_duties(tampered: Setup) -> None:
    wf = tampered.wf
    new_info(wf, id="E", title="自己把关")
    for action, actor, extra in (("submit", "clerk", {}), ("proofread", "proof", {}),
                                 ("clear", "sec", {"decision": "full"})):
        wf.advance("E", action, actor=actor, **extra)
    tampered.raw.run("INSERT INTO zwgk_role VALUES ('gov', 'clerk', 'leader')")  # the forger grants it too
    seq = forge_next(tampered, "E", "check", "head_approval", "clerk", "leader")
    fails_with(tampered.wf, f"{at(seq)}: item E (leader_check (分管领导把关), round 1): clerk does not hold the role "
                            "leader (分管领导) needed to check (把关) (a signature the rules would have refused)")


def test_a_forged_signer_who_is_nobody_is_caught(tampered: Setup) -> None:
    new_info(tampered.wf, id="E", title="无名氏")
    to_head_approval(tampered.wf, "E")
    seq = forge_next(tampered, "E", "approve", "head_approval", "ghost", "head")
    fails_with(tampered.wf, f"{at(seq)}: item E: ghost is not an active person of the register, so cannot "
                            "sign approve (a signature the rules would have refused)")


def test_a_signature_under_a_pipeline_nobody_adopted_fails(tampered: Setup) -> None:
    """Not counted aside as before: a signature whose pipeline the chain never adopted cannot be judged."""
    raw = tampered.raw
    new_info(tampered.wf, id="E", title="旧版流程")
    to_head_approval(tampered.wf, "E")
    seq = forge_next(tampered, "E", "publish", "published", "clerk", "publisher")
    raw.set_event(seq, pipeline="ab" * 32)
    raw.set_head(seq, raw.rehash(seq))
    fails_with(tampered.wf, f"{at(seq)}: signed under pipeline abababababab, not the one unit gov had adopted for "
                            "items then")


def test_forged_event_appended_out_of_turn(tampered: Setup) -> None:
    raw = tampered.raw
    seq, h = raw.tail()
    row = forged(raw, seq + 1, h, case_id="C", from_state="draft", to_state="withheld")
    raw.insert_event(**row)
    raw.set_head(seq + 1, row["hash"])
    fails_with(tampered.wf, f"{at(seq + 1)}: item C is in state withheld (不予公开); lead cannot 'check' there "
                            "(possible: confirm, reopen) (a signature the rules would have refused)")


def test_forged_event_for_an_item_without_a_creation(tampered: Setup) -> None:
    raw = tampered.raw
    seq, h = raw.tail()
    row = forged(raw, seq + 1, h, case_id="X", from_state="head_approval", to_state="published")
    raw.insert_event(**row)
    raw.set_head(seq + 1, row["hash"])
    fails_with(tampered.wf, f"{at(seq + 1)}: item X has not been created, so lead cannot check it (a signature the "
                            "rules would have refused)")


def test_forged_event_inserted_in_the_middle(tampered: Setup) -> None:
    raw = tampered.raw
    # make room after event 26 (unique seq: move the tail out of the way and back, one past)
    raw.run("UPDATE zwgk_event SET seq = seq + 1000 WHERE chain = 'gov' AND seq >= 27")
    raw.run("UPDATE zwgk_event SET seq = seq - 999 WHERE chain = 'gov' AND seq >= 1000")
    row = forged(raw, 27, raw.event(26)["hash"], action="comment", to_state="leader_check",
                 at=raw.event(26)["at"])
    raw.insert_event(**row)
    raw.set_head(*raw.tail())
    fails_with(tampered.wf, f"{at(27)}: item B is in state confidentiality_review (保密审查); sec cannot 'comment' "
                            "there (possible: proofread, clear, withhold, override, return) (a signature the rules "
                            "would have refused)")


def test_deleted_middle_event(tampered: Setup) -> None:
    seq = tampered.seqs["B", "proofread"]
    assert tampered.raw.delete_events("chain = 'gov' AND seq = :s", s=seq) == 1
    fails_with(tampered.wf, f"chain gov: sequence jumps from {seq - 1} to {seq + 1} {GAP}")


def test_deleted_first_event(tampered: Setup) -> None:
    assert tampered.raw.delete_events("chain = 'gov' AND seq = 1") == 1
    fails_with(tampered.wf, f"chain gov: sequence jumps from 0 to 2 {GAP}")


def test_deleted_last_event_is_caught_by_the_head(tampered: Setup) -> None:
    last = tampered.raw.tail()[0]
    assert tampered.raw.delete_events("chain = 'gov' AND seq = :s", s=last) == 1
    fails_with(tampered.wf, f"chain gov: its head says event {last} but the chain ends at event {last - 1} "
                            "(events deleted from the end, or the head was altered)")


def test_deleted_last_event_with_the_head_rewound_is_caught_by_the_seal(tampered: Setup) -> None:
    kept = tampered.wf.digest()
    last = tampered.raw.tail()[0]
    assert tampered.raw.delete_events("chain = 'gov' AND seq = :s", s=last) == 1  # B's approval: no state change
    tampered.raw.set_head(*tampered.raw.tail())
    fails_with(tampered.wf, "item B: version 6 but 5 events (one per version)")
    tampered.raw.set_case("B", version=5, signers='{"check":"lead","clear":"sec","create":"clerk",'
                                                  '"proofread":"proof","submit":"clerk"}',
                          roles="confidentiality_reviewer,drafter,leader,proofreader")
    fails_with(tampered.wf, f"chain gov ends at event {last - 1}, before event {last} that a seal of the register "
                            "names (events deleted from the end)")
    fails_with(tampered.wf, f"chain gov ends at event {last - 1}, before event {last} that a seal of the register "
                            "names (events deleted from the end)", against=kept)


def test_swapped_events(tampered: Setup) -> None:
    raw = tampered.raw
    a, b = tampered.seqs["A", "proofread"], tampered.seqs["A", "clear"]
    assert b == a + 1
    raw.run("UPDATE zwgk_event SET seq = -1 WHERE chain = 'gov' AND seq = :a", a=a)
    raw.run("UPDATE zwgk_event SET seq = :a WHERE chain = 'gov' AND seq = :b", a=a, b=b)
    raw.run("UPDATE zwgk_event SET seq = :b WHERE chain = 'gov' AND seq = -1", b=b)
    assert raw.event(a)["action"] == "clear"
    fails_with(tampered.wf, f"{at(a)}: {LINK}")


def test_events_moved_to_another_chain(tampered: Setup) -> None:
    """A unit's event copied into another unit's chain, relinked: judged there by that unit's roles."""
    wf, raw = tampered.wf, tampered.raw
    wf.add_unit("fin", name="财政所", kind="station", by="admin")
    seq = tampered.seqs["A", "create"]
    row = raw.event(seq) | {"chain": "fin"}
    fin_seq, fin_hash = raw.tail("fin")
    row |= {"seq": fin_seq + 1, "prev_hash": fin_hash, "at": "2099-01-01T00:00:00.000000+00:00",
            "register_seq": raw.head("_register")[0]}
    row["hash"] = event_hash(tuple(row[f] for f in FIELDS))
    raw.insert_event(**row)
    raw.set_head(fin_seq + 1, row["hash"], "fin", at=row["at"])
    fails_with(tampered.wf, f"chain fin event {fin_seq + 1}: item A: clerk does not hold the role drafter needed to "
                            "create it (a signature the rules would have refused)")


def test_deleted_whole_item_in_the_middle(tampered: Setup) -> None:
    raw = tampered.raw
    assert raw.delete_events("case_id = 'C'") == 3
    raw.run("DELETE FROM zwgk_deadline WHERE item_id = 'C'")  # deleting an item takes its deadlines along
    assert raw.run("DELETE FROM zwgk_item WHERE id = 'C'") == 1
    assert raw.run("DELETE FROM zwgk_case WHERE id = 'C'") == 1
    first = tampered.seqs["C", "create"]
    fails_with(tampered.wf, f"chain gov: sequence jumps from {first - 1} to {first + 3} {GAP}")


def test_deleted_whole_item_at_the_end_with_the_head_fixed_is_caught_by_the_seal(tampered: Setup) -> None:
    wf, raw = tampered.wf, tampered.raw
    new_info(wf, id="E", title="最后一项")
    wf.advance("E", "submit", actor="clerk")
    kept = wf.digest()
    assert raw.delete_events("case_id = 'E'") == 2
    raw.run("DELETE FROM zwgk_deadline WHERE item_id = 'E'")
    assert raw.run("DELETE FROM zwgk_item WHERE id = 'E'") == 1
    assert raw.run("DELETE FROM zwgk_case WHERE id = 'E'") == 1
    raw.set_head(*raw.tail())
    last = raw.tail()[0]
    fails_with(wf, f"chain gov ends at event {last}, before event {last + 2} that a seal of the register names "
                   "(events deleted from the end)", against=kept)


def test_deleted_history_of_an_item_that_remains(tampered: Setup) -> None:
    wf, raw = tampered.wf, tampered.raw
    new_info(wf, id="E", title="最后一项")
    assert raw.delete_events("case_id = 'E'") == 1
    raw.set_head(*raw.tail())
    fails_with(wf, "item E: has no events in the chain of unit gov (its history was deleted)")


def test_deleted_case_whose_events_remain(tampered: Setup) -> None:
    raw = tampered.raw
    raw.run("DELETE FROM zwgk_deadline WHERE item_id = 'C'")
    assert raw.run("DELETE FROM zwgk_item WHERE id = 'C'") == 1
    assert raw.run("DELETE FROM zwgk_case WHERE id = 'C'") == 1
    fails_with(tampered.wf, "item C: has events in the chain of unit gov but its row is gone (deleted)")


def test_event_field_overwritten_with_a_blob_is_reported_not_crashed_on(sqlite_url: str,
                                                                       lite_template: tuple[Path, Any]) -> None:
    """SQLite lets a forger store a BLOB in any column; verify must still name the event, not fail on it."""
    copy_sqlite(lite_template[0], Path(str(make_url(sqlite_url).database)))
    raw = Raw(sqlite_url)
    raw.drop_guards()
    raw.set_event(21, actor=b"sec")
    raw.close()
    with Workflow(sqlite_url) as wf:
        report = wf.verify()
    assert report.first_problem == f"{at(21)}: holds a value no event is made of (event modified)", report.problems


@pytest.mark.parametrize("column", ["comment", "actor"])
def test_event_field_overwritten_with_bytes_that_are_not_utf8_is_reported(sqlite_url: str,
                                                                         lite_template: tuple[Path, Any],
                                                                         column: str) -> None:
    """Text that is not UTF-8 cannot even be read back by Python's sqlite3: verify must name the event."""
    copy_sqlite(lite_template[0], Path(str(make_url(sqlite_url).database)))
    raw = Raw(sqlite_url)
    raw.drop_guards()
    raw.run(f"UPDATE zwgk_event SET {column} = CAST(X'C3FF' AS TEXT) WHERE chain = 'gov' AND seq = 21")
    raw.close()
    with Workflow(sqlite_url) as wf:
        report = wf.verify()
    assert report.first_problem == f"{at(21)}: holds a value no event is made of (event modified)", report.problems


# -- cases and tables that disagree with the chains ----------------------------------------------------------


def test_item_state_changed(tampered: Setup) -> None:
    tampered.raw.set_case("B", state="published")
    fails_with(tampered.wf, "item B: state published round 1 disagrees with its signatures "
                            "(they give head_approval round 1)")


def test_item_round_changed(tampered: Setup) -> None:
    tampered.raw.set_case("D", round=1)
    fails_with(tampered.wf, "item D: state draft round 1 disagrees with its signatures (they give draft round 2)")


def test_item_version_changed(tampered: Setup) -> None:
    """The version counts the item's events: a rewritten version would defeat the stale-read check."""
    tampered.raw.set_case("C", version=2)
    fails_with(tampered.wf, "item C: version 2 but 3 events (one per version)")


def test_item_drafter_changed(tampered: Setup) -> None:
    """谁起草、谁解读: whoever signed the creation is the drafter; moving the duty to someone else shows."""
    tampered.raw.set_case("A", drafter="multi")
    fails_with(tampered.wf, "item A: drafter multi but its events make it clerk's")


def test_round_signers_forged_to_let_a_signature_through(tampered: Setup) -> None:
    """The engine decides on the round's signers its table holds: a forged entry is caught even before anyone
    signs on it."""
    tampered.raw.set_case("B", signers='{"approve":"head"}')
    fails_with(tampered.wf, "item B: its row's round signers or content hash disagree with its signatures")


def test_published_content_changed(tampered: Setup) -> None:
    raw = tampered.raw
    original = raw.rows("SELECT body, title, tags, formed_on, category FROM zwgk_item WHERE id = 'A'")[0]
    for column, value, was in zip(["body", "title", "tags", "formed_on", "category"],
                                  ["收入……（已改）", "2026年第三季度财务收支（修订）", '["result", "service"]',
                                   "2026-10-09", "3.3"], original, strict=True):
        raw.set_item("A", **{column: value})
        assert tampered.wf.item("A").state == "published"
        report = tampered.wf.verify()
        assert report.first_problem == "item A: content differs from what was last signed", (column, report.problems)
        raw.set_item("A", **{column: was})
        assert tampered.wf.verify().ok, column


def test_edited_draft_content_changed_after_the_edit(tampered: Setup) -> None:
    tampered.raw.set_item("D", body="不是签过的那一稿")
    fails_with(tampered.wf, "item D: content differs from what was last signed")


@pytest.mark.parametrize(("column", "value"), [("tags", "not json"), ("formed_on", "10月8日")])
def test_garbled_item_row_is_reported_not_crashed_on(tampered: Setup, column: str, value: str) -> None:
    """A tamperer who writes junk into a signed column must get a report naming the item, not a traceback."""
    tampered.raw.set_item("A", **{column: value})
    fails_with(tampered.wf, "item A: content differs from what was last signed")


@pytest.mark.parametrize(("sql", "problem"), [
    ("UPDATE zwgk_person SET active = false WHERE id = 'lead'",
     "person lead: the table says lead, unit gov, inactive; the register's events say otherwise"),
    ("INSERT INTO zwgk_role VALUES ('gov', 'clerk', 'head')", "role head of clerk in gov: granted by no event"),
    ("DELETE FROM zwgk_role WHERE chain = 'gov' AND person_id = 'head'",
     "role head of head in gov: granted but gone from the table"),
    ("INSERT INTO zwgk_role VALUES ('_register', 'clerk', 'admin')", "role admin of clerk in _register: granted by no "
                                                                     "event"),
    ("UPDATE zwgk_unit SET open = false", "unit gov: the table and the register's events disagree"),
    ("INSERT INTO zwgk_person VALUES ('ghost', '鬼', 'gov', NULL, NULL, true, '2026-01-01')",
     "person ghost: in the table but added by no event"),
])
def test_authority_tables_are_held_to_the_chains(tampered: Setup, sql: str, problem: str) -> None:
    """What the engine decides on (who is active, who holds which role where) must be what the chains say."""
    tampered.raw.run(sql)
    fails_with(tampered.wf, problem)


def test_the_built_in_pipelines_stored_definition_is_held_to_its_fingerprint(tampered: Setup) -> None:
    """The engine judges by its own copy of the built-in pipeline, but the stored one is what an auditor reads."""
    raw = tampered.raw
    fingerprint, definition = raw.rows("SELECT fingerprint, definition FROM zwgk_pipeline WHERE kind = 'item'")[0]
    raw.run("UPDATE zwgk_pipeline SET definition = :d WHERE fingerprint = :f",
            d=definition.replace('"zwgk-default"', '"zwgk-evil"'), f=fingerprint)
    fails_with(tampered.wf, f"pipeline {fingerprint[:12]}: its stored definition does not hash to its fingerprint "
                            "(altered)")


def test_a_forged_table_does_not_get_a_signature_through(tampered: Setup) -> None:
    """Granting a role by writing the table lets the engine sign, but verify names the forged grant and the
    signature it let through alike."""
    wf, raw = tampered.wf, tampered.raw
    raw.run("INSERT INTO zwgk_role VALUES ('gov', 'clerk', 'head')")
    sig = wf.advance("B", "publish", actor="clerk")
    report = wf.verify()
    assert report.problems == [
        f"{at(sig.seq)}: item B (head_approval (主要领导同意), round 1): ... " if False else report.problems[0],
        *report.problems[1:]]
    assert "role head of clerk in gov: granted by no event" in report.problems


def test_the_pipeline_in_force_is_held_to_its_adoption(tampered: Setup) -> None:
    """A definition edited behind the engine's back is never used: advance refuses to sign under it."""
    raw = tampered.raw
    raw.run("UPDATE zwgk_adopted SET seq = 1")  # points at the chain's opening, not an adoption
    from workflow import Unjudgeable
    with pytest.raises(Unjudgeable, match="is not the one its event 1 adopted"):
        Workflow(tampered.url).advance("B", "publish", actor="clerk")


# -- digests ---------------------------------------------------------------------------------------------


def test_digest_of_the_untampered_log_verifies(built: Setup) -> None:
    for seq in (1, 5, 9):
        assert built.wf.verify(Digest(seq, built.raw.event(seq, "_register")["hash"])).ok
    fails_with(built.wf, "digest 5:" + "e" * 64 + ": the register's event 5 differs from it (the log was rewritten)",
               against=Digest(5, "e" * 64))
    fails_with(built.wf, "digest 25:" + "e" * 64 + ": the register ends at event 9, before it (events deleted from "
               "the end)", against=Digest(25, "e" * 64))


def test_digest_of_a_new_register_still_verifies_later(db_url: str) -> None:
    wf = seed(Workflow(db_url))
    try:
        early = wf.digest()
        publish(wf, new_info(wf))
        report = wf.verify(against=early)
        assert report.ok, report.problems
    finally:
        wf.close()


# -- the command line ------------------------------------------------------------------------------------


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = zwgk.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_verify_ok(built: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "--db", built.url, "verify")
    assert (code, err) == (0, "")
    digest = built.raw.head("_register")
    assert out.splitlines() == [f"ok: 45 events in 2 chains, 4 cases; hashes, links, times, rules and tables agree; "
                                f"the register is at {digest[0]}:{digest[1]}; chains moved since its last seal: "
                                "`zwgk digest` seals them", SIMULATION]
    cli(capsys, "--db", built.url, "digest")
    digest = built.raw.head("_register")
    assert cli(capsys, "--db", built.url, "verify")[1].splitlines() == [
        f"ok: 46 events in 2 chains, 4 cases; hashes, links, times, rules and tables agree; root digest "
        f"{digest[0]}:{digest[1]}", SIMULATION]


def test_cli_verify_names_the_first_bad_event(tampered: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    seq = tampered.seqs["A", "check"]
    tampered.raw.set_event(seq, actor="multi")
    tampered.raw.run("UPDATE zwgk_unit SET name = 'x'")  # a second problem: reported on stdout, not stderr
    code, out, err = cli(capsys, "--db", tampered.url, "verify")
    assert code == 1
    assert err.splitlines() == [f"zwgk: verify failed: {at(seq)}: {MODIFIED}"]
    assert "also: unit gov" in out


def test_cli_verify_against_a_digest_after_truncation(tampered: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "digest", "--db", tampered.url)
    assert code == 0
    kept = out.strip()
    assert re.fullmatch(r"10:[0-9a-f]{64}", kept)
    assert cli(capsys, "verify", "--db", tampered.url, "--against", kept)[0] == 0
    # cut the register's seal: the chains are as they were, but the root digest's event is gone
    assert tampered.raw.delete_events("chain = '_register' AND seq = 10") == 1
    tampered.raw.set_head(*tampered.raw.tail("_register"), "_register")
    assert cli(capsys, "verify", "--db", tampered.url)[0] == 0
    code, _, err = cli(capsys, "verify", "--db", tampered.url, "--against", kept)
    assert code == 1
    assert err.splitlines() == [f"zwgk: verify failed: digest {kept}: the register ends at event 9, before it "
                                "(events deleted from the end)"]


def test_cli_verify_exit_status_of_the_real_program(sqlite_url: str,
                                                    lite_template: tuple[Path, Any]) -> None:
    copy_sqlite(lite_template[0], Path(str(make_url(sqlite_url).database)))
    zwgk_bin = str(Path(sys.executable).with_name("zwgk"))
    ok = subprocess.run([zwgk_bin, "--db", sqlite_url, "verify"], capture_output=True, text=True, timeout=60)
    assert (ok.returncode, ok.stderr) == (0, ""), ok.stderr
    raw = Raw(sqlite_url)
    raw.drop_guards()
    raw.delete_events("chain = 'gov' AND seq = 21")
    raw.close()
    bad = subprocess.run([zwgk_bin, "--db", sqlite_url, "verify"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert bad.stderr.splitlines() == [f"zwgk: verify failed: chain gov: sequence jumps from 20 to 22 {GAP}"]


# -- property: any single change to any event is caught, at that event ---------------------------------

N = 36  # the gov chain's last event in the template (checked below)
TAMPERABLE = [f for f in FIELDS if f not in ("seq", "chain")] + ["hash"]
NULLABLE = {"register_seq", "round", "from_state", "to_state", "actor", "role", "recorded_by", "paper_sha256",
            "comment", "reason", "ground", "decision", "pipeline", "content_hash", "data"}
TEXT = st.text(st.characters(codec="utf-8"), max_size=70)  # any text a driver can store
# Whatever a forger can write with SQLite's loose typing (column affinity may convert it; we read it back).
SCALAR = TEXT | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def tamperings(draw: st.DrawFn) -> tuple[int, str, Any, bool]:
    seq = draw(st.integers(1, N))
    field = draw(st.sampled_from(TAMPERABLE))
    value = draw(st.none() | SCALAR) if field in NULLABLE else draw(SCALAR)
    rehash = field != "hash" and draw(st.booleans())
    return seq, field, value, rehash


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tamperings())
def test_any_single_change_is_caught_at_that_event(lite_template: tuple[Path, Any],
                                                   case: tuple[int, str, Any, bool]) -> None:
    seq, field, value, rehash = case
    assert max(lite_template[1].values()) == N, "the template's chain changed: N must be its last event"
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "zwgk.db"
        copy_sqlite(lite_template[0], path)
        raw = Raw(f"sqlite:///{path}")
        try:
            raw.drop_guards()
            before = raw.event(seq)[field]
            raw.set_event(seq, **{field: value})
            assume(raw.event(seq)[field] != before)  # e.g. 2.0 or " 2" stored in `round` is still 2
            if rehash:
                raw.rehash(seq)
        finally:
            raw.close()
        with Workflow(f"sqlite:///{path}") as wf:
            report = wf.verify()
    assert not report.ok
    first = report.first_problem or ""
    if not rehash:
        expected = LINK if field == "prev_hash" else (MODIFIED, "holds a value no event is made of (event modified)")
        assert first in [f"{at(seq)}: {e}" for e in ([expected] if isinstance(expected, str) else expected)], \
            report.problems
    elif field == "prev_hash":
        assert first == f"{at(seq)}: {LINK}", report.problems
    elif seq < N:
        # the change itself is self-consistent; the rules may see it at once, else the next link breaks
        assert first.startswith((f"{at(seq)}: ", f"{at(seq + 1)}: {LINK}")), report.problems
    else:
        assert first.startswith((f"{at(seq)}: ", f"chain gov: its head says event {seq} ")), report.problems


# -- what only an INSERT can do: data no engine wrote, events no chain reaches ---------------------------------


@pytest.mark.parametrize(("data", "problem"), [
    ("[1]", "cannot be judged (TypeError: its data is not a mapping)"),
    ("null", "cannot be judged (TypeError: its data is not a mapping)"),
    ('{"chains": [["gov", 1]]}', "seal register register: a seal names every unit's chain, and only those, each at "
                                 "an event it holds ([chain, seq from 1, SHA-256 in hex]) (an act the rules would "
                                 "have refused)"),
    ("{", "cannot be judged (JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 "
          "(char 1))"),
])
def test_a_register_act_holding_what_no_engine_writes_is_reported_not_crashed_on(tampered: Setup, data: str,
                                                                               problem: str) -> None:
    forged = tampered.raw.append_forged("_register", case_kind="register", case_id="register", action="seal",
                                        actor=None, role=None, data=data)
    fails_with(tampered.wf, f"chain _register event {forged['seq']}: {problem}")


def test_a_person_added_without_a_name_is_reported_not_crashed_on(tampered: Setup) -> None:
    forged = tampered.raw.append_forged("_register", case_kind="person", case_id="nameless", action="add", data="{}")
    fails_with(tampered.wf, f"chain _register event {forged['seq']}: cannot be judged (KeyError: 'name')")


def test_events_outside_every_chain_are_counted_and_never_shown(tampered: Setup) -> None:
    """Sequence 0, or a chain of no unit: no walk reaches them, so they are named as such, and neither history
    nor `verify --since` reads them."""
    raw, wf = tampered.raw, tampered.wf
    kept = wf.digest()
    approve = raw.event(tampered.seqs["B", "approve"])
    raw.insert_event(**approve | {"seq": 0, "actor": "multi"})
    raw.insert_event(**approve | {"chain": "zz", "seq": 1})
    fails_with(wf, "2 events of the table lie outside every chain (a sequence number below 1, past a chain's head, "
                   "or a chain of no unit)")
    assert [s.actor for s in wf.history("B") if s.action == "approve"] == ["head"]
    assert wf.verify(since=kept).ok


def test_a_seal_naming_only_some_chains_is_refused(tampered: Setup) -> None:
    seq, digest = tampered.raw.tail()
    forged = tampered.raw.append_forged("_register", case_kind="register", case_id="register", action="seal",
                                        actor=None, role=None, data=f'{{"chains":[["zz",{seq},"{digest}"]]}}')
    fails_with(tampered.wf, f"chain _register event {forged['seq']}: seal register register: a seal names every "
                            "unit's chain, and only those, each at an event it holds ([chain, seq from 1, SHA-256 in "
                            "hex]) (an act the rules would have refused)")


def test_a_pair_of_link_notes_made_by_no_step_is_named(tampered: Setup) -> None:
    """Two notes naming each other: a link is a step of one unit's case and a note on another's, by one signer."""
    raw, wf = tampered.raw, tampered.wf
    wf.add_unit("fin", name="财政所", kind="station", by="admin")
    wf.grant("clerk", "drafter", unit="fin", by="admin")
    fin_item = new_info(wf, unit="fin")
    last_gov, last_fin = wf.history("A")[-1], wf.history(fin_item)[-1]
    gov_seq, fin_seq = raw.tail()[0] + 1, raw.tail("fin")[0] + 1
    gov = raw.append_forged(case_id="A", action="link", from_state=last_gov.to_state, to_state=last_gov.to_state,
                            round=last_gov.round, actor="clerk", role=None, comment=None,
                            pipeline=last_gov.pipeline, content_hash=last_gov.content_hash,
                            data=f'{{"link":{{"chain":"fin","seq":{fin_seq}}}}}')
    raw.append_forged("fin", case_id=fin_item, action="link", from_state="draft", to_state="draft", round=1,
                      actor="clerk", role=None, comment=None, pipeline=last_fin.pipeline,
                      content_hash=last_fin.content_hash,
                      data=f'{{"link":{{"chain":"gov","hash":"{gov["hash"]}","seq":{gov_seq}}}}}')
    raw.run("UPDATE zwgk_case SET version = version + 1 WHERE id IN ('A', :f)", f=fin_item)
    fails_with(wf, f"chain fin event {fin_seq}: a link note that no step of another unit's case made")

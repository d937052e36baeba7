"""Tampering with the signature log behind the engine's back, and what `verify` makes of it.

SQLite is tampered with through the stdlib `sqlite3` module on the same file; PostgreSQL through a plain
SQLAlchemy connection to the same schema. The append-only triggers are dropped first where needed.
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
from tests.conftest import new_info, publish, seed, to_head_approval
from tests.tampering import Raw, Setup, build, copy_sqlite
from workflow import Digest, Workflow, chain
from workflow.schema import GENESIS_HASH

REFUSED = (sqlite3.DatabaseError, DBAPIError)
MODIFIED = "contents do not match its hash (event modified)"
LINK = "previous-hash link broken (event deleted, inserted or reordered)"
GAP = "(missing or reordered events)"


def fails_with(wf: Workflow, first: str, against: Digest | None = None, *, prefix: bool = False) -> None:
    """verify() is not ok and its first problem is `first` (or starts with it)."""
    report = wf.verify(against)
    assert not report.ok
    got = report.first_problem or ""
    assert got.startswith(first) if prefix else got == first, report.problems


# -- the database itself refuses -------------------------------------------------------------------------


REFUSED_SQL = [
    "UPDATE zwgk_event SET actor = 'multi' WHERE seq = 6",
    "UPDATE zwgk_event SET hash = prev_hash",
    "DELETE FROM zwgk_event WHERE seq = 6",
    "DELETE FROM zwgk_event",
]


def test_event_table_refuses_update_and_delete(built: Setup) -> None:
    before = built.raw.rows("SELECT * FROM zwgk_event ORDER BY seq")
    for sql in REFUSED_SQL:
        verb = sql.split()[0]
        with pytest.raises(REFUSED, match=f"zwgk_event is append-only: {verb} refused"):
            built.raw.run(sql)
        assert built.raw.rows("SELECT * FROM zwgk_event ORDER BY seq") == before, sql
    assert built.raw.event(6)["actor"] == "lead"
    assert built.wf.verify().ok


def test_event_table_refuses_truncate_on_postgresql(pg_url: str) -> None:
    wf = seed(Workflow(pg_url))
    try:
        build(wf)
        raw = Raw(pg_url)
        try:
            with pytest.raises(DBAPIError, match="zwgk_event is append-only: TRUNCATE refused"):
                raw.run("TRUNCATE zwgk_event")
            assert raw.rows("SELECT count(*) FROM zwgk_event") == [(20,)]
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
    ("item_id", "A"),
    ("round", 2),
    ("ground", "art14"),
    ("comment", "伪造的备注"),
    ("comment", 'tab\t"quote" \\ \u0001 é </script> \u2028'),
    ("reason", None),
    ("ground", None),
    ("decision", "full"),
    ("role", "head"),
    ("recorded_by", "clerk"),
    ("pipeline_version", "2019.1+000000000000"),
    ("content_hash", "0" * 64),
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
        assert report.first_problem == f"event {seq}: {MODIFIED}", (field, report.problems)
        raw.set_event(seq, **{field: original[field]})
        assert tampered.wf.verify().ok, field


def test_modified_prev_hash(tampered: Setup) -> None:
    seq = tampered.seqs["A", "check"]
    tampered.raw.set_event(seq, prev_hash=tampered.raw.event(seq - 2)["hash"])
    fails_with(tampered.wf, f"event {seq}: {LINK}")


def test_modified_and_rehashed_breaks_the_next_link(tampered: Setup) -> None:
    raw, seq = tampered.raw, tampered.seqs["A", "clear"]
    original = raw.event(seq)
    for field, value in [("actor", "multi"), ("decision", "partial"), ("at", "2026-01-01"), ("content_hash", "1" * 64)]:
        raw.set_event(seq, **{field: value})
        raw.rehash(seq)
        report = tampered.wf.verify()
        if field == "decision":  # a partial clearance without a reason: the replay of the rules sees it first
            assert report.first_problem == (f"event {seq}: item A (confidentiality_review (保密审查), round 1): clear "
                                            "(审核) by sec needs a reason (a signature the pipeline would have "
                                            "refused)"), report.problems
        else:
            assert report.first_problem == f"event {seq + 1}: {LINK}", (field, report.problems)
        raw.set_event(seq, **{field: original[field]})
        assert raw.rehash(seq) == original["hash"]
    assert tampered.wf.verify().ok


def test_last_event_modified_and_rehashed_disagrees_with_the_head(tampered: Setup) -> None:
    tampered.raw.set_event(20, actor="multi")
    tampered.raw.rehash(20)
    fails_with(tampered.wf, "chain head says event 20 but the log ends at event 20 "
                            "(events deleted from the end, or the head was altered)")


def test_full_rewrite_is_caught_by_an_earlier_digest(tampered: Setup) -> None:
    """Relinking everything after the change (and the head) fools the chain; a digest kept elsewhere does not."""
    kept = tampered.wf.digest()
    seq = tampered.seqs["A", "check"]
    tampered.raw.set_event(seq, actor="multi")
    tampered.raw.rewrite_from(seq)
    assert tampered.wf.verify().ok  # the signer was swapped for another leader: consistent on its own
    fails_with(tampered.wf, "digest 20: event 20 differs from the digest", against=kept)
    early = Digest(seq - 1, tampered.raw.event(seq - 1)["hash"])
    assert tampered.wf.verify(early).ok  # a digest from before the change cannot see it


def test_full_rewrite_that_changes_a_state_is_caught_by_replay(tampered: Setup) -> None:
    seq = tampered.seqs["C", "withhold"]
    tampered.raw.set_event(seq, to_state="published", action="publish")
    tampered.raw.rewrite_from(seq)
    # The rules see a publish straight from the confidentiality review; the item's state disagrees too.
    assert tampered.wf.verify().problems == [
        f"event {seq}: publish is not possible from state confidentiality_review (a signature the pipeline would "
        "have refused)",
        "item C: state withheld round 1 disagrees with its signatures (replay gives published round 1)"]


def test_full_rewrite_that_breaks_an_items_sequence_is_caught_by_replay(tampered: Setup) -> None:
    seq = tampered.seqs["A", "proofread"]
    tampered.raw.set_event(seq, to_state="leader_check")
    tampered.raw.rewrite_from(seq)
    fails_with(tampered.wf, f"event {seq}: proofread leads to confidentiality_review and is signed as proofreader "
                            "(a signature the pipeline would have refused)")



# -- inserted, deleted and reordered events --------------------------------------------------------------


def forged(raw: Raw, seq: int, prev_hash: str, **changes: Any) -> dict[str, Any]:
    """A well-formed event copied from B's 'check', with a correct link and its own correct hash."""
    row = raw.event(12) | {"seq": seq, "prev_hash": prev_hash, "at": "2026-12-31T23:59:00.000000+00:00"} | changes
    row["hash"] = chain.event_hash([row[f] for f in chain.FIELDS])
    return row


def test_forged_event_appended_without_moving_the_head(tampered: Setup) -> None:
    raw = tampered.raw
    raw.insert_event(**forged(raw, 21, raw.tail()[1], action="publish", from_state="head_approval",
                              to_state="published", actor="clerk", role="publisher"))
    fails_with(tampered.wf, "chain head says event 20 but the log ends at event 21 "
                            "(events deleted from the end, or the head was altered)")


def test_forged_event_appended_with_the_head_moved(tampered: Setup) -> None:
    raw = tampered.raw
    row = forged(raw, 21, raw.tail()[1], action="publish", from_state="head_approval", to_state="published",
                 actor="clerk", role="publisher")
    raw.insert_event(**row)
    raw.set_head(21, row["hash"])
    fails_with(tampered.wf, "item B: state head_approval round 1 disagrees with its signatures "
                            "(replay gives published round 1", prefix=True)


def forge_next(tampered: Setup, item_id: str, action: str, to_state: str, actor: str, role: str) -> None:
    """Append a well-hashed step for `item_id` and bring its item row and the chain head along: only the
    pipeline's rules can tell that it should never have been signed."""
    raw = tampered.raw
    last = raw.rows("SELECT seq, to_state, round, content_hash FROM zwgk_event WHERE item_id = :i "
                    "ORDER BY seq DESC", i=item_id)[0]
    seq, prev = raw.tail()
    row = forged(raw, seq + 1, prev, item_id=item_id, action=action, from_state=last[1], to_state=to_state,
                 round=last[2], actor=actor, role=role, content_hash=last[3], decision=None, reason=None,
                 ground=None, comment=None, recorded_by=None, paper_sha256=None)
    raw.insert_event(**row)
    raw.set_head(seq + 1, row["hash"])
    version = raw.rows("SELECT version FROM zwgk_item WHERE id = :i", i=item_id)[0][0]
    raw.set_item(item_id, state=to_state, version=version + 1)


def test_forged_publish_without_the_heads_approval_is_caught_by_the_rules(tampered: Setup) -> None:
    new_info(tampered.wf, id="E", title="伪造的发布")
    to_head_approval(tampered.wf, "E")
    forge_next(tampered, "E", "publish", "published", "clerk", "publisher")
    seq = tampered.raw.tail()[0]
    fails_with(tampered.wf, f"event {seq}: item E (head_approval (主要领导同意), round 1): clerk cannot sign publish "
                            "(发布) yet: it needs approve (同意) signed first in this round (a signature the pipeline "
                            "would have refused)")


def test_forged_check_by_the_drafter_is_caught_by_the_separation_of_duties(tampered: Setup) -> None:
    wf = tampered.wf
    new_info(wf, id="E", title="自己把关")
    for action, actor, extra in (("submit", "clerk", {}), ("proofread", "proof", {}),
                                 ("clear", "sec", {"decision": "full"})):
        wf.advance("E", action, actor=actor, **extra)
    forge_next(tampered, "E", "check", "head_approval", "clerk", "leader")
    seq = tampered.raw.tail()[0]
    fails_with(tampered.wf, f"event {seq}: item E (leader_check (分管领导把关), round 1): clerk signed submit (经办) "
                            "in this round and may not also sign check (把关) (a signature the pipeline would have "
                            "refused)")


def test_a_forged_signer_who_is_nobody_is_caught(tampered: Setup) -> None:
    new_info(tampered.wf, id="E", title="无名氏")
    to_head_approval(tampered.wf, "E")
    forge_next(tampered, "E", "approve", "head_approval", "ghost", "head")
    seq = tampered.raw.tail()[0]
    fails_with(tampered.wf, f"event {seq}: ghost who signed it is nobody registered (a signature the pipeline "
                            "would have refused)")


def test_signatures_of_another_pipeline_version_are_not_judged_by_this_one(tampered: Setup) -> None:
    raw = tampered.raw
    new_info(tampered.wf, id="E", title="旧版流程")
    to_head_approval(tampered.wf, "E")
    forge_next(tampered, "E", "publish", "published", "clerk", "publisher")
    seq = raw.tail()[0]
    raw.set_event(seq, pipeline_version="2018.1+000000000000")  # as a 2018 pipeline without "approve" signed it
    raw.rehash(seq)
    raw.set_head(*raw.tail())
    report = tampered.wf.verify()
    assert (report.ok, report.unchecked) == (True, 1)  # said, not judged: that version's rules are not loaded


def test_forged_event_appended_out_of_turn(tampered: Setup) -> None:
    raw = tampered.raw
    row = forged(raw, 21, raw.tail()[1], item_id="C", from_state="draft", to_state="withheld")
    raw.insert_event(**row)
    raw.set_head(21, row["hash"])
    fails_with(tampered.wf, "event 21: item C moves from draft but was in withheld")


def test_forged_event_for_an_item_without_a_creation(tampered: Setup) -> None:
    raw = tampered.raw
    raw.run("INSERT INTO zwgk_item SELECT 'X', title, body, unit_id, category, timing, kind, interprets, tags, "
            "formed_on, drafter, 'published', round, version, created_at, updated_at, schedule, period FROM zwgk_item "
            "WHERE id = 'A'")
    row = forged(raw, 21, raw.tail()[1], item_id="X", from_state="head_approval", to_state="published")
    raw.insert_event(**row)
    raw.set_head(21, row["hash"])
    fails_with(tampered.wf, "event 21: item X has no creation event before it")


def test_forged_event_inserted_in_the_middle(tampered: Setup) -> None:
    raw = tampered.raw
    # make room after event 9 (unique seq: move the tail out of the way and back, one past)
    raw.run("UPDATE zwgk_event SET seq = seq + 1000 WHERE seq >= 10")
    raw.run("UPDATE zwgk_event SET seq = seq - 999 WHERE seq >= 1000")
    row = forged(raw, 10, raw.event(9)["hash"], action="comment", to_state="leader_check")
    raw.insert_event(**row)
    raw.set_head(*raw.tail())
    fails_with(tampered.wf, f"event 10: comment is not possible from state {row['from_state']} (a signature the "
                            "pipeline would have refused)")



def test_deleted_middle_event(tampered: Setup) -> None:
    seq = tampered.seqs["B", "proofread"]
    assert tampered.raw.delete_events("seq = :s", s=seq) == 1
    fails_with(tampered.wf, f"event {seq + 1}: sequence jumps from {seq - 1} {GAP}")


def test_deleted_first_event(tampered: Setup) -> None:
    assert tampered.raw.delete_events("seq = 1") == 1
    fails_with(tampered.wf, f"event 2: sequence jumps from 0 {GAP}")


def test_deleted_last_event_is_caught_by_the_head(tampered: Setup) -> None:
    assert tampered.raw.delete_events("seq = 20") == 1
    fails_with(tampered.wf, "chain head says event 20 but the log ends at event 19 "
                            "(events deleted from the end, or the head was altered)")


def test_deleted_last_event_with_the_head_rewound_is_caught_only_by_a_digest(tampered: Setup) -> None:
    kept = tampered.wf.digest()
    assert kept.seq == 20
    assert tampered.raw.delete_events("seq = 20") == 1  # B's approval: the state does not change
    tampered.raw.set_head(*tampered.raw.tail())
    fails_with(tampered.wf, "item B: version 6 but 5 signatures (one per version)")
    tampered.raw.set_item("B", version=5)  # a careful forger rewinds the version too
    assert tampered.wf.verify().ok
    fails_with(tampered.wf, "digest 20: the log ends at event 19, before the digest (events deleted from the end)",
               against=kept)


def test_swapped_events(tampered: Setup) -> None:
    raw = tampered.raw
    a, b = tampered.seqs["A", "proofread"], tampered.seqs["A", "clear"]
    assert b == a + 1
    raw.run("UPDATE zwgk_event SET seq = -1 WHERE seq = :a", a=a)
    raw.run("UPDATE zwgk_event SET seq = :a WHERE seq = :b", a=a, b=b)
    raw.run("UPDATE zwgk_event SET seq = :b WHERE seq = -1", b=b)
    assert raw.event(a)["action"] == "clear"
    fails_with(tampered.wf, f"event {a}: {LINK}")


def test_swapped_events_of_different_items(tampered: Setup) -> None:
    raw = tampered.raw
    raw.run("UPDATE zwgk_event SET seq = -1 WHERE seq = 1")
    raw.run("UPDATE zwgk_event SET seq = 1 WHERE seq = 2")
    raw.run("UPDATE zwgk_event SET seq = 2 WHERE seq = -1")
    fails_with(tampered.wf, f"event 1: {LINK}")  # B's creation now comes first, but it links to A's


def test_deleted_whole_item_in_the_middle(tampered: Setup) -> None:
    raw = tampered.raw
    assert raw.delete_events("item_id = 'C'") == 3
    raw.run("DELETE FROM zwgk_deadline WHERE item_id = 'C'")  # deleting an item takes its deadlines along
    assert raw.run("DELETE FROM zwgk_item WHERE id = 'C'") == 1
    raw.set_head(*raw.tail())  # the head still agrees: C's events were not the last
    first, last = tampered.seqs["C", "create"], tampered.seqs["C", "withhold"]
    fails_with(tampered.wf, f"event {last + 1}: sequence jumps from {first - 1} {GAP}")


def test_deleted_whole_item_at_the_end_with_the_head_fixed(tampered: Setup) -> None:
    wf, raw = tampered.wf, tampered.raw
    new_info(wf, id="E", title="最后一项")
    wf.advance("E", "submit", actor="clerk")
    kept = wf.digest()
    assert kept.seq == 22
    assert raw.delete_events("item_id = 'E'") == 2
    raw.run("DELETE FROM zwgk_deadline WHERE item_id = 'E'")  # deleting an item takes its deadlines along
    assert raw.run("DELETE FROM zwgk_item WHERE id = 'E'") == 1
    raw.set_head(*raw.tail())
    assert wf.verify().ok  # a clean cut of the newest events: only a digest kept elsewhere shows it
    fails_with(wf, "digest 22: the log ends at event 20, before the digest (events deleted from the end)",
               against=kept)


def test_deleted_history_of_an_item_that_remains(tampered: Setup) -> None:
    wf, raw = tampered.wf, tampered.raw
    new_info(wf, id="E", title="最后一项")
    assert raw.delete_events("item_id = 'E'") == 1
    raw.set_head(*raw.tail())
    fails_with(wf, "item E: has no events (its history was deleted)")


def test_deleted_item_whose_events_remain(tampered: Setup) -> None:
    raw = tampered.raw
    if raw.pg:
        raw.run("ALTER TABLE zwgk_event DROP CONSTRAINT zwgk_event_item_id_fkey")
    raw.run("DELETE FROM zwgk_deadline WHERE item_id = 'C'")  # deleting an item takes its deadlines along
    assert raw.run("DELETE FROM zwgk_item WHERE id = 'C'") == 1
    fails_with(tampered.wf, f"item C: has events from {tampered.seqs['C', 'create']} on but the item is gone "
                            "(deleted)")


def test_event_field_overwritten_with_a_blob_is_reported_not_crashed_on(sqlite_url: str,
                                                                       lite_template: tuple[Path, Any]) -> None:
    """SQLite lets a forger store a BLOB in any column; verify must still name the event, not fail on it."""
    copy_sqlite(lite_template[0], Path(str(make_url(sqlite_url).database)))
    raw = Raw(sqlite_url)
    raw.drop_guards()
    raw.set_event(5, actor=b"sec")
    raw.close()
    with Workflow(sqlite_url) as wf:
        report = wf.verify()
    assert report.first_problem == f"event 5: {MODIFIED}", report.problems


@pytest.mark.parametrize("column", ["comment", "actor"])
def test_event_field_overwritten_with_bytes_that_are_not_utf8_is_reported(sqlite_url: str,
                                                                         lite_template: tuple[Path, Any],
                                                                         column: str) -> None:
    """Text that is not UTF-8 cannot even be read back by Python's sqlite3: verify must name the event."""
    copy_sqlite(lite_template[0], Path(str(make_url(sqlite_url).database)))
    raw = Raw(sqlite_url)
    raw.drop_guards()
    raw.run(f"UPDATE zwgk_event SET {column} = CAST(X'C3FF' AS TEXT) WHERE seq = 5")
    raw.close()
    with Workflow(sqlite_url) as wf:
        report = wf.verify()
    assert report.first_problem == f"event 5: {MODIFIED}", report.problems


# -- items that disagree with their signatures -----------------------------------------------------------


def test_item_state_changed(tampered: Setup) -> None:
    tampered.raw.set_item("B", state="published")
    fails_with(tampered.wf, "item B: state published round 1 disagrees with its signatures "
                            "(replay gives head_approval round 1", prefix=True)


def test_item_round_changed(tampered: Setup) -> None:
    tampered.raw.set_item("D", round=1)
    fails_with(tampered.wf, "item D: state draft round 1 disagrees with its signatures "
                            "(replay gives draft round 2", prefix=True)


def test_item_version_changed(tampered: Setup) -> None:
    """The version counts the item's signatures: a rewritten version would defeat the stale-read check."""
    tampered.raw.set_item("C", version=2)
    fails_with(tampered.wf, "item C: version 2 but 3 signatures (one per version)")


def test_item_drafter_changed(tampered: Setup) -> None:
    """谁起草、谁解读: whoever signed the creation is the drafter; moving the duty to someone else shows."""
    tampered.raw.set_item("A", drafter="multi")
    fails_with(tampered.wf, "item A: drafter multi but clerk signed its creation")


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
    report = tampered.wf.verify()
    assert not report.ok
    assert report.first_problem is not None and report.first_problem.startswith("item A"), report.problems


# -- digests ---------------------------------------------------------------------------------------------


def test_digest_of_the_untampered_log_verifies(built: Setup) -> None:
    for seq in (1, 10, 20):
        assert built.wf.verify(Digest(seq, built.raw.event(seq)["hash"])).ok
    fails_with(built.wf, "digest 10: event 10 differs from the digest", against=Digest(10, "e" * 64))
    fails_with(built.wf, "digest 25: the log ends at event 20, before the digest (events deleted from the end)",
               against=Digest(25, "e" * 64))


def test_digest_of_the_empty_log_still_verifies_later(db_url: str) -> None:
    """`zwgk digest` right after `zwgk init` prints 0:000…; keeping it and checking later must not cry wolf."""
    wf = seed(Workflow(db_url))
    try:
        empty = wf.digest()
        assert empty == Digest(0, GENESIS_HASH)
        publish(wf, new_info(wf))
        report = wf.verify(against=empty)
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
    assert out.splitlines() == ["ok: 20 events, 4 items; chain, states and rules agree",
                                f"signed under pipeline {built.wf.pipeline.full_version} (20)"]


def test_cli_verify_names_the_first_bad_event(tampered: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    seq = tampered.seqs["A", "check"]
    tampered.raw.set_event(seq, actor="multi")
    tampered.raw.set_item("B", state="published")  # a second problem: reported on stdout, not stderr
    code, out, err = cli(capsys, "--db", tampered.url, "verify")
    assert code == 1
    assert err.splitlines() == [f"zwgk: verify failed: event {seq}: {MODIFIED}"]
    assert "also: item B" in out


def test_cli_verify_against_a_digest_after_truncation(tampered: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "digest", "--db", tampered.url)
    assert code == 0
    kept = out.strip()
    assert re.fullmatch(r"20:[0-9a-f]{64}", kept)
    assert cli(capsys, "verify", "--db", tampered.url, "--against", kept)[0] == 0
    # cut the last two events (B's approval and D's edit, state-neutral) and put D's body back
    assert tampered.raw.delete_events("seq >= 19") == 2
    tampered.raw.set_head(*tampered.raw.tail())
    tampered.raw.set_item("D", body="收入……", version=3)
    tampered.raw.set_item("B", version=5)
    assert cli(capsys, "verify", "--db", tampered.url)[0] == 0
    code, _, err = cli(capsys, "verify", "--db", tampered.url, "--against", kept)
    assert code == 1
    assert err.splitlines() == ["zwgk: verify failed: digest 20: the log ends at event 18, before the digest "
                                "(events deleted from the end)"]


def test_cli_verify_exit_status_of_the_real_program(sqlite_url: str,
                                                    lite_template: tuple[Path, Any]) -> None:
    copy_sqlite(lite_template[0], Path(str(make_url(sqlite_url).database)))
    zwgk_bin = str(Path(sys.executable).with_name("zwgk"))
    ok = subprocess.run([zwgk_bin, "--db", sqlite_url, "verify"], capture_output=True, text=True, timeout=60)
    assert (ok.returncode, ok.stderr) == (0, ""), ok.stderr
    raw = Raw(sqlite_url)
    raw.drop_guards()
    raw.delete_events("seq = 5")
    raw.close()
    bad = subprocess.run([zwgk_bin, "--db", sqlite_url, "verify"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert bad.stderr.splitlines() == [f"zwgk: verify failed: event 6: sequence jumps from 4 {GAP}"]


# -- property: any single change to any event is caught, at that event ---------------------------------

N = 20
TAMPERABLE = [f for f in chain.FIELDS if f != "seq"] + ["hash"]
NULLABLE = {"from_state", "role", "recorded_by", "paper_sha256", "comment", "reason", "ground", "decision"}
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
        expected = LINK if field == "prev_hash" else MODIFIED
        assert first == f"event {seq}: {expected}", report.problems
    elif field == "prev_hash":
        assert first == f"event {seq}: {LINK}", report.problems
    elif seq < N:
        # the change itself is self-consistent; the replay may see it at once, else the next link breaks
        assert first.startswith((f"event {seq}: ", f"event {seq + 1}: {LINK}")), report.problems
    else:
        assert first.startswith((f"event {seq}: ", f"chain head says event {seq} ")), report.problems

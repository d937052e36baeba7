"""Red team of the bulk sweep behind `verify`: each test forges a log one way and asserts that the sweep
gives the walk's own answer (`wf.verify(...) == walked(wf, ...)`). A failing test is a tampering the walk
catches but the sweep vouches for."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import new_info, publish, seed
from tests.tampering import COLS, Raw, Setup, build
from tests.test_sweep import walked
from workflow import Digest, Workflow, chain, sweep
from workflow.schema import GENESIS_HASH


def sql_rewrite_from(raw: Raw, seq: int) -> None:
    """Relink and rehash from `seq` on, hashing the canonical form SQLite itself builds (`canonical_sql`),
    which the walk accepts first (it rechecks in Python only when that differs): a forger's full rewrite."""
    assert not raw.pg
    last = raw.tail()[0]
    prev = raw.event(seq - 1)["hash"] if seq > 1 else GENESIS_HASH
    canon = f"SELECT {chain.canonical_sql('sqlite')} FROM zwgk_event WHERE seq = :seq"
    for s in range(seq, last + 1):
        raw.set_event(s, prev_hash=prev)
        prev = chain.sha256_hex(raw.rows(canon, seq=s)[0][0])
        raw.set_event(s, hash=prev)
    raw.set_head(last, prev)


def forged_copy(raw: Raw, of: int, seq: int, prev: str = GENESIS_HASH, **values: Any) -> dict[str, Any]:
    """Event `of`, copied to `seq` with `values`, linked after `prev` and well hashed."""
    row = raw.event(of) | {"seq": seq, "prev_hash": prev} | values
    row["hash"] = chain.event_hash([row[f] for f in chain.FIELDS])
    return row


def same(wf: Workflow, against: Digest | None = None) -> chain.Report:
    report = wf.verify(against)
    walk = walked(wf, against)
    assert report == walked(wf, against), f"sweep: {report}\nwalk: {walk}"
    return report


def drop_not_null(setup: Setup, column: str, table: str = "zwgk_event") -> None:
    """Behind the engine's back, the schema too: `column` may now hold NULL and any length of text."""
    if setup.raw.pg:
        setup.raw.run(f"ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL")
        setup.raw.run(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE text")
        return
    rewrite_sqlite_ddl(setup, table, rf"(\b{column} \w+(\(\d+\))?) NOT NULL", r"\1")


def rewrite_sqlite_ddl(setup: Setup, table: str, pattern: str, replacement: str) -> None:
    """A table's declaration rewritten in place (PRAGMA writable_schema), its rows left as they are."""
    path = str(make_url(setup.url).database)
    setup.raw.close()
    lite = sqlite3.connect(path, isolation_level=None)
    try:
        (ddl,) = lite.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
        new, n = re.subn(pattern, replacement, ddl)
        assert n == 1, ddl
        (version,) = lite.execute("PRAGMA schema_version").fetchone()
        lite.execute("PRAGMA writable_schema = ON")
        lite.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?", (new, table))
        lite.execute(f"PRAGMA schema_version = {version + 1}")
        lite.execute("PRAGMA writable_schema = OFF")
    finally:
        lite.close()
    setup.raw = Raw(setup.url)


# -- events outside 1..head -------------------------------------------------------------------------------

@pytest.mark.parametrize("seq", [0, -1, -1000])
def test_an_event_inserted_before_the_first_is_left_to_the_walk(built: Setup, seq: int) -> None:
    """Only an INSERT: the append-only triggers do not even have to go. The sweep reads seq 1..head only."""
    built.raw.insert_event(**forged_copy(built.raw, 1, seq, action="create", comment="forged"))
    assert next(s.seq for s in built.wf.history("A")) == seq  # the forged signature is part of A's history
    report = same(built.wf)
    assert not report.ok


def test_an_event_before_the_first_with_a_digest_is_left_to_the_walk(built: Setup) -> None:
    kept = Digest(20, built.raw.event(20)["hash"])
    built.raw.insert_event(**forged_copy(built.raw, 5, 0))
    for against in (None, kept, Digest(0, GENESIS_HASH)):
        same(built.wf, against)


def test_an_event_before_the_first_of_an_empty_log_is_left_to_the_walk(sqlite_url: str) -> None:
    with seed(Workflow(sqlite_url)) as wf:
        raw = Raw(sqlite_url)  # stdlib sqlite3: foreign keys are not enforced
        try:
            row = dict.fromkeys(COLS) | {
                "seq": 0, "item_id": "ghost", "round": 1, "action": "create", "to_state": "draft", "actor": "clerk",
                "role": "drafter", "at": "2026-01-01T00:00:00+00:00", "pipeline": "x", "pipeline_version": "1",
                "content_hash": "0" * 64, "prev_hash": GENESIS_HASH}
            row["hash"] = chain.event_hash([row[f] for f in chain.FIELDS])
            raw.insert_event(**row)
        finally:
            raw.close()
        assert not same(wf).ok


def test_an_event_before_the_first_in_memory_is_left_to_the_walk() -> None:
    with seed(Workflow("sqlite://")) as wf:
        build(wf)
        with wf.engine.connect() as c:
            cols = ", ".join(COLS)
            c.exec_driver_sql(f"INSERT INTO zwgk_event ({cols}) SELECT 0, {cols.split(', ', 1)[1]} "
                              "FROM zwgk_event WHERE seq = 1")
            c.commit()
        assert not same(wf).ok


def test_events_renumbered_from_two_are_left_to_the_walk(tampered: Setup) -> None:
    """A gap at the start: every event one place later, relinked, the head moved along."""
    raw = tampered.raw
    for s in range(20, 0, -1):
        raw.run("UPDATE zwgk_event SET seq = :to WHERE seq = :s", to=s + 1, s=s)
    raw.set_head(21, raw.event(21)["hash"])  # still linked from the genesis: only the numbers moved
    assert not same(tampered.wf).ok


@pytest.mark.parametrize("head", [19, 21])
def test_a_head_that_is_not_the_last_event_is_left_to_the_walk(tampered: Setup, head: int) -> None:
    raw = tampered.raw
    if head < 20:
        raw.delete_events("seq = 20")
        raw.set_head(19, raw.event(19)["hash"])
    else:
        raw.set_head(21, raw.event(20)["hash"])
    assert not same(tampered.wf).ok


# -- the digest --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("at", [0, 1, 5, 19, 20, 21, 1000])
def test_digests_anywhere_agree(built: Setup, at: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweep, "CHUNK", 5)  # chunk boundaries at 5, 10, 15, 20
    right = built.raw.event(at)["hash"] if 1 <= at <= 20 else GENESIS_HASH
    for h in (right, "f" * 64):
        same(built.wf, Digest(at, h))


def test_a_digest_of_a_log_cut_short_and_regrown_is_left_to_the_walk(tampered: Setup) -> None:
    kept = Digest(20, tampered.raw.event(20)["hash"])
    tampered.raw.set_event(20, comment="regrown")
    tampered.raw.rewrite_from(20)
    assert not same(tampered.wf, kept).ok


# -- types SQLite lets any column hold ---------------------------------------------------------------------

@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # SQLite's dynamic typing
@pytest.mark.parametrize("seq", [5, 20])
def test_a_hash_stored_as_a_blob_is_left_to_the_walk(tampered: Setup, seq: int) -> None:
    """The same 64 characters, as a BLOB: `hash` is not part of the canonical form, so json_array() never sees
    it, and group_concat() turns it back into text. The walk compares bytes with text."""
    h = tampered.raw.event(seq)["hash"]
    tampered.raw.run("UPDATE zwgk_event SET hash = CAST(:h AS BLOB) WHERE seq = :seq", h=h, seq=seq)
    assert tampered.raw.rows("SELECT typeof(hash) FROM zwgk_event WHERE seq = :seq", seq=seq) == [("blob",)]
    assert not same(tampered.wf).ok


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # SQLite's dynamic typing
@pytest.mark.parametrize("column", ["prev_hash", "content_hash", "item_id", "actor", "reason"])
def test_a_blob_in_a_signed_column_is_left_to_the_walk(tampered: Setup, column: str) -> None:
    value = tampered.raw.event(9)[column] or "r"
    tampered.raw.run(f"UPDATE zwgk_event SET {column} = CAST(:v AS BLOB) WHERE seq = 9", v=value)
    same(tampered.wf)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # SQLite's dynamic typing
@pytest.mark.parametrize("rnd", [1.0000000000000002, 0.30000000000000004])
def test_a_round_json_array_rounds_off_is_left_to_the_walk(tampered: Setup, rnd: float) -> None:
    """A REAL round: SQLite's json_array() writes 15 significant digits, so the sweep's step (and the canonical
    form, which the walk accepts) says 1.0 where the column holds 1.0000000000000002. A's publish moved to a
    round of its own: the walk sees the item's round 1 disagree with it, the sweep sees 1.0 == 1."""
    seq = tampered.seqs["A", "publish"]
    tampered.raw.set_event(seq, round=rnd)
    assert tampered.raw.rows("SELECT typeof(round) FROM zwgk_event WHERE seq = :s", s=seq) == [("real",)]
    sql_rewrite_from(tampered.raw, seq)
    if rnd < 1:
        tampered.raw.set_item("A", round=round(rnd, 15))  # what json_array() writes for it
    assert not same(tampered.wf).ok


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # SQLite's dynamic typing
def test_a_real_round_in_item_and_events_alike_agrees(tampered: Setup) -> None:
    """The same REAL in A's events and in A itself: the walk finds them equal, the sweep must not differ."""
    seqs = sorted(s for (item, _), s in tampered.seqs.items() if item == "A")
    for s in seqs:
        tampered.raw.set_event(s, round=1.0000000000000002)
    tampered.raw.set_item("A", round=1.0000000000000002)
    sql_rewrite_from(tampered.raw, seqs[0])
    same(tampered.wf)
    tampered.raw.rewrite_from(seqs[0])  # hashed in Python: the SQL canonical form differs, the walk rechecks
    same(tampered.wf)


ODD_ROUNDS = ["99999999999999999999", "1", " 1 ", "01", "1e0", "one", 2**63 - 1, -1, 0]


@pytest.mark.parametrize(("db_url", "value"),  # PostgreSQL's integer column holds only the integers
                         [("sqlite", v) for v in ODD_ROUNDS] + [("postgresql", -1), ("postgresql", 0)],
                         indirect=["db_url"])
def test_odd_rounds_agree(tampered: Setup, value: Any) -> None:
    """Integer affinity turns some text into numbers (and 1e20 into a REAL); hashed in Python and in SQL."""
    seq = tampered.seqs["D", "edit"]
    for in_sql in (False, True):
        if in_sql and tampered.raw.pg:
            continue
        tampered.raw.set_event(seq, round=value)
        tampered.raw.set_item("D", round=value)
        if in_sql:
            sql_rewrite_from(tampered.raw, seq)
        else:
            tampered.raw.rewrite_from(seq)
        same(tampered.wf)


# -- NULL beside a separator -------------------------------------------------------------------------------

@pytest.mark.parametrize("column", ["hash", "prev_hash", "content_hash"])
def test_a_null_beside_a_value_holding_the_separator_is_left_to_the_walk(tampered: Setup, column: str) -> None:
    """NOT NULL dropped from the schema (a forger owns the database): event 19's value NULL, event 20's both
    values joined with ','. group_concat/string_agg skip the NULL, the split finds the count it expects and
    every list lines up again: the sweep sees the log as it was, the walk sees a NULL."""
    drop_not_null(tampered, column)
    raw = tampered.raw
    e18, e19, e20 = raw.event(18), raw.event(19), raw.event(20)
    if column == "hash":
        raw.set_event(19, hash=None)
        raw.set_event(20, hash=f"{e19['hash']},{e20['hash']}")
    elif column == "prev_hash":
        raw.set_event(19, prev_hash=None)
        h19 = raw.rehash(19)
        raw.set_event(20, prev_hash=f"{e18['hash']},{h19}")
        raw.set_head(20, raw.rehash(20))
    else:  # 19 is D's last event, 20 B's
        assert (e19["item_id"], e20["item_id"]) == ("D", "B")
        raw.set_event(19, content_hash=None)
        raw.set_event(20, content_hash=f"{e19['content_hash']},{e20['content_hash']}")
        raw.rewrite_from(19)
    assert not same(tampered.wf).ok


SEPARATED = [("hash", "a,b"), ("prev_hash", "a,b"), ("content_hash", "a,b"), ("item_id", "A\nB"),
             ("comment", "x\ny,z"), ("actor", "a\nb")]


@pytest.mark.parametrize(("db_url", "column", "value"),  # PostgreSQL's foreign key keeps item_id to an item
                         [("sqlite", c, v) for c, v in SEPARATED] +
                         [("postgresql", c, v) for c, v in SEPARATED if c != "item_id"], indirect=["db_url"])
def test_a_separator_alone_is_left_to_the_walk(tampered: Setup, column: str, value: str) -> None:
    tampered.raw.set_event(7, **{column: value})
    if column != "hash":
        tampered.raw.rewrite_from(7)
    same(tampered.wf)


# -- the step: what the rules read -------------------------------------------------------------------------

NOT_BLANK = ["\x00", " \x00 ", "\u200b", "\u180e", "\ufeff", "\u2041", "x", " \u3000x\u3000 "]


@pytest.mark.parametrize(("db_url", "reason"),  # PostgreSQL's text holds no NUL
                         [("sqlite", r) for r in NOT_BLANK] +
                         [("postgresql", r) for r in NOT_BLANK if "\x00" not in r], indirect=["db_url"])
def test_reasons_that_are_not_blank_agree(tampered: Setup, reason: str) -> None:
    """Not blank to str.strip(): zero-width and Mongolian vowel separator, BOM, NUL (SQLite only)."""
    seq = tampered.seqs["C", "withhold"]
    tampered.raw.set_event(seq, reason=reason)
    tampered.raw.rewrite_from(seq)
    assert same(tampered.wf).ok


@pytest.mark.parametrize("reason", [None, "", "\x1c\x1d\x1e\x1f\x85\xa0", "\u2028\u2029 \t"])
def test_blank_or_absent_reasons_agree(tampered: Setup, reason: str | None) -> None:
    seq = tampered.seqs["C", "withhold"]
    tampered.raw.set_event(seq, reason=reason)
    tampered.raw.rewrite_from(seq)
    assert not same(tampered.wf).ok


NEAR_MISSES = [("ground", "art16 "), ("decision", "full\u200b"), ("actor", "head\x00"), ("role", "Leader"),
               ("action", "approve ")]


@pytest.mark.parametrize(("db_url", "column", "value"),  # PostgreSQL's text holds no NUL
                         [("sqlite", c, v) for c, v in NEAR_MISSES] +
                         [("postgresql", c, v) for c, v in NEAR_MISSES if "\x00" not in v], indirect=["db_url"])
def test_near_miss_values_in_the_step_agree(tampered: Setup, column: str, value: Any) -> None:
    seq = {"ground": tampered.seqs["C", "withhold"], "decision": tampered.seqs["B", "clear"]}.get(column, 12)
    tampered.raw.set_event(seq, **{column: value})
    tampered.raw.rewrite_from(seq)
    same(tampered.wf)


def test_a_comment_or_paper_only_change_agrees(tampered: Setup) -> None:
    """Fields outside the step (comment, recorded_by, paper, at, pipeline name), forged and rehashed."""
    tampered.raw.set_event(9, comment="改过", recorded_by="head", paper_sha256="cd" * 32, pipeline="other",
                           at="2020-01-01T00:00:00+00:00")
    tampered.raw.rewrite_from(9)
    assert same(tampered.wf).ok


# -- items -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("column", "value"), [
    ("tags", "[]"), ("tags", '["result"]'), ("tags", '["result" ]'), ("tags", '["result", "decision"]'),
    ("tags", "[1]"), ("tags", '"result"'), ("tags", '{"result": 1}'), ("tags", "not json"),
    ("tags", '["result", null]'), ("tags", '["\\u0072esult"]'), ("tags", None),
    ("formed_on", "20261008"), ("formed_on", "2026-10-08 "), ("formed_on", None), ("schedule", "finance"),
    ("interprets", "B"), ("title", "2026年第三季度财务收支 "), ("body", None), ("category", "3.5")])
def test_signed_content_altered_agrees(tampered: Setup, column: str, value: str | None) -> None:
    """Item A was signed with tags ["result"] and formed on 2026-10-08: whatever its signed fields hold now, the
    sweep (the database builds the content it hashes) and the walk (Python builds it) agree."""
    if value is None and column in ("tags", "body"):
        drop_not_null(tampered, column, "zwgk_item")
    tampered.raw.set_item("A", **{column: value})
    report = same(tampered.wf)
    if value in ('["result"]', '["result" ]'):  # the same list, written another way: still what was signed
        assert report.ok


def test_a_hash_in_capitals_or_of_another_length_is_left_to_the_walk(tampered: Setup) -> None:
    drop_not_null(tampered, "hash")
    drop_not_null(tampered, "prev_hash")
    raw = tampered.raw
    good = raw.event(5)["hash"]
    for forged in (good.upper(), good + "0", good[:-1], good[:32] + "," + good[33:]):
        raw.set_event(5, hash=forged)
        raw.set_event(6, prev_hash=forged)
        raw.rewrite_from(6)
        assert not same(tampered.wf).ok


def test_an_item_that_differs_only_in_case_is_left_to_the_walk(tampered: Setup) -> None:
    raw = tampered.raw
    cols = ", ".join(c for c in ("title", "body", "unit_id", "category", "timing", "kind", "interprets", "tags",
                                 "formed_on", "drafter", "state", "round", "version", "created_at", "updated_at",
                                 "schedule", "period"))
    raw.run(f"INSERT INTO zwgk_item (id, {cols}) SELECT 'a', {cols} FROM zwgk_item WHERE id = 'A'")
    assert not same(tampered.wf).ok
    if not raw.pg:  # A's events moved to 'a' (and A itself gone)
        for s in sorted(s for (item, _), s in tampered.seqs.items() if item == "A"):
            raw.set_event(s, item_id="a")
        raw.rewrite_from(1)
        raw.run("DELETE FROM zwgk_item WHERE id = 'A'")
        assert same(tampered.wf).ok


def test_an_item_without_events_and_events_without_an_item_are_left_to_the_walk(tampered: Setup) -> None:
    raw = tampered.raw
    for s in sorted(s for (item, _), s in tampered.seqs.items() if item == "C"):
        raw.set_event(s, item_id="D" if raw.pg else "Z")
    raw.rewrite_from(1)
    assert not same(tampered.wf).ok


def test_items_with_the_same_history_share_one_replay(wf: Workflow) -> None:
    """The sweep replays each distinct history once: three items of one history, counted alike."""
    for _ in range(3):
        publish(wf, new_info(wf))
    report = same(wf)
    assert report.ok and report.items == 3


def test_a_log_swept_in_chunks_of_one_agrees(tampered: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweep, "CHUNK", 1)
    assert same(tampered.wf).ok
    tampered.raw.set_event(10, comment="x")
    tampered.raw.rehash(10)
    assert not same(tampered.wf).ok


def test_a_history_joined_out_of_order_is_left_to_the_walk(lite: Setup) -> None:
    """SQLite joins each item's steps in the order its index is scanned. A forger who rebuilds that index to
    scan E's events as create, submit(2), return(3), submit(1), return(2) gets a history that replays just as
    well (the same edges) but ends in round 2; with E's row set to round 2, only the order tells."""
    wf, raw = lite.wf, lite.raw
    new_info(wf, id="E")
    for _ in range(2):
        wf.advance("E", "submit", actor="clerk")
        wf.advance("E", "return", actor="sec", reason="缺少附件")
    create, submit1, return2, submit2, return3 = (s.seq for s in wf.history("E"))
    order = {create: 0, submit2: 1, return3: 2, submit1: 3, return2: 4}
    raw.run("DROP INDEX ix_zwgk_event_item")
    whens = " ".join(f"WHEN {seq} THEN {rank}" for seq, rank in order.items())
    raw.run(f"CREATE INDEX ix_zwgk_event_item ON zwgk_event (item_id, CASE seq {whens} ELSE seq END)")
    raw.set_item("E", round=2)
    assert same(wf).first_problem == ("item E: state draft round 2 disagrees with its signatures "
                                      "(replay gives draft round 3)")


@pytest.mark.parametrize("moved", [[15], [13], [14, 15]])
def test_events_of_an_item_id_equal_but_for_case_under_the_columns_collation_are_left_to_the_walk(
        lite: Setup, moved: list[int]) -> None:
    """zwgk_event.item_id declared COLLATE NOCASE: some of C's events moved to an item 'c' (which does not
    exist), the chain rewritten. Grouped by the column's collation they would make C's history whole again."""
    rewrite_sqlite_ddl(lite, "zwgk_event", r"(\bitem_id VARCHAR\(64\) NOT NULL)", r"\1 COLLATE NOCASE")
    lite.raw.run("REINDEX ix_zwgk_event_item")
    for seq in moved:
        lite.raw.set_event(seq, item_id="c")
    lite.raw.rewrite_from(moved[0])
    assert not same(lite.wf).ok


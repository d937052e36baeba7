"""Second red team of the bulk sweep behind `verify` (chunk strings, per-item GROUP BY histories, signed content
built in SQL, the SQLite helper process). Every test forges a state and asserts the invariant with `same`: the
sweep gives exactly the walk's own report.

Docstrings say FINDING (a bug this review found, fixed since: the test failed while it was there) or HELD (an
attempt the sweep withstood)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import seed
from tests.tampering import Raw, Setup, build, copy_sqlite
from tests.test_sweep import walked
from tests.test_sweep_redteam import drop_not_null, rewrite_sqlite_ddl, same
from workflow import Digest, Workflow, chain, sweep
from workflow.model import signed_content_sql
from workflow.schema import GENESIS_HASH

# -- helpers ------------------------------------------------------------------------------------------------

def alter_sqlite(setup: Setup, table: str, pattern: str, repl: str, reindex: str | None = None) -> None:
    """Rewrite a SQLite table's declared SQL behind the engine's back (writable_schema), then REINDEX."""
    rewrite_sqlite_ddl(setup, table, pattern, repl)
    if reindex:
        setup.raw.run(f"REINDEX {reindex}")


def rebuild_sqlite(setup: Setup, table: str, pattern: str, repl: str) -> None:
    """Rebuild a SQLite table under a new declaration (its rows copied as they are), and its indexes."""
    assert not setup.raw.pg
    raw = setup.raw
    ((ddl,),) = raw.rows("SELECT sql FROM sqlite_master WHERE name = :t", t=table)
    indexes = [sql for (sql,) in raw.rows("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t "
                                          "AND sql IS NOT NULL", t=table)]
    new, n = re.subn(pattern, repl, ddl)
    assert n == 1, ddl
    raw.run(new.replace(f"CREATE TABLE {table}", f"CREATE TABLE {table}_new", 1))
    raw.run(f"INSERT INTO {table}_new SELECT * FROM {table}")
    raw.run(f"DROP TABLE {table}")
    raw.run(f"ALTER TABLE {table}_new RENAME TO {table}")
    for sql in indexes:
        raw.run(sql)


def pg_rewrite_from(raw: Raw, seq: int) -> None:
    """Relink and rehash from `seq` on with the hash PostgreSQL itself computes (`canonical_sql`), which the
    walk accepts first: a forger's rewrite."""
    assert raw.pg
    last = raw.tail()[0]
    prev = raw.event(seq - 1)["hash"] if seq > 1 else GENESIS_HASH
    for s in range(seq, last + 1):
        raw.set_event(s, prev_hash=prev)
        raw.run(f"UPDATE zwgk_event SET hash = {chain.canonical_sql('postgresql')} WHERE seq = :s", s=s)
        ((prev,),) = raw.rows("SELECT hash FROM zwgk_event WHERE seq = :s", s=s)
    raw.set_head(last, prev.rstrip())


def last_seq_of(setup: Setup, item: str) -> int:
    return max(s for (i, _), s in setup.seqs.items() if i == item)


def seqs_of(setup: Setup, item: str) -> list[int]:
    return sorted(s for (i, _), s in setup.seqs.items() if i == item)


def sign_db_content(setup: Setup, item: str) -> str:
    """A forger's re-signing: the item's last event now signs the content text the *database* builds
    (`signed_content_sql`), and the chain is rewritten from there (hashed in Python, which the walk accepts)."""
    raw = setup.raw
    dialect = "postgresql" if raw.pg else "sqlite"
    built = signed_content_sql(dialect)
    unguarded = re.fullmatch(r"CASE WHEN .*? THEN (.*) END", built, re.S)  # SQLite: even a number's text
    expr = chain.hashed_sql(unguarded.group(1) if unguarded else built, dialect)
    ((value,),) = raw.rows(f"SELECT {expr} FROM zwgk_item WHERE id = :id", id=item)
    h = value if raw.pg else chain.sha256_hex(value)
    seq = last_seq_of(setup, item)
    raw.set_event(seq, content_hash=h)
    raw.rewrite_from(seq)
    return h


def forge_event_5(path: Path) -> None:
    """Event 5 of the file's log changed and rehashed, event 6's link left broken."""
    raw = Raw(f"sqlite:///{path}")
    try:
        raw.drop_guards()
        raw.set_event(5, comment="forged")
        raw.rehash(5)
    finally:
        raw.close()


def walk_fails(setup: Setup, against: Digest | None = None) -> chain.Report:
    report = walked(setup.wf, against)
    assert not report.ok, "the forgery should be one the walk rejects"
    return report


# == FINDINGS ===============================================================================================

# -- 1. PostgreSQL: casts to text hide what the walk reads ----------------------------------------------------

@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_pg_hash_column_retyped_as_char_is_left_to_the_walk(tampered: Setup) -> None:
    """FINDING. One ALTER, no row touched: `hash` becomes char(70), so every stored hash is padded with six
    spaces. The walk reads the padded text: '<hash>      ' is not the recomputed hash, "event 1: contents do
    not match its hash". The chunk query's `string_agg(hash::text, ...)` (sweep.py `_chunk_sql`) casts bpchar
    to text, which drops trailing blanks, so every chunk looks sound; the head row (varchar) matches the
    trimmed last hash, and the sweep vouches."""
    tampered.raw.run("ALTER TABLE zwgk_event ALTER COLUMN hash TYPE char(70)")
    walk_fails(tampered)
    same(tampered.wf)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_pg_prev_hash_retyped_as_char_and_rehashed_is_left_to_the_walk(tampered: Setup) -> None:
    """FINDING. `prev_hash` char(70), then every event rehashed with PostgreSQL's own canonical form (to_json of
    the padded value: the walk's first check accepts it). The walk compares the padded prev_hash with the
    hash before it: "event 1: previous-hash link broken". `prev_hash::text` in `_chunk_sql` strips the
    padding and the links look whole: the sweep vouches."""
    tampered.raw.run("ALTER TABLE zwgk_event ALTER COLUMN prev_hash TYPE char(70)")
    pg_rewrite_from(tampered.raw, 1)
    walk_fails(tampered)
    same(tampered.wf)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_pg_prev_hash_retyped_as_char_alone_is_declined(tampered: Setup) -> None:
    """HELD. prev_hash char(70) without the rehash: prev_hash is inside the canonical form, where to_json keeps
    the padding, so the database's hashes no longer match and the sweep declines."""
    tampered.raw.run("ALTER TABLE zwgk_event ALTER COLUMN prev_hash TYPE char(70)")
    same(tampered.wf)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("kind", ["json", "jsonb"])
def test_pg_tags_column_retyped_as_json_is_left_to_the_walk(tampered: Setup, kind: str) -> None:
    """FINDING. `ALTER ... tags TYPE json(b)`: psycopg hands the walk a list, `json.loads(list)` raises and the
    walk reports "a signed field holds a value no signature made" for every item; the sweep's
    `tags::json` (model.py `signed_content_sql`) builds the very text that was signed and vouches."""
    tampered.raw.run(f"ALTER TABLE zwgk_item ALTER COLUMN tags TYPE {kind} USING tags::{kind}")
    walk_fails(tampered)
    same(tampered.wf)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_pg_formed_on_retyped_as_date_is_left_to_the_walk(tampered: Setup) -> None:
    """FINDING. `ALTER ... formed_on TYPE date`: psycopg gives the walk a `date`, `date.fromisoformat(date)`
    raises TypeError: a problem for item A. `to_json(formed_on)` writes "2026-10-08": the sweep vouches."""
    tampered.raw.run("ALTER TABLE zwgk_item ALTER COLUMN formed_on TYPE date USING formed_on::date")
    walk_fails(tampered)
    same(tampered.wf)


# -- 2. SQLite: json(tags) stops at a NUL --------------------------------------------------------------------

@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("tags", ['["result"]\x00', '["result"]\x00,"forged"]', '["result"]\x00 not json at all'])
def test_tags_with_a_nul_after_the_list_are_left_to_the_walk(tampered: Setup, tags: str) -> None:
    """FINDING. Nothing re-signed: item A's tags get anything appended after a NUL. SQLite's json() parses its
    argument as a C string (sqlite3_value_text), stops at the NUL and gives back '["result"]', exactly what
    was signed (model.py `value`: `json(tags)`): the sweep vouches. Python's json.loads sees the whole text,
    "Extra data", and the walk reports the item."""
    tampered.raw.set_item("A", tags=tags)
    walk_fails(tampered)
    same(tampered.wf)


# -- 3. The database's content text is not Python's: a forger signs the database's ---------------------------

DB_ONLY_CONTENT = [  # (column, value): the database's canonical text differs from Python's
    ("tags", '"result"'),              # a JSON string: Python signs list("result") = ["r","e",...]
    ("tags", '{"result": 1}'),         # an object: Python signs its keys
    ("tags", "7"),                     # a number: list(7) raises in Python
    ("tags", "[1e2]"),                 # json() keeps the number as written, Python writes 100.0
    ("tags", '["\\u0072esult"]'),      # json() keeps the escape, Python writes "result"
    ("tags", '["\\/"]'),
    ("tags", '[{"b":1,"a":2}]'),       # json() keeps key order, Python sorts keys
    ("tags", '[{"a":1,"a":2}]'),       # duplicate keys
    ("tags", '["\\ud800"]'),           # a lone surrogate: Python cannot even encode it
    ("formed_on", "20261008"),         # date.fromisoformat normalises to 2026-10-08
    ("formed_on", "2026-W41-4"),
    ("formed_on", ""),                 # Python signs null for a falsy formed_on, the database ""
]
PG_ERRORS = {'"result"', '{"result": 1}', "7"}  # json_array_elements refuses them: the sweep declines there


@pytest.mark.parametrize(("db_url", "column", "value"),
                         [("sqlite", c, v) for c, v in DB_ONLY_CONTENT] +
                         [("postgresql", c, v) for c, v in DB_ONLY_CONTENT if v not in PG_ERRORS],
                         indirect=["db_url"])
def test_content_the_database_writes_differently_and_resigned_is_left_to_the_walk(
        tampered: Setup, column: str, value: str) -> None:
    """FINDING. Item A's field forged, then its last signature re-signed over the content text the *database*
    builds (model.py `signed_content_sql`; the chain rewritten after it, in Python, which the walk accepts).
    The walk builds the content in Python (`chain.item_hashes`), which is the definition: it differs (or
    cannot be built) and the walk reports item A. The sweep compares the signed hash with the database's own
    text only and vouches."""
    tampered.raw.set_item("A", **{column: value})
    sign_db_content(tampered, "A")
    walk_fails(tampered)
    same(tampered.wf)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("title", [1e20, 1e-7, 123456789012345678.0])
def test_a_real_title_resigned_is_left_to_the_walk(tampered: Setup, title: float) -> None:
    """FINDING. `title` declared without a type (writable_schema), so it holds a REAL; json_quote() writes 15
    significant digits and '1.0e+20' where Python writes '1e+20': sign the database's text, the sweep vouches."""
    alter_sqlite(tampered, "zwgk_item", r"\btitle TEXT NOT NULL", "title NOT NULL")
    tampered.raw.set_item("A", title=title)
    assert tampered.raw.rows("SELECT typeof(title) FROM zwgk_item WHERE id = 'A'") == [("real",)]
    sign_db_content(tampered, "A")
    walk_fails(tampered)
    same(tampered.wf)


# -- 4. SQLite: histories in the order of whatever index bears the name ---------------------------------------

def test_histories_read_in_a_forged_index_order_are_left_to_the_walk(lite: Setup) -> None:
    """FINDING on 8c971cc, fixed at HEAD (279e0ed: each history's seqs are joined beside its steps and must
    ascend). C's three events stored in reverse (withhold at 13, create at 15), the chain rewritten: the walk
    finds event 13 of item C with no creation before it. The forger also recreates ix_zwgk_event_item on
    (item_id, CASE item_id WHEN 'C' THEN -seq ELSE seq END): `INDEXED BY ix_zwgk_event_item` + GROUP BY item_id
    (sweep.py `_histories_sql`) now scans C's events from 15 down, group_concat joins create, submit, withhold
    and the replay passes. The docstring's "an order it did not keep could only make the replay fail" does not
    hold when the forger picks the order."""
    raw = lite.raw
    first, _, last = seqs_of(lite, "C")
    raw.run("UPDATE zwgk_event SET seq = -1 WHERE seq = :s", s=first)
    raw.run("UPDATE zwgk_event SET seq = :to WHERE seq = :s", to=first, s=last)
    raw.run("UPDATE zwgk_event SET seq = :to WHERE seq = -1", to=last)
    raw.rewrite_from(first)
    raw.run("DROP INDEX ix_zwgk_event_item")
    raw.run("CREATE INDEX ix_zwgk_event_item ON zwgk_event (item_id, CASE item_id WHEN 'C' THEN -seq ELSE seq END)")
    report = walk_fails(lite)
    assert report.first_problem == f"event {first}: item C has no creation event before it"
    same(lite.wf)


def test_histories_in_a_descending_index_are_left_to_the_walk(lite: Setup) -> None:
    """HELD (on 8c971cc too; at HEAD the seq-order check would catch it anyway). ix_zwgk_event_item recreated
    as (item_id, seq DESC) and every item's events stored in reverse order, relinked: every history reads forwards
    to the sweep, backwards to the walk."""
    raw = lite.raw
    items = ["A", "B", "C", "D"]
    for item in items:
        seqs = seqs_of(lite, item)
        for s in seqs:
            raw.run("UPDATE zwgk_event SET seq = :to WHERE seq = :s", to=-s, s=s)
        for s, to in zip(seqs, reversed(seqs), strict=True):
            raw.run("UPDATE zwgk_event SET seq = :to WHERE seq = :s", to=to, s=-s)
    raw.rewrite_from(1)
    raw.run("DROP INDEX ix_zwgk_event_item")
    raw.run("CREATE INDEX ix_zwgk_event_item ON zwgk_event (item_id, seq DESC)")
    walk_fails(lite)
    same(lite.wf)


# -- 5. GROUP BY merges item ids the walk keeps apart ---------------------------------------------------------

# The same with COLLATE NOCASE on SQLite: test_sweep_redteam.py, test_events_of_an_item_id_equal_but_for_case...


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_item_ids_merged_by_a_nondeterministic_collation_are_left_to_the_walk(tampered: Setup) -> None:
    """FINDING on 8c971cc, fixed at HEAD (be660df: GROUP BY item_id COLLATE "C"). A case-insensitive ICU
    collation (deterministic = false) on zwgk_event.item_id, the foreign key dropped: GROUP BY item_id merges 'A'
    and 'a' as above."""
    raw = tampered.raw
    if not raw.rows("SELECT 1 FROM pg_collation WHERE collprovider = 'i' LIMIT 1"):
        pytest.skip("this PostgreSQL has no ICU collations")
    raw.run("CREATE COLLATION IF NOT EXISTS zt_ci (provider = icu, locale = 'und-u-ks-level2', "
            "deterministic = false)")
    for (name,) in raw.rows("SELECT conname FROM pg_constraint WHERE conrelid = 'zwgk_event'::regclass "
                            "AND contype = 'f'"):
        raw.run(f'ALTER TABLE zwgk_event DROP CONSTRAINT "{name}"')
    raw.run("ALTER TABLE zwgk_event ALTER COLUMN item_id TYPE varchar(64) COLLATE zt_ci")
    seq = seqs_of(tampered, "A")[1]
    raw.set_event(seq, item_id="a")
    raw.rewrite_from(seq)
    walk_fails(tampered)
    same(tampered.wf)


# -- 6. SQLite: a reason the rules read as blank, the sweep as given ------------------------------------------

@pytest.mark.parametrize("reason", [0, 0.0])
def test_a_numeric_zero_reason_is_left_to_the_walk(lite: Setup, reason: float) -> None:
    """FINDING, fixed: `reason` declared BLOB (no affinity, writable_schema) holds the INTEGER 0. Canonical forms
    agree (json_array and Python both write 0). The walk read it as blank ("needs a reason"); the sweep's step
    said `trim(0, :blank) = '0'`, given. Now the step marks a reason that is not text, the sweep declines, and
    the walk names the number."""
    alter_sqlite(lite, "zwgk_event", r"\breason TEXT,", "reason BLOB,")
    seq = lite.seqs["C", "withhold"]
    lite.raw.set_event(seq, reason=reason)
    lite.raw.rewrite_from(seq)
    report = walk_fails(lite)
    assert report.first_problem == (f"event {seq}: its reason is {reason!r}, which no signature writes "
                                    "(a signature the pipeline would have refused)")
    same(lite.wf)


def test_a_nonzero_numeric_reason_is_named_by_the_walk(lite: Setup) -> None:
    """FINDING, fixed (a walk defect the sweep hid): reason INTEGER 7. The walk called `(7 or "").strip()` and
    raised AttributeError, while the sweep read trim(7) = '7' as given and vouched."""
    alter_sqlite(lite, "zwgk_event", r"\breason TEXT,", "reason BLOB,")
    seq = lite.seqs["C", "withhold"]
    lite.raw.set_event(seq, reason=7)
    lite.raw.rewrite_from(seq)
    assert walk_fails(lite).first_problem == (f"event {seq}: its reason is 7, which no signature writes "
                                              "(a signature the pipeline would have refused)")
    same(lite.wf)


# -- 7. The helper process is handed a path, not the engine's database ---------------------------------------

def test_a_helper_started_after_a_chdir_checks_another_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FINDING on 8c971cc, fixed at HEAD (be660df: the helper gets the file `PRAGMA database_list` names for
    verify's own connection). A relative SQLite URL: SQLAlchemy resolves it once, when the engine is made;
    `_helper` resolved it again (`os.path.abspath(url.database)`) when verify ran. After a chdir (a daemon's, say)
    into a folder
    that holds a copy of the log from before the forgery, the helper vouches for the copy's chain, verify links
    the rest of the real log to it, and the forgery in the lent chunks (event 5 changed and rehashed, event 6's
    link left broken) goes unseen. Helper or not, the report should be the walk's."""
    monkeypatch.setattr(sweep, "HELPER_FROM", 0)
    monkeypatch.setattr(sweep, "CHUNK", 3)
    real, elsewhere = tmp_path / "real", tmp_path / "elsewhere"
    real.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(real)
    wf = seed(Workflow("sqlite:///zwgk.db"))
    try:
        build(wf)
        copy_sqlite(real / "zwgk.db", elsewhere / "zwgk.db")  # a backup, or yesterday's copy
        forge_event_5(real / "zwgk.db")
        os.chdir(elsewhere)
        report = walked(wf)
        assert report.first_problem == "event 6: previous-hash link broken (event deleted, inserted or reordered)"
        same(wf)
    finally:
        wf.close()


# == HELD ===================================================================================================

@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_duplicate_item_rows_are_declined(tampered: Setup) -> None:
    """HELD. zwgk_item rebuilt without its key, A twice: the sweep's `by_item.pop` finds nothing for the second
    row and declines. (The walk compared both rows with the last row's content hash and said nothing; it now
    names the second row.)"""
    rebuild_sqlite(tampered, "zwgk_item", r"PRIMARY KEY \(id\), ", "")
    cols = "title, body, unit_id, category, timing, kind, interprets, tags, formed_on, drafter, state, round, " \
           "version, created_at, updated_at, schedule, period"
    tampered.raw.run(f"INSERT INTO zwgk_item (id, {cols}) SELECT id, {cols} FROM zwgk_item WHERE id = 'A'")
    assert same(tampered.wf).first_problem == "item A: stored twice"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_null_seq_is_named_not_crashed_on(tampered: Setup) -> None:
    """FINDING, fixed (in the walk): zwgk_event rebuilt with seq as a plain column, one seq NULL. The walk
    compared None with a number and raised TypeError."""
    rebuild_sqlite(tampered, "zwgk_event", r"(?s)seq INTEGER NOT NULL,(.*)PRIMARY KEY \(seq\), ", r"seq INTEGER,\1")
    tampered.raw.run("UPDATE zwgk_event SET seq = NULL WHERE seq = 7")
    report = same(tampered.wf)
    assert report.first_problem == "event after 0: its sequence number is None, not a whole number"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("item_id", [1, 1.0, "1", " 1"])
def test_item_ids_of_other_types_agree(tampered: Setup, item_id: Any) -> None:
    """HELD. item_id without affinity: INTEGER 1, REAL 1.0, TEXT '1' in events and items, any mix: SQLite's GROUP
    BY groups exactly as Python's dict keys (1 == 1.0, 1 != '1')."""
    alter_sqlite(tampered, "zwgk_event", r"\bitem_id VARCHAR\(64\) NOT NULL", "item_id NOT NULL",
                 reindex="ix_zwgk_event_item")
    alter_sqlite(tampered, "zwgk_item", r"\bid VARCHAR\(64\) NOT NULL", "id NOT NULL")
    for s in seqs_of(tampered, "A"):
        tampered.raw.set_event(s, item_id=1)
    tampered.raw.rewrite_from(1)
    tampered.raw.set_item("A", id=item_id)
    same(tampered.wf)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_seq_without_integer_primary_key_agrees(tampered: Setup) -> None:
    """HELD. zwgk_event rebuilt with seq as a plain column: duplicate, REAL and TEXT seq values. The chunk's seq
    list and the count/max check catch each."""
    rebuild_sqlite(tampered, "zwgk_event", r"PRIMARY KEY \(seq\), ", "")
    raw = tampered.raw
    raw.run("INSERT INTO zwgk_event SELECT * FROM zwgk_event WHERE seq = 7")
    same(tampered.wf)
    raw.run("DELETE FROM zwgk_event WHERE rowid = (SELECT max(rowid) FROM zwgk_event)")
    raw.run("UPDATE zwgk_event SET seq = 7.5 WHERE seq = 7")
    same(tampered.wf)
    raw.run("UPDATE zwgk_event SET seq = '7' WHERE seq = 7.5")
    same(tampered.wf)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_tie_on_max_seq_for_the_bare_content_hash_is_declined(tampered: Setup) -> None:
    """HELD. Without the key, two rows at seq 8 (A's publish), the copy with another content hash, and event 9
    dropped to keep the count: the chunk's seq list says 1..20 no more."""
    rebuild_sqlite(tampered, "zwgk_event", r"PRIMARY KEY \(seq\), ", "")
    raw = tampered.raw
    raw.run("INSERT INTO zwgk_event SELECT * FROM zwgk_event WHERE seq = 8")
    raw.run("UPDATE zwgk_event SET content_hash = :h WHERE rowid = (SELECT max(rowid) FROM zwgk_event)", h="0" * 64)
    raw.delete_events("seq = 9")
    same(tampered.wf)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_nocase_index_alone_changes_nothing(tampered: Setup) -> None:
    """HELD. Only the index made NOCASE (the column stays BINARY): GROUP BY can no longer use it for order, the
    groups stay apart, the sweep declines for the moved event as the walk reports it."""
    raw = tampered.raw
    raw.run("DROP INDEX ix_zwgk_event_item")
    raw.run("CREATE INDEX ix_zwgk_event_item ON zwgk_event (item_id COLLATE NOCASE, seq)")
    same(tampered.wf)
    seq = seqs_of(tampered, "A")[1]
    raw.set_event(seq, item_id="a")
    raw.rewrite_from(seq)
    same(tampered.wf)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_missing_or_partial_item_index_is_declined(tampered: Setup) -> None:
    """HELD. Without ix_zwgk_event_item (or with a partial one the WHERE does not imply) INDEXED BY fails to
    prepare: the sweep raises, verify walks."""
    raw = tampered.raw
    raw.run("DROP INDEX ix_zwgk_event_item")
    same(tampered.wf)
    raw.run("CREATE INDEX ix_zwgk_event_item ON zwgk_event (item_id, seq) WHERE item_id <> 'C'")
    same(tampered.wf)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("column", ["hash", "prev_hash"])
def test_hashes_with_trailing_blanks_are_declined_on_sqlite(tampered: Setup, column: str) -> None:
    """HELD. The SQLite counterpart of the char(70) finding: group_concat joins the exact text, padding and all."""
    raw = tampered.raw
    raw.run(f"UPDATE zwgk_event SET {column} = {column} || '      '")
    same(tampered.wf)


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.parametrize("at", [3, 6, 15, 16, 18, 19])
def test_a_relinked_forgery_at_a_chunk_boundary_with_a_digest_agrees(
        tampered: Setup, monkeypatch: pytest.MonkeyPatch, at: int) -> None:
    """HELD. Chunks of 3 with the helper (the whole chain, on SQLite): the digest before, at and after a forged
    event at a boundary, the chain rewritten after it."""
    monkeypatch.setattr(sweep, "HELPER_FROM", 0)
    monkeypatch.setattr(sweep, "CHUNK", 3)
    kept = Digest(at, tampered.raw.event(at)["hash"])
    tampered.raw.set_event(at, comment="改过")
    tampered.raw.rewrite_from(at)
    for against in (None, kept, Digest(at - 1, tampered.raw.event(at - 1)["hash"]),
                    Digest(at + 1, tampered.raw.event(at + 1)["hash"])):
        same(tampered.wf, against)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_hash_that_is_a_blob_beside_a_null_is_declined(tampered: Setup) -> None:
    """HELD. NULL prev_hash at 10 and BLOB hash at 11 (NOT NULL dropped): `odd` counts both."""
    drop_not_null(tampered, "prev_hash")
    raw = tampered.raw
    raw.set_event(10, prev_hash=None)
    raw.run("UPDATE zwgk_event SET hash = CAST(hash AS BLOB) WHERE seq = 11")
    same(tampered.wf)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_generated_json_column_cannot_put_a_newline_into_a_canonical_form(tampered: Setup) -> None:
    """HELD. A JSON-subtyped value would be embedded raw by json_array(); a stored column carries no subtype,
    so a comment that is text holding JSON is quoted like any text, newline escaped."""
    raw = tampered.raw
    raw.set_event(12, comment='["a\nb"]')
    raw.rewrite_from(12)
    ((canon,),) = raw.rows(f"SELECT {chain.canonical_sql('sqlite')} FROM zwgk_event WHERE seq = 12")
    assert "\n" not in canon
    same(tampered.wf)


def test_a_helper_for_a_path_with_odd_characters_agrees(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """HELD. A database path with spaces, '?', '#', '%', quotes and non-ASCII: handed to the helper in JSON and
    opened by plain sqlite3.connect (not as a URI), it is the same file."""
    monkeypatch.setattr(sweep, "HELPER_FROM", 0)
    monkeypatch.setattr(sweep, "CHUNK", 3)
    folder = tmp_path / "a b?c#d%20'\"政务"
    folder.mkdir()
    path = folder / "zwgk.db"
    wf = seed(Workflow(f"sqlite:///{path}"))
    try:
        build(wf)
        assert same(wf).ok
        forge_event_5(path)
        assert not same(wf).ok
    finally:
        wf.close()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("text", ["\x7f\x80\x9f", "\u2028\u2029", "\\u0000", "\ud7ff\ue000\uffff", "😀\U0010ffff"])
def test_pg_to_json_escapes_like_python(tampered: Setup, text: str) -> None:
    """HELD. Item titles that PostgreSQL's to_json() and Python's JSON must write alike; re-signed by the
    database's own text, so a difference would show as the walk rejecting what the sweep accepts."""
    tampered.raw.set_item("A", title=text)
    sign_db_content(tampered, "A")
    assert same(tampered.wf).ok

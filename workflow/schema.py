"""Tables, all prefixed `zwgk_` so they can live beside a host system's own."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

PREFIX = "zwgk_"
VERSION_TABLE = "zwgk_alembic_version"
GENESIS_HASH = "0" * 64

metadata = MetaData()

# -- the chains: the only source of truth ---------------------------------------------------------------------

# One row per chain (the register's, and one per unit): its last event. Appending to a chain locks its row, so
# the signatures of one unit are ordered and those of different units never wait for each other.
chain = Table(
    "zwgk_chain", metadata,
    Column("chain", String(64), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("at", String(40), nullable=False),  # the last event's time: a chain's time never goes backwards
)

# The kinds of case of the acts of authority (states.authority.AUTHORITY_KINDS), as the index below and the
# statement that uses it (acts_before) both say word for word.
ACTS_ONLY = "case_kind IN ('register', 'person', 'unit', 'pipeline', 'screen')"

# Append-only: the migrations add triggers that refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).
# `seq` is assigned under the chain's lock, so it is gapless within its chain. The columns are the hashed
# fields of `workflow.ledger.events.FIELDS`, in that order, then the hash.
event = Table(
    "zwgk_event", metadata,
    Column("chain", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("register_seq", Integer),  # a unit's event: the register's last event when it was decided
    Column("case_kind", String(32), nullable=False),
    Column("case_id", String(64), nullable=False),
    Column("round", Integer),
    Column("action", String(64), nullable=False),
    Column("from_state", String(64)),
    Column("to_state", String(64)),
    Column("actor", String(64)),
    Column("role", String(64)),
    Column("recorded_by", String(64)),
    Column("paper_sha256", String(64)),
    Column("operator", Text, nullable=False),
    Column("at", String(40), nullable=False),
    Column("comment", Text),
    Column("reason", Text),
    Column("ground", String(64)),
    Column("decision", Text),
    Column("pipeline", String(64)),  # the fingerprint of the pipeline in force (or adopted)
    Column("content_hash", String(64)),
    Column("data", Text),  # canonical JSON of what an act or a link carries besides
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_zwgk_event_case", "case_kind", "case_id", "chain", "seq"),
    # The acts of authority alone (`verify --since` folds them): a case's event never enters this index.
    Index("ix_zwgk_event_acts", "chain", "seq", sqlite_where=text(ACTS_ONLY), postgresql_where=text(ACTS_ONLY)),
)

# Every pipeline definition ever adopted, by its fingerprint (the SHA-256 of `definition`).
pipeline = Table(
    "zwgk_pipeline", metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("name", String(64), nullable=False),
    Column("version", String(64), nullable=False),
    Column("definition", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
)

# -- projections of the chains: what the engine decides on, rebuilt and checked by `verify` ------------------

unit = Table(
    "zwgk_unit", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("open", Boolean, nullable=False),
    Column("created_at", String(40), nullable=False),
)

person = Table(
    "zwgk_person", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("unit_id", String(64)),  # where they work; roles are held per unit (zwgk_role)
    Column("email", Text),  # contact details are not signed: they change without anyone's authority
    Column("phone", Text),
    Column("active", Boolean, nullable=False),
    Column("created_at", String(40), nullable=False),
)

# The roles each person holds in each chain: a unit's roles in its chain, `admin` in the register's.
role = Table(
    "zwgk_role", metadata,
    Column("chain", String(64), primary_key=True),
    Column("person_id", String(64), ForeignKey("zwgk_person.id"), primary_key=True),
    Column("role", String(64), primary_key=True),
    Index("ix_zwgk_role_person", "person_id"),
)

# The pipeline in force in each unit for each kind of case: the latest adopted in the unit's chain.
adopted = Table(
    "zwgk_adopted", metadata,
    Column("unit_id", String(64), ForeignKey("zwgk_unit.id"), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("pipeline", String(64), ForeignKey("zwgk_pipeline.fingerprint"), nullable=False),
    Column("seq", Integer, nullable=False),  # the adoption's event in the unit's chain
)

# One row per case, whatever its kind: the fold of its events (states.rules.Case) and its unit.
case = Table(
    "zwgk_case", metadata,
    Column("kind", String(32), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("unit_id", String(64), ForeignKey("zwgk_unit.id"), nullable=False),
    Column("state", String(64), nullable=False),
    Column("round", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("signers", Text, nullable=False),  # canonical JSON: action -> person, in this round
    Column("roles", Text, nullable=False),  # the roles signed as in this round, sorted, comma-separated
    Column("content_hash", String(64), nullable=False),
    Column("drafter", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Index("ix_zwgk_case_state", "kind", "state"),
    Index("ix_zwgk_case_unit", "unit_id", "kind"),
)

# The content of each item of information (a case of kind `item`): what its signatures sign, by hash.
item = Table(
    "zwgk_item", metadata,
    Column("id", String(64), primary_key=True),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("category", String(16), nullable=False),
    Column("timing", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("interprets", String(64), ForeignKey("zwgk_item.id")),
    Column("tags", Text, nullable=False),
    Column("formed_on", String(10)),
    Column("schedule", String(64)),  # a periodic schedule's id, with the period (2026Q3) it is for
    Column("period", String(16)),
    Column("attachments", Text),  # canonical JSON: the SHA-256 of each document it carries (zwgk_document), or NULL
    Column("doc_type", String(16)),  # rule (规章) or normative (行政规范性文件): what the annual report counts
    Column("statistics", Text),  # canonical JSON: the figures an annual report's item states (table 二)
    Column("interpreter", String(64)),  # an interpretation's: who interprets (谁起草、谁解读), if not its drafter
    Column("redactions", Text),  # canonical JSON: the spans withheld (部分公开, Art. 37), each with its ground, or NULL
    Column("redacted_body", Text),  # the body with those spans replaced: what is published, or NULL
    Index("ix_zwgk_item_interprets", "interprets"),
    Index("ix_zwgk_item_schedule", "schedule", "period"),
)

# The screening rules a screen was made with (workflow/screening.py), by the fingerprint its event names: the
# built-in rules, or a unit's own file merged over them.
screen_rules = Table(
    "zwgk_screen_rules", metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("definition", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
)

# The screening rules in force in each unit: the latest adopted in its chain (none: the built-in rules).
screen_adopted = Table(
    "zwgk_screen_adopted", metadata,
    Column("unit_id", String(64), ForeignKey("zwgk_unit.id"), primary_key=True),
    Column("rules", String(64), ForeignKey("zwgk_screen_rules.fingerprint"), nullable=False),
    Column("seq", Integer, nullable=False),
)

# The last number each unit gave its items of each calendar year (states/numbers.py): the next item's number is
# the one after, taken under the unit's chain head lock. `verify` holds it to the numbers the creations signed.
item_number = Table(
    "zwgk_item_number", metadata,
    Column("unit_id", String(64), ForeignKey("zwgk_unit.id"), primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last", Integer, nullable=False),
)

# A request for government information (依申请公开, a case of kind `request`): what its signatures sign, by hash.
# Nothing here names the applicant: their identity is in `zwgk_applicant`, which can be erased; the request signs a
# salted commitment to it. The reply is drafted here and signed with the rest.
request = Table(
    "zwgk_request", metadata,
    Column("id", String(64), primary_key=True),
    Column("received_via", String(16), nullable=False),  # in_person, registered_post, post, online, fax
    Column("received_on", String(10), nullable=False),  # the receipt date of Art. 31
    Column("applicant_type", String(16), nullable=False),  # the annual report's columns
    Column("applicant", String(64), nullable=False),  # the salted commitment to the applicant's identity
    Column("description", Text, nullable=False),  # the information asked for
    Column("form", String(16), nullable=False),  # how it is wanted: paper, electronic, ...
    Column("oral", Boolean, nullable=False),  # entered by the clerk for the applicant (代为填写, Art. 29)
    Column("reply", Text),  # canonical JSON of the reply drafted: its type, ground, the office holding it, text
    Index("ix_zwgk_request_received", "received_on"),
)

# Who asked: kept off the chains, so that it can be erased when its retention ends (个人信息保护法) without
# breaking a signature. `salt` and `identity` hash to the request's commitment; `key` groups one applicant's
# requests (the fees by count) without naming them.
applicant = Table(
    "zwgk_applicant", metadata,
    Column("request_id", String(64), ForeignKey("zwgk_request.id"), primary_key=True),
    Column("salt", String(64)),
    Column("identity", Text),  # canonical JSON: name, type, id document, contact details
    Column("key", String(64)),
    Column("erased_at", String(40)),
    Index("ix_zwgk_applicant_key", "key"),
)

# The last number each unit gave its requests of each year (as zwgk_item_number does for items).
request_number = Table(
    "zwgk_request_number", metadata,
    Column("unit_id", String(64), ForeignKey("zwgk_unit.id"), primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last", Integer, nullable=False),
)

# Documents by the SHA-256 of their bytes: the letters (告知书) and reports a signature names. Written once; a
# signed event holds the hash, and `verify` checks that every document named is here and hashes to it.
document = Table(
    "zwgk_document", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("media_type", String(100), nullable=False),
    Column("name", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", String(40), nullable=False),
)

# The deadlines still to be met. The due-date index holds only these, and the planner's only those it must
# look at again: closing a deadline takes its entries out of these two instead of moving them, a page fewer
# for each signature that closes a stage (bench/signatures.py). A query uses the due-date index only if it
# says LIVE_ONLY word for word.
LIVE = ("open", "overdue")
LIVE_ONLY = f"status IN ({', '.join(repr(status) for status in LIVE)})"

# A dated duty: created and closed in the transaction of the signature that causes it (or by the daemon's
# roll job for periodic schedules). `next_at` is when the planner must look at it again; NULL once closed.
deadline = Table(
    "zwgk_deadline", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("item_id", String(64), ForeignKey("zwgk_item.id")),
    Column("schedule", String(64)),
    Column("period", String(16)),
    Column("title", Text, nullable=False),
    Column("responsible", String(64)),
    Column("roles", String(200)),  # comma-separated: everyone active with one of them is responsible
    Column("unit_id", String(64)),
    Column("starts_on", String(10), nullable=False),  # the triggering day (not counted)
    Column("days", Integer),  # working days after starts_on; NULL: due on starts_on (or the next working day)
    Column("due_on", String(10), nullable=False),
    Column("provisional", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("step", Integer),  # the last reminder step planned, in working days relative to due_on
    Column("next_at", String(40)),
    Column("opened_by", String(80)),  # the event that opened it, as CHAIN:SEQ (NULL: a periodic schedule's)
    Column("asked_by", String(64)),  # who signed that event
    Column("closed_by", String(80)),  # the event that closed it, as CHAIN:SEQ
    Column("closed_at", String(40)),
    Column("closed_note", Text),
    Column("created_at", String(40), nullable=False),
    # A request's reply, or what stops its clock. No foreign key: SQLite adds such a column in place only without one
    # (a copied table would be refused while the outbox refers to it).
    Column("request_id", String(64)),
    Index("ix_zwgk_deadline_next", "next_at", sqlite_where=text("next_at IS NOT NULL"),
          postgresql_where=text("next_at IS NOT NULL")),
    Index("ix_zwgk_deadline_item", "item_id", "status"),
    Index("ix_zwgk_deadline_request", "request_id", "status"),
    Index("ix_zwgk_deadline_live", "due_on", sqlite_where=text(LIVE_ONLY), postgresql_where=text(LIVE_ONLY)),
)

# The reminder outbox. One row per (deadline, due day, step, recipient, channel): planning twice adds nothing.
notification = Table(
    "zwgk_notification", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(255), nullable=False),
    Column("deadline_id", Integer, ForeignKey("zwgk_deadline.id")),  # NULL: a seal's digest to a witness
    Column("due_on", String(10), nullable=False),  # a deadline moved (information changed) reminds again
    Column("step", String(32), nullable=False),
    Column("recipient", String(64), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("address", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("fields", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", String(40), nullable=False),
    Column("claimed_by", String(128)),
    Column("claimed_until", String(40)),
    Column("claim_token", String(32)),  # new at each claim: only its holder may renew or mark the row
    Column("last_error", Text),
    Column("sent_at", String(40)),
    Column("created_at", String(40), nullable=False),
    Column("acked_by", String(64)),  # a dead letter someone has seen to (`zwgk reminders --ack`)
    Column("acked_at", String(40)),
    UniqueConstraint("deadline_id", "due_on", "step", "recipient", "channel", name="uq_zwgk_notification_step"),
    UniqueConstraint("key", name="uq_zwgk_notification_key"),
    # One index serves every claim (a channel's filters the due rows) and every renewal (the `sending` rows): a
    # second, on (channel, status, next_attempt_at), slowed each sent-mark by a third (./dev bench deadlines).
    Index("ix_zwgk_notification_due", "status", "next_attempt_at"),
)

daemon = Table(
    "zwgk_daemon", metadata,
    Column("id", String(128), primary_key=True),
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", String(40), nullable=False),
    Column("beat_at", String(40), nullable=False),
    Column("stopped_at", String(40)),
    Column("planned", Integer, nullable=False),
    Column("sent", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
)

# On SQLite one daemon at a time does the work: it holds this lease and renews it.
lease = Table(
    "zwgk_lease", metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("until", String(40), nullable=False),
)

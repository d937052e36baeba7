"""Items of information, the first kind of case: their content, their creation and edits, their deadlines.

An item's content lives in `zwgk_item`; every signature on the item signs its hash. An interpretation of
another unit's policy is linked in both chains in one transaction (the policy's unit gets a `link` note).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from states import redaction
from states.authority import REGISTER, check_open
from states.errors import InputMissing, NotPublic, Phrase, ScreenBlocked
from states.kinds import ITEM, OVERRIDE, screens
from states.numbers import chosen_id, numbered_id
from states.redaction import Redactions, Span
from states.rules import CREATE, EDIT, REDACT, Case, Command, Step, apply, decide
from workflow import documents, screening
from workflow.config import Config
from workflow.deadlines import Facts, Op
from workflow.errors import AlreadyExists, InvalidInput, NotFound
from workflow.ledger.events import canonical, content_hash
from workflow.model import Item, signed_content
from workflow.pipelines import InForce
from workflow.signing import Signed, Signing, Statement, case_row, signer, step_fields
from workflow.uow import Row, Work

KIND = "item"
ONE_A_PERIOD = "annual-report"  # the schedule whose period has one item (a retracted or withheld one aside)


class ItemKind:
    """The deadlines of items (`workflow.deadlines.Rules`) and their pre-screen, for `Signing`."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def facts(self, case_id: str) -> Statement:
        return "item_facts", {"id": case_id}

    def on_step(self, in_force: InForce, case: Case, unit: str, facts: Row, step: Step, today: date,
                actor: str) -> list[Op]:
        return in_force.rules.on_step(_facts(case, unit, facts), step.from_state, step.to_state, today,
                                      role=step.role, signer=actor, round=step.round)

    def check(self, work: Work, in_force: InForce, case: Case, facts: Row, step: Step,
              at: str) -> dict[str, Any] | None:
        """The pre-screen (issue 14): recorded as the draft goes to review, and again as the reviewer sends it on and
        as it becomes public, which its unresolved findings stop; an override records what it accepts. And an
        interpretation goes public with or after its policy, never before it (同步起草、同步审签)."""
        self._with_policy(work, case, facts, step)
        if step.from_state in ITEM.lapsed and step.to_state not in ITEM.lapsed:  # a withheld item reopened
            _one_a_period(work, load(work, case.id).unit, facts["schedule"], facts["period"], but=case.id)
        when = screens(in_force.pipeline, ITEM, step.from_state, step.to_state, step.role)
        if when is None and step.action != OVERRIDE:
            return None
        item = load(work, case.id)
        rules = screening.in_force(work, item.unit)
        screening.store(work, rules, at)
        if step.action == OVERRIDE:  # by the reviewer, during their review (states.rules)
            return {"findings": _acceptable(case, item, rules, self.config.screen.time_limit)}
        findings = screening.found(rules, item.title, item.public_body, time_limit=self.config.screen.time_limit)
        if when == "gate" and any(f.severity != "warn" for _, f in findings):  # the overrides read only if needed
            blocked = screening.unresolved(findings, item.redactions, accepted_in(work, case))
            if blocked:
                field, f = blocked[0]
                what = rules.rules.get(f.rule)
                raise ScreenBlocked("{case}: the pre-screen finds {rule} ({severity}) in its {field} at character "
                                    "{position}, neither withheld nor accepted{more}: the confidentiality reviewer "
                                    "withholds it (redact) or accepts it with a reason (override)",
                                    case=case.label, rule=what.zh if what else f.rule, severity=f.severity,
                                    field=field, position=f.start + 1,
                                    more=Phrase(" (and {n} more)", n=len(blocked) - 1) if len(blocked) > 1 else "")
        return {"screen": screening.record(rules, findings)}

    def _with_policy(self, work: Work, case: Case, facts: Row, step: Step) -> None:
        if facts.get("interprets") is None or step.to_state not in ITEM.public or step.from_state in ITEM.public:
            return None
        policy = work.one("case_unit", {"kind": KIND, "id": facts["interprets"]})
        if policy is None or policy["state"] not in ITEM.public:
            state = policy["state"] if policy else "gone"
            raise NotPublic("item {item} interprets policy {policy}, which is {state}, not published: an "
                            "interpretation is published with or after its policy", item=case.id,
                            policy=facts["interprets"], state=state)
        return None


def _acceptable(case: Case, item: Item, rules: screening.Rules, time_limit: float) -> list[list[object]]:
    """What an override accepts: every finding of severity block in the original title and body (their places do not
    move while the reviewer reviews: the text changes only as a draft, in a new round)."""
    found = [screening.key(field, f) for field, f in screening.found(rules, item.title, item.body,
                                                                     time_limit=time_limit) if f.severity == "block"]
    if not found:
        raise InputMissing("{case}: the pre-screen finds nothing of severity block to accept", case=case.label)
    return [list(k) for k in found]


def accepted_in(work: Work, case: Case) -> set[screening.Key]:
    """The findings the reviewer accepted in the case's round (its overrides) since its text last changed."""
    found: screening.Accepted = (0, set())
    with work.events("case_events", {"kind": KIND, "id": case.id}) as events:
        for e in events:
            found = screening.acceptance(found, e.action, int(e.round or 0),
                                         e.payload() if e.action == OVERRIDE else None)
    return found[1] if found[0] == case.round else set()


def unclassified(rules: screening.Rules, title: str, body: str, time_limit: float) -> screening.Found:
    """The screen of a draft's text. 涉密不上网 (保密法): a text bearing a classification mark (秘密★1年, 机密★…: a
    rule of severity forbid) is refused outright, with no override, before anything is stored; the refusal says
    where, never what."""
    found = screening.found(rules, title, body, time_limit=time_limit)
    for field, f in found:
        if f.severity == "forbid":
            raise InvalidInput("{field} bears a classification mark at character {position}: classified "
                               "information is never stored on this system (涉密不上网); nothing was saved",
                               field=field, position=f.start + 1)
    return found


def _one_a_period(work: Work, unit: str, schedule: str | None, period: str | None, but: str | None = None) -> None:
    """One annual report a year (Art. 49): none made, nor a withheld one reopened, beside a live one (checked under
    the unit's lock: no race)."""
    if schedule != ONE_A_PERIOD:
        return
    live = [r for r in work.rows("schedule_items", {"unit": unit, "schedule": schedule, "period": period})
            if r["state"] not in ITEM.lapsed and r["id"] != but]
    if live:
        raise AlreadyExists("unit {unit} has its {schedule} of {period} already: item {item}", unit=unit,
                            schedule=schedule, period=period, item=live[0]["id"])


def _facts(case: Case, unit: str, r: Row) -> Facts:
    return Facts(case.id, r["title"], r["kind"], r["timing"], r["interprets"], case.drafter, unit, r["schedule"],
                 r["period"], date.fromisoformat(r["formed_on"]) if r["formed_on"] else None)


def item_of(r: Row, interpreted_by: tuple[str, ...] = ()) -> Item:
    """An item from a row of the `items` statement."""
    return Item(id=r["id"], title=r["title"], body=r["body"], unit=r["unit_id"], category=r["category"],
                timing=r["timing"], kind=r["kind"], interprets=r["interprets"], tags=tuple(json.loads(r["tags"])),
                formed_on=date.fromisoformat(r["formed_on"]) if r["formed_on"] else None, drafter=r["drafter"],
                state=r["state"], round=r["round"], version=r["version"],
                created_at=datetime.fromisoformat(r["created_at"]), updated_at=datetime.fromisoformat(r["updated_at"]),
                schedule=r["schedule"], period=r["period"],
                attachments=tuple(json.loads(r["attachments"])) if r["attachments"] else (),
                doc_type=r["doc_type"], statistics=json.loads(r["statistics"]) if r["statistics"] else None,
                interpreter=r["interpreter"],
                redactions=Redactions.of(json.loads(r["redactions"])) if r["redactions"] else None,
                redacted_body=r["redacted_body"])


def attached(work: Work, attachments: list[str]) -> str | None:
    """An item's attachments as stored: each a document of the database (stored before it is attached)."""
    for sha in attachments:
        if documents.find(work, sha) is None:
            raise NotFound("no document {sha256} to attach", sha256=sha[:12])
    return json.dumps(sorted(set(attachments))) if attachments else None


def load(work: Work, item_id: str) -> Item:
    row = work.one("item", {"id": item_id})
    if row is None:
        raise NotFound("no item '{item}'", item=item_id)
    return item_of(row)


def create(sign: Signing, *, unit: str, drafter: str, item_id: str | None, title: str, body: str, category: str,
           timing: str, kind: str, interprets: str | None, tags: list[str], formed_on: date | None,
           schedule: str | None, period: str | None, comment: str | None, requests: list[str] | None = None,
           attachments: list[str] | None = None, doc_type: str | None = None,
           statistics: dict[str, Any] | None = None, interpreter: str | None = None) -> Signed:
    """A draft item, its creation signed by its drafter: the item's first event. `requests`: those of its unit whose
    information it discloses proactively (Art. 44), named in its creation."""
    work = sign.work
    policy_unit = None
    if interprets is not None:
        found = work.one("case_unit", {"kind": KIND, "id": interprets})
        policy_unit = found["unit_id"] if found else None
    heads = sign.append.lock(unit, *([policy_unit] if policy_unit else []))
    _one_a_period(work, unit, schedule, period)
    if interprets is not None:
        policy = work.one("item_facts", {"id": interprets})
        if policy is None or policy["kind"] != "policy":
            raise InvalidInput("item '{item}' is not a policy document, so it cannot be interpreted", item=interprets)
        state = work.one("case_unit", {"kind": KIND, "id": interprets})  # again, now its unit's head is locked
        if state is not None and state["state"] in ITEM.lapsed:
            raise NotPublic("policy {policy} is {state}: it will not be published, so it is not interpreted (an "
                            "interpretation is drafted and signed with its policy)", policy=interprets,
                            state=state["state"])
    units = {r["id"]: bool(r["open"]) for r in work.rows("units")}
    check_open(unit, units[unit], CREATE)
    for asked in requests or ():
        found = work.one("case_unit", {"kind": "request", "id": asked})
        if found is None or found["unit_id"] != unit:
            raise NotFound("no request '{request}' of unit {unit}", request=asked, unit=unit)
    adopted = {r["kind"]: r for r in work.rows("unit_adoptions", {"unit": unit})}[KIND]
    in_force = sign.pipelines.in_force(work, unit, adopted["pipeline"], adopted["seq"])
    who, register = signer(work.rows("signer", {"register": REGISTER, "chain": unit, "person": drafter}), drafter)
    if interpreter is not None:  # a person of the register (that they interpret is the item's, signed by its drafter)
        signer(work.rows("signer", {"register": REGISTER, "chain": unit, "person": interpreter}), interpreter)
    head = heads[unit]
    at = sign.append.time(*heads.values(), register)
    today = sign.today(at)
    number = None
    if item_id is None:  # the next number of the unit's year, taken under its head's lock
        last = work.one("item_number", {"unit": unit, "year": today.year})
        number = (today.year, int(last["last"]) + 1 if last else 1)
        item_id = _free_id(work, numbered_id(unit, *number))
    else:
        chosen_id(unit, item_id)
        if work.one("case_exists", {"kind": KIND, "id": item_id}) is not None:
            raise AlreadyExists("item {item} already exists", item=item_id)
    stored = attached(work, attachments or [])
    rules = screening.in_force(work, unit)
    screened = screening.record(rules, unclassified(rules, title, body, sign.config.screen.time_limit))
    screening.store(work, rules, at)
    content = signed_content(title, body, unit, category, timing, kind, interprets, tags, formed_on, schedule,
                             period, sorted(set(attachments or [])), doc_type, statistics, interpreter)
    step = decide(in_force.machine, None, Command(KIND, item_id, CREATE, who, content_hash=content_hash(content)))
    link = {"chain": policy_unit, "seq": heads[policy_unit].seq + 1} if policy_unit not in (None, unit) else None
    event = sign.append.event(head, at, register_seq=register.seq, pipeline=in_force.pipeline.fingerprint,
                              comment=comment, data=canonical(_data(link, number, requests) | {"screen": screened}),
                              **step_fields(KIND, item_id, step, drafter))
    case = apply(None, KIND, item_id, step, drafter)
    row = {"id": item_id, "title": title, "body": body, "category": category, "timing": timing, "kind": kind,
           "interprets": interprets, "tags": json.dumps(tags),
           "formed_on": formed_on.isoformat() if formed_on else None, "schedule": schedule, "period": period,
           "attachments": stored, "doc_type": doc_type, "statistics": canonical(statistics) if statistics else None,
           "interpreter": interpreter}
    ops = in_force.rules.on_create(_facts(case, unit, row), today)
    numbering = [("set_item_number", {"unit": unit, "year": number[0], "last": number[1]})] if number else []
    batch = sign.commit(event, [("insert_case", case_row(case, unit, at)), ("insert_item", row), *numbering], ops,
                       drafter)
    if number:
        work.moved(batch[4], Phrase("the item numbers of unit {unit}", unit=unit))
    sig = sign.signed(event)
    if link is not None:
        assert policy_unit is not None and interprets is not None
        note = sign.note(heads[policy_unit], at, KIND, interprets, drafter, register.seq,
                         {"chain": event.chain, "seq": event.seq, "hash": event.hash})
        for sent in work.send(note)[1:]:
            work.moved(sent, Phrase("item {item}", item=interprets))
    return Signed(sig, case, unit)


def _data(link: dict[str, Any] | None, number: tuple[int, int] | None,
          requests: list[str] | None) -> dict[str, Any]:
    """What a creation's event carries besides its fields and screen: the other copy it links to, its number in its
    year, the requests it answers proactively."""
    return ({"link": link} if link else {}) | ({"year": number[0], "number": number[1]} if number else {}) | (
        {"requests": requests} if requests else {})


def edit(sign: Signing, item_id: str, actor: str, changes: dict[str, Any], *, comment: str | None,
         expected_version: int | None) -> Signed:
    """Change a draft's content; signed like every other step, and only in the pipeline's initial state."""
    work = sign.work
    got = sign.load(KIND, item_id, EDIT, actor, expected_version=expected_version)
    item = load(work, item_id)
    values = {"title": item.title, "body": item.body, "tags": list(item.tags), "formed_on": item.formed_on,
              "attachments": list(item.attachments), "statistics": item.statistics} | changes
    stored = attached(work, values["attachments"])
    rules = screening.in_force(work, item.unit)
    screened = screening.record(rules, unclassified(rules, values["title"], values["body"],
                                                    sign.config.screen.time_limit))
    content = signed_content(values["title"], values["body"], item.unit, item.category, item.timing, item.kind,
                             item.interprets, values["tags"], values["formed_on"], item.schedule, item.period,
                             sorted(set(values["attachments"])), item.doc_type, values["statistics"],
                             item.interpreter)
    step = decide(got.in_force.machine, got.case, Command(KIND, item_id, EDIT, got.signer,
                                                          content_hash=content_hash(content)))
    at = sign.append.time(got.head, got.register)
    screening.store(work, rules, at)
    event = sign.append.event(got.head, at, register_seq=got.register.seq,
                              pipeline=got.in_force.pipeline.fingerprint, comment=comment,
                              data=canonical({"screen": screened}), **step_fields(KIND, item_id, step, actor))
    after = apply(got.case, KIND, item_id, step, actor)
    formed = values["formed_on"]
    row = {"id": item_id, "title": values["title"], "body": values["body"], "tags": json.dumps(values["tags"]),
           "formed_on": formed.isoformat() if formed else None, "attachments": stored,
           "statistics": canonical(values["statistics"]) if values["statistics"] else None}
    facts = _facts(after, item.unit, row | {"kind": item.kind, "timing": item.timing, "interprets": item.interprets,
                                             "schedule": item.schedule, "period": item.period})
    ops = got.in_force.rules.on_edit(facts, sign.today(at), "formed_on" in changes and formed != item.formed_on)
    sign.commit(event, [("update_case", case_row(after, item.unit, at)), ("update_item", row)], ops, actor)
    return Signed(sign.signed(event), after, item.unit)


def redact(sign: Signing, item_id: str, actor: str, spans: list[Span], *, comment: str | None,
           expected_version: int | None) -> Signed:
    """Withhold spans of an item's body (部分公开, Art. 37), each on a legal ground of its pipeline: signed by the
    confidentiality reviewer during their review, replacing the spans withheld before (none: nothing withheld).
    The event records the original body's hash, the spans and the redacted body's hash, and screens the redacted
    body; the item's content then includes them, so every later signature signs what will be published."""
    work = sign.work
    got = sign.load(KIND, item_id, REDACT, actor, expected_version=expected_version)
    item = load(work, item_id)
    grounds = got.in_force.pipeline.grounds
    spans_ = redaction.checked(item.body, spans, grounds, got.case.label)
    redactions, public = None, item.body
    if spans_:
        marks = {s.ground: redaction.mark(grounds[s.ground]) for s in spans_}
        public = redaction.redact(item.body, spans_, marks)
        redactions = Redactions(spans_, marks, _sha256(public))
    if redactions is None and item.redactions is None:
        raise InvalidInput("item {item} has no spans withheld: give at least one span", item=item_id)
    after_content = replace(item, redactions=redactions).content()
    step = decide(got.in_force.machine, got.case, Command(KIND, item_id, REDACT, got.signer,
                                                          content_hash=content_hash(after_content)))
    at = sign.append.time(got.head, got.register)
    rules = screening.in_force(work, item.unit)
    screening.store(work, rules, at)
    data = {"original": _sha256(item.body), "redactions": redactions.signed() if redactions else None,
            "screen": screening.record(rules, screening.found(rules, item.title, public,
                                                              time_limit=sign.config.screen.time_limit))}
    event = sign.append.event(got.head, at, register_seq=got.register.seq,
                              pipeline=got.in_force.pipeline.fingerprint, comment=comment, data=canonical(data),
                              **step_fields(KIND, item_id, step, actor))
    after = apply(got.case, KIND, item_id, step, actor)
    row = {"id": item_id, "redactions": canonical(redactions.signed()) if redactions else None,
           "redacted_body": public if redactions else None}
    sign.commit(event, [("update_case", case_row(after, item.unit, at)), ("redact_item", row)], [], actor)
    return Signed(sign.signed(event), after, item.unit)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _free_id(work: Work, base: str) -> str:
    """`base`, or `base.2`, `base.3`… if someone chose that id by hand: each tried by its key (a LIKE on the
    prefix would read every case, on SQLite and on a PostgreSQL whose collation is not C)."""
    candidates = itertools.chain([base], (f"{base}.{n}" for n in itertools.count(2)))
    return next(c for c in candidates if work.one("case_exists", {"kind": KIND, "id": c}) is None)

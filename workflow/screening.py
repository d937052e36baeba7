"""The screening rules a unit screens with (workflow/screen.py), stored by fingerprint as pipelines are: a screen's
event names the fingerprint, so that `verify` screens the same text with the same rules again, whatever the
built-in file of a later version says.

A unit screens with the built-in rules until it adopts its own file (merged over them, `screen.load_rules`), or
the built-in rules of the engine it adopts them with: an act of its chain signed by an admin, as a pipeline's
adoption is (`workflow.register.Registrar.adopt_screen`), which names the rules' fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from states.authority import ADOPT, SCREEN, Screening
from states.kinds import OVERRIDE
from states.redaction import Redactions, to_original
from states.rules import EDIT
from workflow import screen
from workflow.errors import Unjudgeable, ZwgkError
from workflow.ledger.events import Event, event_hash
from workflow.screen import Finding, Rule, RuleSet
from workflow.uow import Work


@dataclass(frozen=True)
class Rules:
    """Screening rules with their fingerprint (SHA-256 of their canonical definition)."""

    fingerprint: str
    definition: str
    rules: RuleSet

    def screen(self, text: str, *, time_limit: float = 1.0) -> list[Finding]:
        return screen.screen(text, self.rules, time_limit=time_limit)

    def as_adopted(self) -> Screening:
        """What the rulebook judges an adoption of these rules by: the built-in classification-mark rules they
        lack (by id: a later engine's built-in file may word a mark's pattern better)."""
        kept = {r.id for r in self.rules.rules if r.builtin and r.severity == "forbid"}
        marks = (r.id for r in screen.builtin_rules().rules if r.severity == "forbid")
        return Screening(self.fingerprint, tuple(m for m in marks if m not in kept))


def _entry(rule: Rule) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": rule.id, "zh": rule.zh, "severity": rule.severity, "builtin": rule.builtin}
    if rule.kind is not None:
        entry["kind"] = rule.kind
    else:
        assert rule.pattern is not None
        entry["pattern"] = rule.pattern.pattern
    return entry


def of(rules: RuleSet) -> Rules:
    definition = json.dumps([_entry(r) for r in rules.rules], sort_keys=True, ensure_ascii=False,
                            separators=(",", ":"))
    return Rules(hashlib.sha256(definition.encode()).hexdigest(), definition, rules)


@cache
def builtin() -> Rules:
    return of(screen.builtin_rules())


def from_definition(definition: str, fingerprint: str) -> Rules | None:
    """The rules stored as `definition` under `fingerprint`, or None if it is not the one that names (altered), or
    not rules the engine writes (stored behind its back under their own hash)."""
    if hashlib.sha256(definition.encode()).hexdigest() != fingerprint:
        return None
    try:
        entries = json.loads(definition)
        rules = tuple(screen.rule_of({k: v for k, v in entry.items() if k != "builtin"}, "zwgk_screen_rules", n,
                                     builtin=bool(entry["builtin"])) for n, entry in enumerate(entries, 1))
    except (ZwgkError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if not isinstance(entries, list):
        return None
    return Rules(fingerprint, definition, RuleSet(rules))


def store(work: Work, rules: Rules, at: str) -> None:
    work.run("put_screen_rules", {"fingerprint": rules.fingerprint, "definition": rules.definition, "at": at})


def adopt(work: Work, unit: str, rules: Rules, event: Event) -> None:
    """The tables after `event` of the unit's chain adopted `rules` (signed and appended)."""
    store(work, rules, event.at)
    work.run("delete_screen_adopted", {"unit": unit})
    work.run("insert_screen_adopted", {"unit": unit, "rules": rules.fingerprint, "seq": event.seq})


def in_force(work: Work, unit: str) -> Rules:
    """The rules `unit` screens with now: the ones its chain adopted last, else the built-in ones. A screen is
    never made with rules its chain did not adopt, even if zwgk_screen_adopted was edited (`Unjudgeable`)."""
    row = work.one("screen_rules_of_unit", {"unit": unit})
    latest = work.one("latest_screen_adoption", {"chain": unit})
    seq = latest["seq"] if latest is not None else None
    if row is None and seq is None:
        return builtin()
    found = work.one("event", {"chain": unit, "seq": seq}) if row is not None and row["seq"] == seq else None
    event = Event(**found) if found is not None else None
    if (row is None or event is None or event_hash(event[:-1]) != event.hash or event.case_kind != SCREEN
            or event.action != ADOPT or event.payload().get("rules") != row["fingerprint"]):
        raise Unjudgeable("unit {unit}: the screening rules in force are not the ones its chain adopted last "
                          "(zwgk_screen_adopted was altered); run `zwgk verify`", unit=unit)
    rules = from_definition(row["definition"], row["fingerprint"])
    if rules is None:
        raise Unjudgeable("unit {unit}: its screening rules {fingerprint} do not hash to their fingerprint "
                          "(zwgk_screen_rules was altered); run `zwgk verify`", unit=unit,
                          fingerprint=row["fingerprint"][:12])
    return rules


def by_fingerprint(work: Work, fingerprint: str) -> Rules | None:
    """The rules a screen names, as stored (None: absent or altered)."""
    if fingerprint == builtin().fingerprint:
        return builtin()
    row = work.one("screen_rules", {"fingerprint": fingerprint})
    return from_definition(row["definition"], fingerprint) if row is not None else None


# --- what an item's signatures record of the screen ----------------------------------------------------------

Found = list[tuple[str, Finding]]  # (field, finding): field is "title" or "body"
Key = tuple[str, str, int, int]  # field, rule, start, end: a finding as an override accepts it


def found(rules: Rules, title: str, body: str, *, time_limit: float = 1.0) -> Found:
    """The findings of `rules` in an item's title and body; an office's patterns share `time_limit` seconds on each."""
    return [(field, f) for field, text in (("title", title), ("body", body))
            for f in rules.screen(text, time_limit=time_limit)]


def record(rules: Rules, findings: Found) -> dict[str, Any]:
    """A screen as its event records it: the rules by fingerprint, and each finding's place (never its text)."""
    return {"rules": rules.fingerprint,
            "found": [[field, f.rule, f.severity, f.start, f.end] for field, f in findings]}


def recorded(data: Any) -> Found:
    """The findings of a recorded screen (a `ValueError` on anything `record` does not write)."""
    if not isinstance(data, dict) or set(data) != {"rules", "found"} or not isinstance(data["rules"], str) \
            or not isinstance(data["found"], list):
        raise ValueError("not a screen")
    out = []
    for row in data["found"]:
        field, rule, severity, start, end = row
        if field not in ("title", "body") or severity not in screen.SEVERITIES or type(start) is not int \
                or type(end) is not int or not isinstance(rule, str):
            raise ValueError("not a finding")
        out.append((field, Finding(rule, severity, start, end)))
    return out


def key(field: str, f: Finding) -> Key:
    return field, f.rule, f.start, f.end


def accepted(data: Any) -> set[Key]:
    """The findings an override accepts, from its event's data."""
    rows = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not rows or set(data) != {"findings"}:
        raise ValueError("not an override")
    out = set()
    for field, rule, start, end in rows:
        if field not in ("title", "body") or not isinstance(rule, str) or type(start) is not int \
                or type(end) is not int:
            raise ValueError("not a finding")
        out.add((field, rule, start, end))
    return out


Accepted = tuple[int, set[Key]]  # a round, and what its overrides accepted since the text last changed


def acceptance(before: Accepted, action: str, round_: int, data: Any) -> Accepted:
    """What stands accepted after one step of an item: an override adds what it accepts, in its round; an edit ends
    it (an acceptance is of a place in a text, not of whatever an edit puts there). A `ValueError` on an override's
    data that `accepted` cannot read."""
    if action == EDIT:
        return round_, set()
    if action == OVERRIDE:
        return round_, (before[1] if before[0] == round_ else set()) | accepted(data)
    return before


def unresolved(findings: Found, redactions: Redactions | None, accepted: set[Key]) -> Found:
    """What stops a case going on: each finding of the text as published (title and redacted body) of severity
    forbid, or block unless the reviewer accepted it at its place in the original text."""
    out = []
    for field, f in findings:
        if f.severity == "warn":
            continue
        if field == "body" and redactions is not None:
            start = to_original(f.start, redactions.spans, redactions.marks)
            end = to_original(f.end - 1, redactions.spans, redactions.marks)
            place: Key | None = None if start is None or end is None else ("body", f.rule, start, end + 1)
        else:
            place = key(field, f)
        if f.severity == "forbid" or place not in accepted:
            out.append((field, f))
    return out

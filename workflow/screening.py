"""The screening rules a unit screens with (workflow/screen.py), stored by fingerprint as pipelines are: a screen's
event names the fingerprint, so that `verify` screens the same text with the same rules again, whatever the
built-in file of a later version says.

A unit screens with the built-in rules until it adopts its own file (merged over them, `screen.load_rules`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from workflow import screen
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


def builtin() -> Rules:
    return of(screen.builtin_rules())


def from_definition(definition: str, fingerprint: str) -> Rules | None:
    """The rules stored as `definition` under `fingerprint`, or None if it is not the one that names (altered)."""
    if hashlib.sha256(definition.encode()).hexdigest() != fingerprint:
        return None
    rules = tuple(screen.rule_of({k: v for k, v in entry.items() if k != "builtin"}, "zwgk_screen_rules", n,
                                 builtin=bool(entry["builtin"])) for n, entry in enumerate(json.loads(definition), 1))
    return Rules(fingerprint, definition, RuleSet(rules))


def store(work: Work, rules: Rules, at: str) -> None:
    work.run("put_screen_rules", {"fingerprint": rules.fingerprint, "definition": rules.definition, "at": at})


def in_force(work: Work, unit: str) -> Rules:
    """The rules `unit` screens with now: its adopted file's, else the built-in ones."""
    row = work.one("screen_rules_of_unit", {"unit": unit})
    if row is None:
        return builtin()
    found = from_definition(row["definition"], row["fingerprint"])
    if found is None:
        raise ValueError(f"the screening rules {row['fingerprint'][:12]} of unit {unit} were altered")
    return found


def by_fingerprint(work: Work, fingerprint: str) -> Rules | None:
    """The rules a screen names, as stored (None: absent or altered)."""
    if fingerprint == builtin().fingerprint:
        return builtin()
    row = work.one("screen_rules", {"fingerprint": fingerprint})
    return from_definition(row["definition"], fingerprint) if row is not None else None

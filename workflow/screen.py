"""The pre-screen (issue 14): classification marks and personal data in a body, as findings with code-point
offsets. Pure: no database, no clock, nothing printed or logged; a `Finding` holds no matched text.

Rules are data (`screen_rules.toml` beside this file; an office's own file is merged over it by `load_rules`).
A rule has either a `pattern` or a `kind`, a check that needs code (check digits): `resident_id`, `uscc`,
`mobile`, `bank_card` (workflow/screen_numbers.py, where a number is read wherever a reader sees one).

Built-in patterns run with `re` and are written to be linear. An office's patterns run with the `regex`
module under a time limit: `re` holds the GIL inside a match, so a thread could not stop a runaway one.

Speed (issue 14: a 1 MB body within a few passes of a literal search): `re` tries a pattern that begins with
a character class at every character, ten times slower than it looks for a literal first character. So no
built-in rule scans the whole body with a class: numbers are found by byte searches (screen_numbers), and a built-in
pattern runs only on the lines holding a match of one of its `anchors` (patterns that begin with a literal).
"""

from __future__ import annotations

import itertools
import re
import time
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal, cast

import regex

from workflow.errors import InvalidInput, ZwgkError
from workflow.screen_numbers import KINDS, numbers

Severity = Literal["forbid", "block", "warn"]
SEVERITIES: tuple[Severity, ...] = ("forbid", "block", "warn")
BUILTIN_SOURCE = "workflow/screen_rules.toml"


class ScreenTimeout(ZwgkError):
    """An office's pattern ran past the time limit: its rule must be rewritten (the body is not judged)."""

    code = "screen-timeout"


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    start: int
    end: int


@dataclass(frozen=True)
class Rule:
    id: str
    zh: str
    severity: Severity
    pattern: re.Pattern[str] | regex.Pattern[str] | None = None
    kind: str | None = None
    builtin: bool = False  # built-in patterns are linear; the others run under the time limit


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


def masked(text: str, rules: RuleSet | None = None, mark: str = "［已隐去］") -> str:
    """`text` with each finding of severity forbid or block replaced by `mark`: a title as a reminder may carry it,
    to people who have not read the item."""
    out, at = [], 0
    for f in screen(text, rules):
        if f.severity != "warn" and f.start >= at:
            out += [text[at:f.start], mark]
            at = f.end
    return "".join([*out, text[at:]])


def excerpt(text: str, finding: Finding) -> str:
    """The matched text, for a caller entitled to show it (never for logs or notifications)."""
    return text[finding.start:finding.end]


def _kind_findings(text: str, rules: list[Rule]) -> list[Finding]:
    by_kind = {r.kind: r for r in rules if r.kind is not None}
    return [Finding(by_kind[kind].id, by_kind[kind].severity, start, end)
            for kind, start, end in numbers(text, list(by_kind))]


def _lines_holding(text: str, anchors: tuple[re.Pattern[str], ...]) -> list[tuple[int, int]]:
    """(start, end) of the lines of `text` where a match of one of `anchors` begins, in order, adjacent lines
    joined; the end is the newline's offset (or the body's end)."""
    lines = []
    for anchor in anchors:
        m = anchor.search(text)
        while m:
            start = text.rfind("\n", 0, m.start()) + 1
            end = text.find("\n", m.start())
            end = len(text) if end == -1 else end
            lines.append((start, end))
            m = anchor.search(text, end)
    joined: list[tuple[int, int]] = []
    for start, end in sorted(lines):
        if joined and start <= joined[-1][1] + 1:
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return joined


# --- screening -----------------------------------------------------------------------------------------------

def screen(text: str, rules: RuleSet | None = None, *, time_limit: float = 1.0) -> list[Finding]:
    """Every finding of `rules` (default: the built-in ones) in `text`, ordered by position then rule.

    The office's patterns share `time_limit` seconds; past it `ScreenTimeout` names the rule."""
    rules = rules if rules is not None else builtin_rules()
    found = _kind_findings(text, list(rules.rules))
    deadline = time.monotonic() + time_limit
    for rule in rules.rules:
        if rule.pattern is None:
            continue
        anchors = _anchors().get(rule.pattern.pattern) if rule.builtin else None
        if anchors:
            matches: Iterable[re.Match[str] | regex.Match[str]] = itertools.chain.from_iterable(
                rule.pattern.finditer(text, start, end) for start, end in _lines_holding(text, anchors))
        elif rule.builtin:
            matches = rule.pattern.finditer(text)
        else:
            matches = _timed(rule, text, deadline)
        found.extend(Finding(rule.id, rule.severity, m.start(), m.end()) for m in matches if m.end() > m.start())
    found.sort(key=lambda f: (f.start, f.end, f.rule))
    return found


def _timed(rule: Rule, text: str, deadline: float) -> list[regex.Match[str]]:
    left = deadline - time.monotonic()
    try:
        if left <= 0:
            raise TimeoutError
        return list(cast("regex.Pattern[str]", rule.pattern).finditer(text, timeout=left))
    except TimeoutError:
        raise ScreenTimeout("the screening rule '{rule}' ran past the time limit", rule=rule.id) from None


# --- loading the rules ---------------------------------------------------------------------------------------

_KEYS = {"id", "zh", "severity", "pattern", "kind"}
_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


def _builtin_text() -> str:
    return resources.files("workflow").joinpath("screen_rules.toml").read_text(encoding="utf-8")


@cache
def builtin_rules() -> RuleSet:
    return RuleSet(tuple(_parse(_builtin_text(), BUILTIN_SOURCE, builtin=True)))


@cache
def _anchors() -> dict[str, tuple[re.Pattern[str], ...]]:
    """The built-in file's anchors by pattern text. Keyed by the pattern, not kept on the `Rule`: a built-in
    rule read back from a stored definition (workflow/screening.py) has no anchors, and its pattern is enough
    to know they hold for it."""
    builtin_rules()  # the file is checked there
    return {t["pattern"]: tuple(re.compile(a) for a in t["anchors"])
            for t in tomllib.loads(_builtin_text())["rule"] if "anchors" in t}


def load_rules(text: str, source: str) -> RuleSet:
    """The built-in rules with an office's file merged over them.

        disable = ["uscc"]            # built-in rules the office does not want (never a classification mark)
        [[rule]]
        id = "case-number"            # a new id adds a rule; a built-in id replaces that rule
        zh = "案件编号"
        severity = "warn"             # forbid | block | warn
        pattern = '案\\d{6}'          # or kind = "resident_id" | "uscc" | "mobile" | "bank_card"

    Every problem is one `InvalidInput` naming `source` and the rule."""
    base = builtin_rules()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InvalidInput("{source}: not valid TOML: {error}", source=source, error=" ".join(str(e).split())) from None
    unknown = sorted(set(data) - {"rule", "disable"})
    if unknown:
        raise InvalidInput("{source}: unknown key {key!r} (expected rule, disable)", source=source, key=unknown[0])
    disable = data.get("disable", [])
    if not isinstance(disable, list) or not all(isinstance(d, str) for d in disable):
        raise InvalidInput("{source}: disable must be a list of rule ids", source=source)
    added = _parse(text, source, builtin=False, data=data)
    fixed = {r.id for r in base.rules if r.severity == "forbid"}
    for rule_id in [*disable, *(r.id for r in added)]:
        if rule_id in fixed:
            raise InvalidInput("{source}: rule '{rule}' is a built-in classification-mark rule and cannot be "
                               "removed or redefined", source=source, rule=rule_id)
    for rule_id in disable:
        if base.get(rule_id) is None:
            raise InvalidInput("{source}: disable: no built-in rule '{rule}'", source=source, rule=rule_id)
    replaced = {r.id for r in added} | set(disable)
    return RuleSet(tuple(r for r in base.rules if r.id not in replaced) + tuple(added))


def _parse(text: str, source: str, *, builtin: bool, data: dict[str, object] | None = None) -> list[Rule]:
    if data is None:
        data = tomllib.loads(text)
    tables = data.get("rule", [])
    if not isinstance(tables, list):
        raise InvalidInput("{source}: rules must be tables [[rule]]", source=source)
    rules: list[Rule] = []
    for n, table in enumerate(tables, 1):
        rules.append(rule_of(table, source, n, builtin=builtin))
        if any(r.id == rules[-1].id for r in rules[:-1]):
            raise InvalidInput("{source}: rule '{rule}' is defined twice", source=source, rule=rules[-1].id)
    return rules


def rule_of(table: object, source: str, n: int, *, builtin: bool) -> Rule:
    """One rule of a file (its `n`th table), compiled; an `InvalidInput` naming `source` if it is not one."""
    if not isinstance(table, dict):
        raise InvalidInput("{source}: rule {n} must be a table [[rule]]", source=source, n=n)
    rule_id = table.get("id")
    if not isinstance(rule_id, str) or not _ID_RE.fullmatch(rule_id):
        raise InvalidInput("{source}: rule {n}: id must be lower-case letters, digits and '-'", source=source, n=n)
    unknown = sorted(set(table) - _KEYS - ({"anchors"} if builtin else set()))
    if unknown:
        raise InvalidInput("{source}: rule '{rule}': unknown key {key!r}", source=source, rule=rule_id,
                           key=unknown[0])
    zh, severity = table.get("zh"), table.get("severity")
    if not isinstance(zh, str) or not zh.strip():
        raise InvalidInput("{source}: rule '{rule}' has no zh label", source=source, rule=rule_id)
    if severity not in SEVERITIES:
        raise InvalidInput("{source}: rule '{rule}': severity must be forbid, block or warn", source=source,
                           rule=rule_id)
    pattern, kind = table.get("pattern"), table.get("kind")
    if (pattern is None) == (kind is None):
        raise InvalidInput("{source}: rule '{rule}' needs either a pattern or a kind", source=source, rule=rule_id)
    if kind is not None:
        if kind not in KINDS:
            raise InvalidInput("{source}: rule '{rule}': unknown kind {kind!r} (expected {kinds})", source=source,
                               rule=rule_id, kind=kind, kinds=", ".join(KINDS))
        return Rule(rule_id, zh, severity, kind=cast(str, kind), builtin=builtin)
    anchors = table.get("anchors", [])
    if not isinstance(anchors, list) or not all(isinstance(a, str) and a for a in anchors):
        raise InvalidInput("{source}: rule '{rule}': anchors must be a list of patterns", source=source,
                           rule=rule_id)
    if not isinstance(pattern, str) or not pattern:
        raise InvalidInput("{source}: rule '{rule}': pattern must be a non-empty string", source=source, rule=rule_id)
    try:
        compiled = re.compile(pattern) if builtin else regex.compile(pattern, regex.VERSION0)
        for anchor in anchors:
            re.compile(anchor)
    except (re.error, regex.error) as e:
        raise InvalidInput("{source}: rule '{rule}': bad pattern: {error}", source=source, rule=rule_id,
                           error=str(e)) from None
    return Rule(rule_id, zh, severity, pattern=compiled, builtin=builtin)

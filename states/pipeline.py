"""The pipeline as data: states, roles, actions and separation-of-duty rules, loaded from TOML."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import asdict, dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from states.errors import Phrase, PipelineError

_ID = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class State:
    id: str
    zh: str
    en: str
    terminal: bool | None = None  # declared by the file; None: as the law of its kind says (states/kinds.py)


@dataclass(frozen=True)
class Role:
    id: str
    zh: str
    en: str


@dataclass(frozen=True)
class Action:
    """One signature an item can receive in one state. `to` is None when the item stays put."""

    id: str
    zh: str
    en: str
    source: str
    to: str | None
    role: str
    requires: tuple[str, ...] = ()
    reason: bool = False
    grounds: tuple[str, ...] = ()
    decisions: tuple[str, ...] = ()
    reason_for: tuple[str, ...] = ()
    new_round: bool = False


@dataclass(frozen=True)
class Pipeline:
    name: str
    version: str
    initial: str
    states: tuple[State, ...]
    roles: tuple[Role, ...]
    actions: tuple[Action, ...]
    separation: tuple[tuple[str, ...], ...] = ()
    grounds: dict[str, str] = field(default_factory=dict)
    kind: str = "item"  # the kind of case it is for (states/kinds.py)

    @cached_property
    def definition(self) -> str:
        """The whole pipeline as canonical JSON: what the fingerprint hashes, and what the database stores."""
        d = asdict(self)
        for state in d["states"]:  # undeclared, it is left out: definitions adopted before the key hash as signed
            if state["terminal"] is None:
                del state["terminal"]
        return json.dumps(d, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the definition, so an edited pipeline is visible even if its version is not bumped."""
        return hashlib.sha256(self.definition.encode()).hexdigest()

    @cached_property
    def full_version(self) -> str:
        """How people read the version: declared version plus the start of the fingerprint."""
        return f"{self.version}+{self.fingerprint[:12]}"

    @classmethod
    def from_definition(cls, text: str, fingerprint: str) -> Pipeline | None:
        """The pipeline stored as `text` under `fingerprint`, or None if it is not the one that names.

        The stored text may have been altered behind the engine's back, but the fingerprint is inside the
        hashed adoption and every signature: a definition that hashes to it is the one adopted.
        """
        try:
            d = json.loads(text)
            pipeline = cls(
                name=d["name"], version=d["version"], initial=d["initial"],
                states=tuple(State(**s) for s in d["states"]), roles=tuple(Role(**r) for r in d["roles"]),
                actions=tuple(Action(**_tuples(a)) for a in d["actions"]),
                separation=tuple(tuple(group) for group in d["separation"]), grounds=dict(d["grounds"]),
                kind=d["kind"])
            matches = pipeline.fingerprint == fingerprint
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):  # text no pipeline wrote
            return None
        return pipeline if matches else None

    def state(self, state_id: str) -> State:
        for s in self.states:
            if s.id == state_id:
                return s
        raise KeyError(state_id)

    def role(self, role_id: str) -> Role:
        for r in self.roles:
            if r.id == role_id:
                return r
        raise KeyError(role_id)

    def actions_from(self, state_id: str) -> list[Action]:
        return [a for a in self.actions if a.source == state_id]

    def action(self, state_id: str, action_id: str) -> Action | None:
        for a in self.actions:
            if a.source == state_id and a.id == action_id:
                return a
        return None

    def action_ids(self) -> list[str]:
        return list(dict.fromkeys(a.id for a in self.actions))

    @property
    def drafter_role(self) -> str:
        """The role that drafts: whoever signs the first step out of the initial state."""
        for a in self.actions:
            if a.source == self.initial and not a.new_round:
                return a.role
        raise KeyError(f"no action leaves the initial state {self.initial}")

    def label(self, state_id: str | None) -> str:
        """`confidentiality_review (保密审查)`, the form humans read."""
        if state_id is None:
            return "-"
        try:
            return f"{state_id} ({self.state(state_id).zh})"
        except KeyError:
            return state_id

    def distinct_from(self, action_id: str) -> set[str]:
        """Actions whose signers, in the same round, must differ from the signer of `action_id`."""
        out: set[str] = set()
        for group in self.separation:
            if action_id in group:
                out.update(a for a in group if a != action_id)
        return out


def _tuples(entry: dict[str, Any]) -> dict[str, Any]:
    """A JSON object's lists as the tuples a frozen dataclass holds."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in entry.items()}


def bundled_pipeline(filename: str) -> Pipeline:
    """A pipeline file shipped in `states/`."""
    text = resources.files("states").joinpath(filename).read_text(encoding="utf-8")
    return parse_pipeline(text, filename)


def load_pipeline(path: str | Path) -> Pipeline:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise PipelineError("{path}: cannot read: {reason}", path=str(p), reason=e.strerror) from None
    except UnicodeDecodeError:
        raise PipelineError("{path}: not UTF-8 text", path=str(p)) from None
    return parse_pipeline(text, str(p))


def _outside_strings(lines: list[str]) -> list[str]:
    """The lines, with those inside a multi-line string blanked: a `[[action]]` quoted in a description is
    not a table (the line numbers stay as they are)."""
    out, inside = [], None
    for line in lines:
        if inside is None:
            out.append(line)
        else:
            out.append("")
        for quote in re.findall(r'"""|\'\'\'', line):
            if inside is None:
                inside = quote
            elif quote == inside:
                inside = None
    return out


class _Locator:
    """Finds the line of the n-th `[[table]]` (and a key in it), since tomllib keeps no positions."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = _outside_strings(text.splitlines())
        self.source = source

    def line_of(self, table: str | None, index: int = 0, key: str | None = None) -> int:
        start, seen = 0, -1
        if table is not None:
            header = re.compile(rf"^\s*\[\[\s*{table}\s*\]\]|^\s*\[\s*{table}\s*\]")
            for i, line in enumerate(self.lines):
                if header.match(line):
                    seen += 1
                    if seen == index:
                        start = i
                        break
        if key is not None:
            pat = re.compile(rf"^\s*{re.escape(key)}\s*=")
            for i in range(start + (1 if table else 0), len(self.lines)):
                if table and self.lines[i].lstrip().startswith("["):
                    break
                if pat.match(self.lines[i]):
                    return i + 1
        return start + 1

    def problem(self, template: str, table: str | None, index: int = 0, key: str | None = None, /,
                **params: object) -> PipelineError:
        """The error `template` (with `params`) at the n-th `table` (and its `key`), prefixed with its line."""
        return PipelineError("{source}, line {line}: {problem}", source=self.source,
                             line=self.line_of(table, index, key), problem=Phrase(template, **params))


def _text(entry: dict[str, Any], key: str, loc: _Locator, table: str, i: int, default: str | None = None) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str) or not value:
        raise loc.problem("{table} #{n}: '{key}' must be a non-empty string", table, i,
                          key if key in entry else None, table=table, n=i + 1, key=key)
    return value


def _strings(entry: dict[str, Any], key: str, loc: _Locator, table: str, i: int) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise loc.problem("{table} #{n}: '{key}' must be a list of strings", table, i, key, table=table, n=i + 1,
                          key=key)
    return tuple(value)


def _ident(entry: dict[str, Any], loc: _Locator, table: str, i: int) -> str:
    ident = _text(entry, "id", loc, table, i)
    if not _ID.fullmatch(ident):
        raise loc.problem("{table} id {id!r} must be lower-case letters, digits and _", table, i, "id", table=table,
                          id=ident)
    if len(ident) > 64:
        raise loc.problem("{table} id {id!r} is longer than 64 characters", table, i, "id", table=table, id=ident)
    return ident


def _terminal(entry: dict[str, Any], loc: _Locator, i: int) -> bool | None:
    value = entry.get("terminal")
    if value is not None and not isinstance(value, bool):
        raise loc.problem("state '{state}': 'terminal' must be true or false", "state", i, "terminal",
                          state=entry.get("id"))
    return value


# Steps every kind of case has without a pipeline declaring them: its creation, an edit of its content while it
# is in the initial state, the note a case receives when a case of another unit links to it, and the handing of
# a draft to another drafter.
IMPLICIT_ACTIONS = ("create", "edit", "link", "reassign", "redact")
_KIND = re.compile(r"[a-z][a-z0-9_]{0,31}")
_ACTION_KEYS = {"id", "zh", "en", "from", "to", "role", "requires", "reason", "grounds", "decisions",
                "reason_for", "new_round"}
_TOP_KEYS = {"kind", "name", "version", "initial", "state", "role", "action", "separation", "grounds"}
_TABLE_KEYS = {"state": {"id", "zh", "en", "terminal"}, "role": {"id", "zh", "en"}, "separation": {"distinct"}}


def parse_pipeline(text: str, source: str = "<pipeline>") -> Pipeline:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise PipelineError("{source}: {error}", source=source, error=str(e)) from None
    loc = _Locator(text, source)
    for key in sorted(set(doc) - _TOP_KEYS):  # a misspelt key would otherwise be dropped without a word
        raise loc.problem("unknown key '{key}' (one of: {known})", None, 0, key, key=key,
                          known=", ".join(sorted(_TOP_KEYS)))
    kind = doc.get("kind", "item")
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise loc.problem("'kind' must be lower-case letters, digits and _ (the kind of case, e.g. item)", None, 0,
                          "kind")
    for key in ("state", "role", "action", "separation"):
        tables = doc.get(key, [])
        if not isinstance(tables, list) or not all(isinstance(x, dict) for x in tables):
            raise loc.problem("'{key}' must be a list of tables, written [[{key}]]", None, 0, key, key=key)
        for i, table in enumerate(tables if key in _TABLE_KEYS else []):
            for unknown in sorted(set(table) - _TABLE_KEYS[key]):
                raise loc.problem("{table} #{n}: unknown key '{key}'", key, i, unknown, table=key, n=i + 1,
                                  key=unknown)
    for key, longest in (("name", 64), ("version", 51), ("initial", 64)):  # as stored with each signature
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise loc.problem("'{key}' must be a non-empty string", None, 0, key, key=key)
        if len(doc[key]) > longest:
            raise loc.problem("'{key}' is longer than {longest} characters", None, 0, key, key=key, longest=longest)
    states = tuple(State(_ident(s, loc, "state", i), _text(s, "zh", loc, "state", i),
                         _text(s, "en", loc, "state", i), _terminal(s, loc, i))
                   for i, s in enumerate(doc.get("state", [])))
    roles = tuple(Role(_ident(r, loc, "role", i), _text(r, "zh", loc, "role", i),
                       _text(r, "en", loc, "role", i)) for i, r in enumerate(doc.get("role", [])))
    state_ids = {s.id for s in states}
    role_ids = {r.id for r in roles}
    if len(state_ids) != len(states):
        raise loc.problem("two states share an id", "state", 0)
    if doc["initial"] not in state_ids:
        raise loc.problem("initial state '{state}' is not declared", None, 0, "initial", state=doc["initial"])
    grounds = doc.get("grounds", {})
    if not isinstance(grounds, dict) or not all(isinstance(v, str) for v in grounds.values()):
        raise loc.problem("[grounds] must map a ground id to its text", "grounds")
    actions: list[Action] = []
    for i, a in enumerate(doc.get("action", [])):
        unknown = set(a) - _ACTION_KEYS
        if unknown:
            key = sorted(unknown)[0]
            raise loc.problem("action #{n}: unknown key '{key}'", "action", i, key, n=i + 1, key=key)
        ident = _ident(a, loc, "action", i)
        if "to" in a and not isinstance(a["to"], str):
            raise loc.problem("action '{action}': 'to' must be a state id", "action", i, "to", action=ident)
        for flag in ("reason", "new_round"):
            if not isinstance(a.get(flag, False), bool):
                raise loc.problem("action '{action}': '{key}' must be true or false", "action", i, flag, action=ident,
                                  key=flag)
        act = Action(
            id=ident, zh=_text(a, "zh", loc, "action", i), en=_text(a, "en", loc, "action", i),
            source=_text(a, "from", loc, "action", i), to=a.get("to"), role=_text(a, "role", loc, "action", i),
            requires=_strings(a, "requires", loc, "action", i), reason=a.get("reason", False),
            grounds=_strings(a, "grounds", loc, "action", i), decisions=_strings(a, "decisions", loc, "action", i),
            reason_for=_strings(a, "reason_for", loc, "action", i), new_round=a.get("new_round", False),
        )
        for key, value, known in (("from", act.source, state_ids), ("to", act.to, state_ids),
                                  ("role", act.role, role_ids)):
            if value is not None and value not in known:
                if key == "role":
                    raise loc.problem("action '{action}': role '{value}' is not a declared role", "action", i, key,
                                      action=act.id, value=value)
                raise loc.problem("action '{action}': {key} '{value}' is not a declared state", "action", i, key,
                                  action=act.id, key=key, value=value)
        for g in act.grounds:
            if g not in grounds:
                raise loc.problem("action '{action}': ground '{ground}' is not in [grounds]", "action", i, "grounds",
                                  action=act.id, ground=g)
        if not set(act.reason_for) <= set(act.decisions):
            raise loc.problem("action '{action}': reason_for names a decision not in decisions", "action", i,
                              "reason_for", action=act.id)
        if act.id in IMPLICIT_ACTIONS:
            raise loc.problem("action id '{action}' is the engine's own (one of: {known})", "action", i, "id",
                              action=act.id, known=", ".join(IMPLICIT_ACTIONS))
        if any(b.id == act.id and b.source == act.source for b in actions):
            raise loc.problem("action '{action}' is declared twice from state '{state}'", "action", i, "id",
                              action=act.id, state=act.source)
        actions.append(act)
    if not any(a.source == doc["initial"] and not a.new_round for a in actions):
        raise loc.problem("no action leaves the initial state '{state}', so nothing can be drafted", None, 0,
                          "initial", state=doc["initial"])
    action_ids = {a.id for a in actions}
    for i, act in enumerate(actions):
        for r in act.requires:
            if r not in action_ids:
                raise loc.problem("action '{action}': requires unknown action '{required}'", "action", i, "requires",
                                  action=act.id, required=r)
    separation = []
    for i, s in enumerate(doc.get("separation", [])):
        group = _strings(s, "distinct", loc, "separation", i)
        missing = [a for a in group if a not in action_ids]
        if missing or len(group) < 2:
            if missing:
                raise loc.problem("separation #{n}: unknown action '{action}'", "separation", i, "distinct",
                                  n=i + 1, action=missing[0])
            raise loc.problem("separation #{n}: needs at least two actions", "separation", i, "distinct", n=i + 1)
        separation.append(group)
    return Pipeline(name=doc["name"], version=doc["version"], initial=doc["initial"], states=states, roles=roles,
                    actions=tuple(actions), separation=tuple(separation), grounds=dict(grounds), kind=kind)

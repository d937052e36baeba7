"""Letter templates: one TOML file per kind (`templates/<kind>.toml`), which an office may replace with its own file of
the same name in a directory of its choosing.

A file has a `title`, and `paragraphs` (a kind with one variant) or a table of paragraphs per variant
(`[third_party]`, `[withheld.state_secret]`), with optional `opening` and `closing` paragraphs around them and a
variant's own `title`; a reply's file also has `[remedies]`, paragraphs per remedy. A paragraph is a string with
`{field}` placeholders, or a table `{ when = "fact", text = "..." }` said only when that optional fact is given; a
paragraph that is only `{items}` becomes one numbered paragraph per item.

A file is checked whole when it is read, so that a broken one fails with one error naming the file and the place,
whichever letter asked for it: placeholders are plain names the letter knows (no `{x.__class__}`, no `{x[0]}`), and
every variant states its legal basis (`{basis}`) and every remedy its own (`{remedy_basis}`).
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from states.errors import Phrase
from states.replies import REMEDIES
from workflow.errors import InvalidInput
from workflow.letters.kinds import KINDS, NOT_TEXT, REMEDY_FIELDS, Kind, Variant


@dataclass(frozen=True)
class Paragraph:
    text: str
    when: str | None = None  # said only when this optional fact is given


@dataclass(frozen=True)
class Template:
    source: str  # the file, for errors
    titles: Mapping[str, str]  # by variant
    bodies: Mapping[str, tuple[Paragraph, ...]]  # by variant: opening, its own paragraphs, closing
    remedies: Mapping[str, tuple[Paragraph, ...]]  # by remedy code (replies)


def template(kind: Kind, directory: Path | None = None) -> Template:
    """The office's template for `kind` in `directory` if it has one, else the built-in one."""
    name = f"{kind.name}.toml"
    if directory is not None:
        if not directory.is_dir():
            raise InvalidInput("letter templates: {directory} is not a directory", directory=str(directory))
        path = directory / name
        if path.exists():
            try:
                content = path.read_text(encoding="utf-8-sig")  # Notepad saves UTF-8 with a BOM
            except (OSError, UnicodeDecodeError) as e:
                raise InvalidInput("letter template {file}: cannot read: {error}", file=str(path),
                                   error=str(e)) from None
            return parse(kind, content, str(path))
    return _builtin(kind.name)


def check_folder(directory: Path) -> None:
    """Read every template an office's folder holds, as each letter would: the first problem, or nothing."""
    for kind in KINDS.values():
        template(kind, directory)


@cache
def _builtin(kind: str) -> Template:
    content = resources.files("workflow.letters").joinpath("templates", f"{kind}.toml").read_text(encoding="utf-8")
    return parse(KINDS[kind], content, f"workflow/letters/templates/{kind}.toml")


def parse(kind: Kind, content: str, source: str) -> Template:
    try:
        doc = tomllib.loads(content)
    except tomllib.TOMLDecodeError as e:
        raise InvalidInput("letter template {file}: {error}", file=source, error=str(e)) from None
    return _Reader(kind, source).read(doc)


class _Reader:
    def __init__(self, kind: Kind, source: str) -> None:
        self.kind = kind
        self.source = source

    def broken(self, problem: Phrase) -> InvalidInput:
        return InvalidInput("letter template {file}: {problem}", file=self.source, problem=problem)

    def read(self, doc: dict[str, Any]) -> Template:
        single = not self.kind.selectors
        top = {"title", "opening", "closing"} | ({"paragraphs"} if single else set())
        if self.kind.name == "reply":
            top.add("remedies")
        tables = dict(self.variant_tables({k: v for k, v in doc.items() if k not in top}, ""))
        if single:
            tables[""] = doc
        if "title" not in doc:
            raise self.broken(Phrase("no title"))
        titles: dict[str, str] = {}
        bodies: dict[str, tuple[Paragraph, ...]] = {}
        for key, variant in self.kind.variants.items():
            table = tables.get(key)
            if table is None or "paragraphs" not in table:
                raise self.broken(Phrase("no paragraphs for [{variant}]", variant=key))
            allowed = self.kind.fields_of(variant)
            where = f"[{key}] " if key else ""
            titles[key] = self.string(table.get("title", doc["title"]), f"{where}title", allowed)
            bodies[key] = (*self.paragraphs(doc.get("opening", []), "opening", allowed, variant),
                           *self.paragraphs(table["paragraphs"], f"{where}paragraphs", allowed, variant),
                           *self.paragraphs(doc.get("closing", []), "closing", allowed, variant))
            if not any(_says(p, "basis") for p in bodies[key]):
                raise self.broken(Phrase("[{variant}] never states the legal basis ({{basis}})", variant=key))
        return Template(self.source, titles, bodies, self.remedies(doc.get("remedies")))

    def variant_tables(self, doc: dict[str, Any], prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """The tables of variants, nested as TOML nests dotted names (`[withheld.state_secret]`)."""
        for name, value in doc.items():
            key = f"{prefix}{name}"
            if not isinstance(value, dict) or not value:
                raise self.broken(Phrase("unknown key '{key}'", key=key))
            if "paragraphs" in value:
                if key not in self.kind.variants:
                    raise self.broken(Phrase("[{variant}] is not a variant of this letter (one of: {known})",
                                             variant=key, known=", ".join(self.kind.variants)))
                for extra in sorted(set(value) - {"title", "paragraphs"}):
                    raise self.broken(Phrase("[{variant}]: unknown key '{key}'", variant=key, key=extra))
                yield key, value
            else:
                yield from self.variant_tables(value, f"{key}.")

    def remedies(self, table: object) -> dict[str, tuple[Paragraph, ...]]:
        if self.kind.name != "reply":
            return {}
        if not isinstance(table, dict):
            raise self.broken(Phrase("no [remedies] table"))
        out = {}
        for code in REMEDIES:
            if code not in table:
                raise self.broken(Phrase("[remedies] has no {remedy}", remedy=code))
            out[code] = self.paragraphs(table[code], f"[remedies] {code}", REMEDY_FIELDS, None)
            if not any(_says(p, "remedy_basis") for p in out[code]):
                raise self.broken(Phrase("[remedies] {remedy} never states its legal basis ({{remedy_basis}})",
                                         remedy=code))
        return out

    def paragraphs(self, value: object, where: str, allowed: frozenset[str],
                   variant: Variant | None) -> tuple[Paragraph, ...]:
        if not isinstance(value, list):
            raise self.broken(Phrase("{where} must be a list of paragraphs", where=where))
        out = []
        for i, p in enumerate(value, 1):
            at = f"{where} {i}"
            if isinstance(p, dict):
                when, body = p.get("when"), p.get("text")
                optional = self.kind.optional_of(variant) if variant is not None else frozenset()
                if set(p) != {"when", "text"} or not isinstance(when, str) or when not in optional:
                    raise self.broken(Phrase("{where}: a table paragraph is {{ when = \"fact\", text = \"...\" }} "
                                             "with an optional fact of this letter (one of: {known})", where=at,
                                             known=", ".join(sorted(optional)) or "-"))
                out.append(Paragraph(self.string(body, at, allowed), when))
            else:
                out.append(Paragraph(self.string(p, at, allowed)))
        return tuple(out)

    def string(self, value: object, where: str, allowed: frozenset[str]) -> str:
        if not isinstance(value, str):
            raise self.broken(Phrase("{where} must be text", where=where))
        if (bad := NOT_TEXT.search(value)) is not None:
            raise self.broken(Phrase("{where} holds a character a letter cannot print (U+{code:04X})", where=where,
                                     code=ord(bad.group())))
        try:
            parsed = list(string.Formatter().parse(value))
        except ValueError as e:  # a lone { or }
            raise self.broken(Phrase("{where}: {error}", where=where, error=str(e))) from None
        for _, name, spec, conversion in parsed:
            if name is None:
                continue
            if not name.isidentifier() or spec or conversion:
                raise self.broken(Phrase("{where}: '{{{field}}}' is not a plain {{name}} placeholder", where=where,
                                         field=name + (f"!{conversion}" if conversion else "") +
                                         (f":{spec}" if spec else "")))
            if name not in allowed:
                raise self.broken(Phrase("{where}: unknown field '{field}' (one of: {known})", where=where,
                                         field=name, known=", ".join(sorted(allowed))))
        return value


def _says(p: Paragraph, name: str) -> bool:
    return p.when is None and any(f == name for _, f, _, _ in string.Formatter().parse(p.text))


class _Values(dict[str, str]):
    """What a paragraph's placeholders are filled from; a missing one is an error naming the template and field."""

    def __init__(self, values: Mapping[str, str], source: str) -> None:
        super().__init__(values)
        self.source = source

    def __missing__(self, name: str) -> str:
        raise InvalidInput("letter template {file}: no fact '{field}' for {{{field}}}", file=self.source, field=name)


def fill(t: Template, paragraphs: tuple[Paragraph, ...], values: Mapping[str, str],
         lists: Mapping[str, list[str]]) -> list[str]:
    """The paragraphs said with `values`; a paragraph that is only a list's placeholder becomes one per entry."""
    mapping = _Values(values, t.source)
    out: list[str] = []
    for p in paragraphs:
        if p.when is not None and p.when not in values:
            continue
        alone = p.text.strip()
        if alone.startswith("{") and alone.endswith("}") and alone[1:-1] in lists:
            out.extend(lists[alone[1:-1]])
        else:
            out.append(p.text.format_map(mapping))
    return out


def title(t: Template, key: str, values: Mapping[str, str]) -> str:
    return t.titles[key].format_map(_Values(values, t.source))

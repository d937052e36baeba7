"""The gettext catalogs (`zh/LC_MESSAGES/zwgk.po`, compiled to `.mo`), and what finds the messages they translate:
the templates of our errors (`raise NotFound("no item '{item}'", item=...)`) and of human output (`say(lang,
"...")`), read from the source, so a test can hold every message to a translation (tests/test_i18n.py) and
`./dev catalogs` can add new ones to the catalog and compile it."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGES = ("workflow", "states", "notifiers", "scripts")
# The builders of a message besides the error classes, by the position of their template argument: `say` takes
# the language first; `tr` is the CLI's `say`; the others are helpers that put a problem after where it is (a
# Phrase, see states.errors).
BUILDERS = {"say": 1, "Phrase": 0, "problem": 0, "refuse": 0, "bad": 1, "fail": 1, "key_error": 2, "tr": 0,
            "UsageError": 0}


@dataclass(frozen=True)
class Found:
    template: str | None  # None: the message is not a literal template (an f-string, a variable)
    place: str  # path:line
    params: frozenset[str] | None  # the names given as keywords; None: some passed on as **params


def _trees(packages: Iterable[str]) -> Iterator[tuple[Path, ast.Module]]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def phrased_names(packages: Iterable[str] = PACKAGES) -> set[str]:
    """Names of the classes whose first argument is a template: Phrased and every class we derive from it (read
    from the source, so that a module nothing imports yet is not missed)."""
    bases: dict[str, set[str]] = {}
    for _, tree in _trees(packages):
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
    names = {"Phrased"}
    while grown := {n for n, b in bases.items() if b & names} - names:
        names |= grown
    return names


def messages(packages: Iterable[str] = PACKAGES) -> Iterator[Found]:
    """Every message built in `packages`: each call of an error class or of a builder, with its template."""
    packages = tuple(packages)
    index = dict.fromkeys(phrased_names(PACKAGES), 0) | BUILDERS
    for path, tree in _trees(packages):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else (
                node.func.attr if isinstance(node.func, ast.Attribute) else None)
            at = index.get(name or "")
            if at is None or len(node.args) <= at:
                continue
            arg = node.args[at]
            if isinstance(arg, ast.Name) and arg.id == "template":  # a builder passing on the template it was given
                continue
            template = arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None
            names = {k.arg for k in node.keywords}
            params = None if None in names else frozenset(n for n in names if n is not None)
            yield Found(template, f"{path.relative_to(ROOT)}:{node.lineno}", params)

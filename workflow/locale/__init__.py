"""The gettext catalogs (`zh/LC_MESSAGES/zwgk.po`, compiled to `.mo`), and what finds the messages they translate:
the templates of our errors (`raise NotFound("no item '{item}'", item=...)`) and of human output (`say(lang,
"...")`), read from the source, so a test can hold every message to a translation (tests/test_i18n.py) and
`./dev catalogs` can add new ones to the catalog and compile it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGES = ("workflow", "states", "scripts")
# The builders of a message: a call whose first argument is an English template (`say` and `tr` take the
# language first). Errors are named by class; each is a states.errors.Phrased.
LANG_FIRST = {"say"}
BUILDERS = {"tr"}  # functions and methods whose first argument is a template


@dataclass(frozen=True)
class Found:
    template: str | None  # None: the message is not a literal template (an f-string, a variable)
    place: str  # path:line


def phrased_names() -> set[str]:
    """Names of the classes whose first argument is a template: every subclass of Phrased we define."""
    import workflow  # noqa: F401  (imports every error module)
    from states.errors import Phrased

    names, todo = set(), [Phrased]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names


def messages(names: set[str] | None = None) -> Iterator[Found]:
    """Every message built in our source: each call of an error class or of `say`, with its template."""
    names = phrased_names() if names is None else names
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                name = node.func.id if isinstance(node.func, ast.Name) else (
                    node.func.attr if isinstance(node.func, ast.Attribute) else None)
                index = 1 if name in LANG_FIRST else 0
                if name not in names | LANG_FIRST | BUILDERS or len(node.args) <= index:
                    continue
                arg = node.args[index]
                template = arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None
                yield Found(template, f"{path.relative_to(ROOT)}:{node.lineno}")

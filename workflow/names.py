"""Our top-level package names are generic (`notifiers` is also a package on PyPI): check, before importing them,
that they are the ones installed with zwgk-workflow, so a clash is one clear line and not a confusing ImportError
deep inside the engine."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SIBLINGS = ("states", "notifiers", "scripts")
MARK = '__distribution__ = "zwgk-workflow"'  # a line in each of our packages' __init__.py


class NameClash(ImportError):
    """A top-level name of ours resolves to another distribution's package."""


def check() -> None:
    for name in SIBLINGS:
        spec = importlib.util.find_spec(name)
        init = Path(spec.origin) if spec is not None and spec.origin else None
        try:
            ours = init is not None and MARK in init.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            ours = False
        if not ours:
            where = init.parent if init is not None else "nowhere"
            raise NameClash(f"the package '{name}' imported from {where} is not zwgk-workflow's: another installed "
                            f"package uses the name; install zwgk-workflow in a virtual environment of its own")

"""The distribution a township installs (a wheel, not this source tree) holds every module and data file the
engine reads: an editable install hides a package left out of `pyproject.toml`."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_holds_every_module_and_data_file(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    for package in ("workflow", "states", "notifiers", "scripts"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check",
                           "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    [wheel] = (tmp_path / "dist").glob("zwgk_workflow-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {str(p.relative_to(ROOT)) for package in ("workflow", "states", "notifiers", "scripts")
                for p in (ROOT / package).rglob("*") if p.is_file() and "__pycache__" not in p.parts
                and p.suffix != ".po"}  # a catalog's source: the wheel has it compiled (.mo)
    assert expected - names == set()
    assert {"workflow/py.typed", "states/py.typed", "notifiers/py.typed", "workflow/sql/cases.sql",
            "states/item.toml", "workflow/locale/zh/LC_MESSAGES/zwgk.mo"} <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), sorted(names)

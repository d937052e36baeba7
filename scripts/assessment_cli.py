"""`zwgk report self-assessment PERIOD`: the half-yearly self-assessment (plan 五(三)) written as DOCX or HTML.

`add_parser` adds the subcommand to `zwgk report`'s subparsers; `run` carries it out (scripts/zwgk.py wires both).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scripts.zwgk import Cli

NAME = "self-assessment"
ALL_UNITS = "全部单位"


def add_parser(report: Any, common: argparse.ArgumentParser) -> None:
    p = report.add_parser(NAME, parents=[common], help="the half-yearly self-assessment (plan 五(三)): deadlines met "
                          "on time, the head's interpretations, items published, replies, stage durations, with charts")
    p.add_argument("period", help="the half-year, like 2026H1 (January to June) or 2026H2")
    p.add_argument("--unit", help="only this unit's cases and deadlines (default: every unit)")
    p.add_argument("--format", required=True, choices=["docx", "html"],
                   help="docx: a Word document; html: one self-contained page that prints on A4")
    p.add_argument("--out", type=Path, help="the file to write (default: self-assessment-PERIOD[-UNIT].FORMAT here)")


def run(cli: Cli) -> int:
    from scripts.zwgk import UsageError
    from workflow.report.assessment import as_data
    from workflow.report.assessment_render import to_docx, to_html

    a = cli.args
    with cli.workflow() as wf:
        found = wf.self_assessment(a.period, unit=a.unit)
        name = next(u.name for u in wf.units() if u.id == a.unit) if a.unit else ALL_UNITS
    content = to_docx(found, name) if a.format == "docx" else to_html(found, name).encode()
    path = a.out or Path(f"{NAME}-{a.period}{'-' + a.unit if a.unit else ''}.{a.format}")
    try:
        path.write_bytes(content)
    except OSError as e:
        raise UsageError("cannot write --out {file}: {problem}", file=path, problem=e.strerror) from None
    cli.emit({"file": str(path), **as_data(found)}, [str(path)])
    return 0

"""The self-assessment's charts as PNG bytes (matplotlib's Agg canvas, imported only when a chart is drawn): signatures
per month, the on-time rate per kind of deadline, and how long cases wait in each review state.

Chinese labels need a CJK font: the first of `CJK_FONTS` that matplotlib finds (Debian's fonts-noto-cjk gives
"Noto Sans CJK SC"). Without one the charts are still drawn, their Chinese as empty boxes.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from states import builtin
from workflow.deadlines import KINDS
from workflow.report.assessment import Assessment

if TYPE_CHECKING:
    from matplotlib.axes import Axes

CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei",
             "Microsoft YaHei", "PingFang SC")
CASE_NAMES = {"item": "信息", "request": "申请"}
SIGNATURES, ON_TIME, STAGES = "每月签名数", "各类时限按时完成率", "各审核环节用时"
_BLUE, _ORANGE = "#3b6ea5", "#d9822b"


@cache
def font() -> str | None:
    """The CJK font the charts use, or None if matplotlib finds none."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in names), None)


def charts(a: Assessment) -> list[tuple[str, bytes]]:
    """The three charts, each with its title: signatures per month, on-time rate per kind, stage durations."""
    return [(SIGNATURES, signatures(a)), (ON_TIME, on_time(a)), (STAGES, stages(a))]


def signatures(a: Assessment) -> bytes:
    def draw(ax: Axes) -> None:
        months = [f"{int(m[5:])}月" for m, _ in a.signatures]
        bars = ax.bar(months, [n for _, n in a.signatures], color=_BLUE)
        ax.bar_label(bars)
        ax.set_ylabel("签名数")
        ax.set_title(f"{SIGNATURES}（{a.period}）")

    return _png(draw)


def on_time(a: Assessment) -> bytes:
    counted = [o for o in a.on_time if o.due]

    def draw(ax: Axes) -> None:
        ax.set_title(ON_TIME)
        ax.set_xlim(0, 118)  # room for the counts beside a full bar
        ax.set_xticks(range(0, 101, 20))
        ax.set_xlabel("按时率（%）")
        if not counted:
            ax.text(50, 0.5, "本期无到期事项", ha="center", va="center")
            ax.set_yticks([])
            return
        names = [KINDS[o.kind] for o in counted]
        bars = ax.barh(names, [100 * (o.rate or 0) for o in counted], color=_BLUE)
        ax.bar_label(bars, labels=[f"{o.on_time}/{o.due}" for o in counted], padding=3)
        ax.invert_yaxis()

    return _png(draw)


def stages(a: Assessment) -> bytes:
    names = {kind: {s.id: s.zh for s in builtin(kind).states} for kind in CASE_NAMES}
    longest = max((s.p90 or 0 for s in a.stages), default=0)
    unit, scale = ("小时", 24) if longest < 2 else ("天", 1)  # reviews of hours are read in hours

    def draw(ax: Axes) -> None:
        labels = [f"{CASE_NAMES[s.kind]}·{names[s.kind][s.state]}（{s.stays}次）" for s in a.stages]
        rows = range(len(labels))
        for shift, values, label, color in ((-0.2, [s.median for s in a.stages], "中位数", _BLUE),
                                            (0.2, [s.p90 for s in a.stages], "90%分位数", _ORANGE)):
            scaled = [None if v is None else v * scale for v in values]
            bars = ax.barh([r + shift for r in rows], [v or 0 for v in scaled], height=0.4, label=label, color=color)
            ax.bar_label(bars, labels=["—" if v is None else f"{v:.1f}" for v in scaled], padding=3, fontsize=8)
        ax.set_yticks(list(rows), labels)
        ax.set_xlim(0, max(1.0, longest * scale * 1.2))
        ax.invert_yaxis()
        ax.set_xlabel(unit)
        ax.set_title(STAGES)
        ax.legend(loc="best")

    return _png(draw)


def _png(draw: Callable[[Axes], None]) -> bytes:
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    found = font()
    family = [found, "DejaVu Sans"] if found else ["DejaVu Sans"]
    out = io.BytesIO()
    with rc_context({"font.family": "sans-serif", "font.sans-serif": family, "axes.unicode_minus": False}), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no CJK font: matplotlib warns of every missing glyph
        fig = Figure(figsize=(6.4, 3.6), dpi=150, layout="constrained")
        FigureCanvasAgg(fig)
        draw(fig.add_subplot())
        fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()

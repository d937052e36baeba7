"""The pre-screen over a 1 MB body (issue 14: at most 5x one pass of a single literal regex, same run).

    python -m bench.screen               # 1 MB
    python -m bench.screen --mb 0.1 --runs 1

The body is the township's plan text repeated, with a sample of personal data and one mark every ~10 KB.
Prints (s1) screen() with the built-in rules, (s2) one pass of the literal regex '秘密★', (s3) s1 / s2.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from pathlib import Path

from workflow.screen import builtin_rules, screen

PLAN = Path(__file__).resolve().parent.parent / "tests" / "data" / "plan-excerpt.txt"
SAMPLE = "\n申请人张某，身份证号532328198503172014，电话13987654321，住址：平田乡大村委会小村3组12号。\n秘密★1年\n"


def body(mb: float) -> str:
    plan = PLAN.read_text(encoding="utf-8")
    block = plan * max(1, 10_000 // len(plan.encode())) + SAMPLE
    size = int(mb * 1_000_000)
    return (block * (size // len(block.encode()) + 1))[: size // 3]  # ~3 bytes a character in UTF-8


def best(f: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    text = body(args.mb)
    rules = builtin_rules()
    literal = re.compile("秘密★")
    s1 = best(lambda: screen(text, rules), args.runs)
    s2 = best(lambda: literal.findall(text), args.runs)
    print(f"body: {len(text.encode()) / 1e6:.2f} MB, {len(text)} characters, {len(screen(text, rules))} findings")
    print(f"(s1) screen(), built-in rules       {s1 * 1000:8.2f} ms")
    print(f"(s2) one literal regex pass         {s2 * 1000:8.2f} ms")
    print(f"(s3) s1 / s2                        {s1 / s2:8.1f} x (target <= 5)")


if __name__ == "__main__":
    main()

"""The pre-screen over a 1 MB body (issue 14: at most 5x one pass of a single literal regex, same run), and its
findings on the corpus (tests/data/screen-corpus.toml).

    python -m bench.screen               # 1 MB
    python -m bench.screen --mb 0.1 --runs 1

The body is the township's plan text repeated, with a sample of personal data and one mark every ~10 KB.
Prints (s1) screen() with the built-in rules, (s2) one pass of the literal regex '秘密★', (s3) s1 / s2;
then the floor: what the searches screen() cannot do without cost alone (f1-f4), and each rule alone; then
bodies written against the number screen (red team 10), against a plain body of the same size; then, over the
corpus, true positives / false positives / false negatives per rule, recall on marks and valid ID numbers,
precision overall.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from tests.screen_corpus import TOTAL_RECALL, bodies, counts
from workflow.screen import RuleSet, builtin_rules, screen
from workflow.screen_numbers import KINDS, numbers
from workflow.screen_numbers import runs as number_runs

PLAN = Path(__file__).resolve().parent.parent / "tests" / "data" / "pingtian-2019-disclosure-plan.txt"
SAMPLE = "\n申请人张某，身份证号532328198503172010，电话13987654321，住址：平田乡大村委会小村3组12号。\n秘密★1年\n"


def body(mb: float, sample: str = SAMPLE) -> str:
    plan = PLAN.read_text(encoding="utf-8")
    block = plan * max(1, 10_000 // len(plan.encode())) + sample
    size = int(mb * 1_000_000)
    return (block * (size // len(block.encode()) + 1))[: size // 3]  # ~3 bytes a character in UTF-8


def best(f: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def speed(mb: float, runs: int) -> None:
    text, plain = body(mb), body(mb, sample="")
    rules = builtin_rules()
    literal, digits = re.compile("秘密★"), re.compile("[0-9]{11,}")
    s2 = best(lambda: literal.findall(text), runs)
    s1 = best(lambda: screen(text, rules), runs)
    s2 = min(s2, best(lambda: literal.findall(text), runs))  # on both sides of s1: a busy machine slows one

    def line(label: str, seconds: float) -> None:
        print(f"{label:<44} {seconds * 1000:8.2f} ms {seconds / s2:6.1f} x s2")

    print(f"body: {len(text.encode()) / 1e6:.2f} MB, {len(text)} characters, {len(screen(text, rules))} findings")
    print(f"(s1) screen(), built-in rules                {s1 * 1000:8.2f} ms")
    print(f"(s2) one literal regex pass                  {s2 * 1000:8.2f} ms")
    print(f"(s3) s1 / s2                                 {s1 / s2:8.1f} x (target <= 5)")
    print("floor (same body):")
    line("(f1) one pass of re '[0-9]{11,}'", best(lambda: digits.findall(text), runs))
    line("(f2) the runs by byte search (screen_numbers.runs)", best(lambda: list(number_runs(text)), runs))
    line("(f3) one str.count of one character ('密')", best(lambda: text.count("密"), runs))
    line("(f4) screen(), plan text alone (no findings)", best(lambda: screen(plain, rules), runs))
    print("each rule alone (screen() with that rule; a pattern rule also over the whole body, without anchors):")
    for rule in rules.rules:
        label = f"  {rule.id}"
        line(label, best(lambda r=rule: screen(text, RuleSet((r,))), runs))
        if rule.pattern is not None:
            line(f"  {rule.id}, whole body", best(lambda r=rule: list(r.pattern.finditer(text)), runs))


ADVERSARIAL = {  # ~100 KB each: separators, shapes and cues the number screen looks at, in bulk
    "no-break spaces between digits": "1\u00a0" * 50_000,
    "ideographic spaces between digits": "1\u3000\u3000\u3000" * 25_000,
    "spaced hyphens between digits": "1 - " * 25_000,
    "zero-width spaces between digits": "1\u200b" * 50_000,
    "an ID number's date, repeated": "53032819900101" * 7000,
    "spaced mobiles with no cue": "，139 1234 5678" * 7000,
    "a table of spaced mobiles": "联系电话\n" + "张某\t139 1234 5678\t3\n" * 5000,
}


def adversarial(runs: int) -> None:
    plain = body(0.3, sample="")[:100_000]
    base = best(lambda: numbers(plain, list(KINDS)), runs)
    print(f"adversarial bodies (numbers(), all kinds) against the plan text of the same length ({base * 1000:.2f} ms):")
    for label, text in ADVERSARIAL.items():
        text = text[:100_000]
        seconds = best(partial(numbers, text, list(KINDS)), runs)
        print(f"  {label:<40} {seconds * 1000:8.2f} ms {seconds / base:6.1f} x")
    scaling: dict[str, Callable[[int], str]] = {  # linear if twice the body takes twice as long
        "spaced then unspaced mobiles, a line each": lambda n: "联系电话 139 1234 5678\n" * n + "13912345678\n" * n,
        "spaced mobiles on one line": lambda n: "联系电话" + "，139 1234 5678" * (2 * n),
        "spaced mobiles, each under a long line": lambda n: ("某" * 70 + "：\n139 1234 5678\n") * (n // 2),
        "spaced mobiles under one long header": lambda n: "某" * 20_000 + "\n139 1234 5678" * (2 * n),
    }
    for label, make in scaling.items():
        for n in (20_000, 40_000):
            text = make(n)
            seconds = best(partial(numbers, text, list(KINDS)), 3)
            print(f"  {f'{label}, {len(text.encode()) / 1e6:.1f} MB':<56} {seconds * 1000:8.1f} ms")


def corpus() -> None:
    corpus = bodies()
    c = counts([b.found() for b in corpus], corpus)
    print(f"corpus: {len(corpus)} bodies, {sum(len(b.expect) for b in corpus)} expected findings")
    print(f"  {'rule':<22} {'TP':>4} {'FP':>4} {'FN':>4}")
    for rule in c.rules():
        print(f"  {rule:<22} {c.tp[rule]:4} {c.fp[rule]:4} {c.fn[rule]:4}")
    print(f"  recall on marks and valid ID numbers   {c.recall(TOTAL_RECALL):7.1%} (target 100%)")
    print(f"  precision overall                      {c.precision():7.1%} (target >= 95%)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    speed(args.mb, args.runs)
    adversarial(args.runs)
    corpus()


if __name__ == "__main__":
    main()

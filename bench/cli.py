"""Cold start of the admin script: what a command costs before it does anything.

    python -m bench.cli                  # 15 runs of each, alternating
    python -m bench.cli --runs 5

Each figure is the median wall time of RUNS processes, started in alternation (one of each per round, so that a
noisy moment of the shared machine hits all alike), on a file SQLite database in a temp folder:
  (c1) `python -c pass`, the interpreter alone (this virtual environment's, with its site packages)
  (c2) `python -c "import sqlalchemy"`
  (c3) `zwgk --help`                                   target: within 3x (c1)
  (c4) `zwgk advance ITEM submit --as clerk`, one signature, each run on an item of its own
                                                       target: within (c2) + 250 ms
  (c5) `python -c "import workflow"`, the library alone: what every command on a database pays before its work
Then, from one `python -X importtime` run of (c4), the packages that cost it most.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from bench.signatures import database, township
from workflow.logs import configure


def zwgk_command() -> list[str]:
    """The installed console script, as a user runs it; `python -m scripts.zwgk` from a source tree."""
    script = Path(sys.executable).with_name("zwgk")
    return [str(script)] if script.exists() else [sys.executable, "-m", "scripts.zwgk"]


def environment(url: str) -> dict[str, str]:
    """For a command as installed: with compiled modules (a first, untimed run writes them if this tree has none)
    and the system clock."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "ZWGK_NOW")}
    return env | {"ZWGK_DATABASE_URL": url}


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and processor time (user + system) of one process, in ms."""
    before, start = os.times(), time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall, after = time.perf_counter() - start, os.times()
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode()[-500:]}")
    cpu = after.children_user + after.children_system - before.children_user - before.children_system
    return wall * 1000, cpu * 1000


def heaviest_imports(argv: list[str], env: dict[str, str], top: int = 6) -> list[tuple[str, float]]:
    """The top-level packages a command imports, by their import time in ms (one run of -X importtime)."""
    done = subprocess.run([sys.executable, "-X", "importtime", *argv], env=env, capture_output=True, text=True,
                          check=True)
    cost: dict[str, float] = defaultdict(float)
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        if not name.startswith("  "):  # imported by the command itself, not by another module
            cost[name.strip().split(".")[0]] += int(cumulative) / 1000
    return sorted(cost.items(), key=lambda kv: -kv[1])[:top]


Command = tuple[list[str], dict[str, str]]  # argv (where "{run}" stands for the round's number) and environment


def medians(commands: dict[str, Command], runs: int) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall and processor time (ms) of each command over `runs` rounds of one process of each (so that a
    noisy moment of the shared machine hits all alike), after a first, untimed round (it writes the compiled
    modules, if missing). In round N (from 0; -1 the untimed one) "{run}" in an argument is N + 1."""
    times: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for run in range(-1, runs):
        for key, (argv, env) in commands.items():
            took = timed([arg.replace("{run}", str(run + 1)) for arg in argv], env)
            if run >= 0:
                times[key].append(took)
    return ({key: statistics.median(w for w, _ in t) for key, t in times.items()},
            {key: statistics.median(c for _, c in t) for key, t in times.items()})


def show(names: dict[str, str], wall: dict[str, float], cpu: dict[str, float], runs: int) -> None:
    print(f"median of {runs} runs each, alternating; wall time, and processor time (user + system)")
    width = max(len(name) for name in names.values())
    for key, name in names.items():
        print(f"({key}) {name:<{width}} {wall[key]:7.1f} ms wall {cpu[key]:7.1f} ms processor")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15, help="processes of each kind (default 15)")
    a = ap.parse_args()
    configure()
    with database(None) as url:
        wf = township(url)
        for n in range(a.runs + 2):
            wf.new_item(id=f"cli-{n}", title=f"事项 {n}", unit="gov", category="2.5", timing="immediate",
                        kind="info", drafter="clerk", body="（正文）")
        wf.close()
        env = environment(url)
        zwgk = zwgk_command()
        wall, cpu = medians({"c1": ([sys.executable, "-c", "pass"], env),
                             "c2": ([sys.executable, "-c", "import sqlalchemy"], env),
                             "c3": ([*zwgk, "--help"], env),
                             "c4": ([*zwgk, "advance", "cli-{run}", "submit", "--as", "clerk"], env),
                             "c5": ([sys.executable, "-c", "import workflow"], env)}, a.runs)
        last = f"cli-{a.runs + 1}"
        heavy = heaviest_imports(["-m", "scripts.zwgk", "advance", last, "submit", "--as", "clerk"], env)
    show({"c1": "python -c pass", "c2": "python -c 'import sqlalchemy'", "c3": "zwgk --help",
          "c4": "zwgk advance (one signature)", "c5": "python -c 'import workflow'"}, wall, cpu, a.runs)
    for label, t in (("wall", wall), ("processor", cpu)):
        print(f"{label:>9}: (c3) = {t['c3'] / t['c1']:.2f}x (c1) (target <= 3x);  "
              f"(c4) = (c2) + {t['c4'] - t['c2']:.0f} ms (target <= + 250 ms), of which the library's import "
              f"(c5) - (c2) {t['c5'] - t['c2']:.0f} ms")
    print("(c4) imports, ms: " + ", ".join(f"{name} {cost:.0f}" for name, cost in heavy))


if __name__ == "__main__":
    main()

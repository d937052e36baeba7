"""Worker processes for tests/test_concurrency.py ('spawn' context: each is a fresh OS process).

`serve` is the main loop of a long-lived worker process: it takes tasks from its inbox, runs one of the
task functions below and tags everything it reports. Each task opens its own `Workflow(url)` and reports
plain tuples (exceptions by class name and message, so nothing unpicklable crosses the process boundary).
Every wait is bounded: a broken or timed-out barrier is reported instead of hanging.
"""

from __future__ import annotations

import traceback
from typing import Any

from workflow import Workflow

BARRIER_TIMEOUT = 60.0


class _Tagged:
    """The shared result queue, seen by one task: every report carries the task's tag."""

    def __init__(self, out: Any, tag: int) -> None:
        self.out, self.tag = out, tag

    def put(self, result: tuple[Any, ...]) -> None:
        self.out.put((self.tag, *result))


def serve(inbox: Any, out: Any, barriers: dict[str, Any]) -> None:
    """Run tasks (tag, function name, barrier name, args) until a None arrives; report (tag, "done") after each."""
    while True:
        task = inbox.get()
        if task is None:
            return
        tag, name, barrier, args = task
        globals()[name](*args, barriers[barrier], _Tagged(out, tag))
        out.put((tag, "done"))


def _report_crash(out: Any, name: str) -> None:
    out.put((name, "crash", None, traceback.format_exc()))


def race(url: str, name: str, item_ids: list[str], action: str, actor: str, mode: str, barrier: Any,
         out: Any) -> None:
    """For each item: read it, wait for the other racer, sign `action`, wait again.

    mode: "item" passes the Item read earlier, "version" passes expected_version, "none" passes only the id.
    Reports (name, item_id, outcome, detail) where outcome is "ok" (detail: seq) or an exception class name
    (detail: its message).
    """
    try:
        with Workflow(url) as wf:
            for item_id in item_ids:
                item = wf.item(item_id)
                barrier.wait(timeout=BARRIER_TIMEOUT)
                try:
                    if mode == "item":
                        sig = wf.advance(item, action, actor=actor)
                    elif mode == "version":
                        sig = wf.advance(item_id, action, actor=actor, expected_version=item.version)
                    else:
                        sig = wf.advance(item_id, action, actor=actor)
                except Exception as e:
                    out.put((name, item_id, type(e).__name__, f"{e} [version read: {item.version}]"))
                else:
                    out.put((name, item_id, "ok", sig.seq))
                barrier.wait(timeout=BARRIER_TIMEOUT)
    except BaseException:
        _report_crash(out, name)
        barrier.abort()


def create_same_id(url: str, name: str, item_id: str, barrier: Any, out: Any) -> None:
    """Create an item with a fixed id at the same moment as another process."""
    try:
        with Workflow(url) as wf:
            barrier.wait(timeout=BARRIER_TIMEOUT)
            try:
                item = wf.new_item(id=item_id, title=f"同号事项 {name}", unit="gov", category="3.4",
                                   timing="periodic", kind="info", drafter="clerk", body=name)
            except Exception as e:
                out.put((name, item_id, type(e).__name__, str(e)))
            else:
                out.put((name, item_id, "ok", item.version))
    except BaseException:
        _report_crash(out, name)
        barrier.abort()


def create_numbered(url: str, name: str, count: int, barrier: Any, out: Any) -> None:
    """Create `count` items in unit gov with the ids the engine numbers, all at once with other processes.
    Reports (name, None, "ok", [id, ...]) or the first failure."""
    try:
        with Workflow(url) as wf:
            barrier.wait(timeout=BARRIER_TIMEOUT)
            made = []
            for k in range(count):
                try:
                    made.append(wf.new_item(title=f"{name} 第{k}项", unit="gov", category="3.4", timing="periodic",
                                            kind="info", drafter="clerk", body=name).id)
                except Exception as e:
                    out.put((name, None, type(e).__name__, str(e)))
                    return
            out.put((name, None, "ok", made))
    except BaseException:
        _report_crash(out, name)
        barrier.abort()


# One whole life of an item, with a return (new round) and an edit on the way: 11 signatures.
LIFE: list[tuple[str, str, dict[str, Any]]] = [
    ("submit", "clerk", {}),
    ("proofread", "proof", {}),
    ("return", "sec", {"reason": "附件缺页"}),
    ("edit", "clerk", {}),
    ("submit", "clerk", {}),
    ("proofread", "proof", {}),
    ("clear", "sec", {"decision": "full"}),
    ("check", "lead", {}),
    ("approve", "head", {}),
    ("publish", "clerk", {}),
]
EVENTS_PER_LIFE = 1 + len(LIFE)


def walk_own_items(url: str, name: str, count: int, unit: str, barrier: Any, out: Any) -> None:
    """Create `count` items of our own in `unit` and walk each through LIFE; report every seq we were given (in
    the unit's chain).

    Reports (name, None, "ok", [seq, ...]) or the first failure as (name, item_id, class name, message).
    """
    try:
        with Workflow(url) as wf:
            barrier.wait(timeout=BARRIER_TIMEOUT)
            seqs: list[int] = []
            for k in range(count):
                item_id = f"{name}-{k}"
                try:
                    wf.new_item(id=item_id, title=f"{name} 第{k}项", unit=unit, category="3.4",
                                timing="periodic", kind="info", drafter="clerk", body="初稿")
                    seqs.append(wf.history(item_id)[-1].seq)
                    for action, actor, extra in LIFE:
                        if action == "edit":
                            sig = wf.edit_item(item_id, actor=actor, body=f"修改稿 {name} {k}")
                        else:
                            sig = wf.advance(item_id, action, actor=actor, **extra)
                        seqs.append(sig.seq)
                except Exception as e:
                    out.put((name, item_id, type(e).__name__, str(e)))
                    return
            out.put((name, None, "ok", seqs))
    except BaseException:
        _report_crash(out, name)
        barrier.abort()

"""Found by the red team of issue 11: item numbers (states/numbers.py chosen_id, workflow/items.py _free_id)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ADMIN, PEOPLE, new_info, seed
from workflow import Workflow


def test_a_drafter_of_one_unit_cannot_take_another_units_next_number(tmp_path: Path) -> None:
    """chosen_id refuses a hand-chosen id of the numbers' form of the item's own unit only. A drafter of `gov`
    creates `--id fin-2026-000001`: accepted, and `fin`'s real first item of 2026 becomes `fin-2026-000001.2`.
    The number a township cites in public (编号) now names another unit's item. Fix: refuse a chosen id of the
    form `<any unit>-YYYY-NNNNNN[.N]` (or any `*-\\d{4}-\\d{6}(\\.\\d+)?`), in the engine and in verify."""
    wf = seed(Workflow(f"sqlite:///{tmp_path}/zwgk.db"))
    wf.add_unit("fin", name="财政所", by=ADMIN)
    for pid, roles in PEOPLE.items():
        for role in roles:
            wf.grant(pid, role, unit="fin", by=ADMIN)
    year = wf.today().year
    squatted: str | None
    try:
        squatted = wf.new_item(id=f"fin-{year}-000001", title="抢号", unit="gov", category="3.4", timing="periodic",
                               kind="info", drafter="clerk", body="……").id
    except Exception:  # refused: what the fix should do
        squatted = None
    real = new_info(wf, unit="fin")
    wf.close()
    assert (squatted, real) == (None, f"fin-{year}-000001"), (squatted, real)

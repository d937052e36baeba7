"""`verify` of what an item's signatures record of the pre-screen (issue 14), folded with its unit's chain: the
spans withheld and the findings accepted as they were signed, each screen recorded in the rules it names, and no
step that the screen stops (clear, publish) signed while a finding was neither withheld nor accepted. A screen of
the content the item holds now is made again: the text it was made of is that content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from states.kinds import ITEM, screens
from states.redaction import Redactions, mark
from states.rules import EDIT, REDACT, Case
from workflow import items, screening
from workflow.ledger import tables
from workflow.model import Item
from workflow.pipelines import InForce
from workflow.uow import Work

_PATIENCE = 10.0  # seconds for an office's patterns on one text: verify judges, it does not serve a clerk waiting


class Refuted(Exception):
    """What an item's screen records is not what the rules give (the message says what)."""


@dataclass
class _Case:
    redactions: Redactions | None = None
    accepted: screening.Accepted = field(default_factory=lambda: (0, set()))
    now: Item | None = None  # the item as its row holds it, read once
    now_hash: str | None = None


@dataclass
class ItemScreens:
    work: Work
    cases: dict[str, _Case] = field(default_factory=dict)

    def step(self, event: Any, data: dict[str, Any], in_force: InForce, case: Case | None, *,
             judged: bool = True, rules_in_force: str | None = None) -> None:
        """One signed step of an item (`case`: before it), with its data; a `Refuted` if it is not as the rules
        make it. Not `judged` (before a `since` digest): only folded."""
        c = self.cases.setdefault(event.case_id, _Case())
        if event.action == EDIT:
            c.redactions = None
        if event.action == REDACT:
            c.redactions = self._redactions(data, in_force if judged else None)
        try:  # an override is the reviewer's, during their review: states.rules judged that
            c.accepted = screening.acceptance(c.accepted, event.action, event.round, data)
        except (TypeError, ValueError):
            raise Refuted("an override that accepts no findings of the screen") from None
        if "screen" not in data or not judged:
            return
        try:
            found = screening.recorded(data["screen"])
        except (TypeError, ValueError):
            raise Refuted("a screen no signature records") from None
        if data["screen"]["rules"] != rules_in_force:
            raise Refuted(f"screened by rules {str(data['screen']['rules'])[:12]}, not those its unit had adopted then")
        rules = screening.by_fingerprint(self.work, data["screen"]["rules"])
        if rules is None:
            raise Refuted(f"screened by rules {str(data['screen']['rules'])[:12]}, which zwgk_screen_rules does not "
                          "hold as they were (gone or altered)")
        when = screens(in_force.pipeline, ITEM, event.from_state, event.to_state, event.role)
        accepted = c.accepted[1] if case is not None and c.accepted[0] == case.round else set()
        if when == "gate" and screening.unresolved(found, c.redactions, accepted):
            raise Refuted(f"signed {event.action} while the screen it records finds what was neither withheld nor "
                          "accepted")
        item = self._now(c, event.case_id)
        if item is not None and c.now_hash == event.content_hash and found != screening.found(
                rules, item.title, item.public_body, time_limit=_PATIENCE):
            raise Refuted("records a screen of its content that the rules it names do not give")

    def _redactions(self, data: dict[str, Any], in_force: InForce | None) -> Redactions | None:
        """The spans a redaction withheld, each on a ground of the pipeline (`in_force`, when judged), marked as the
        engine marks it."""
        try:
            got = data["redactions"]
            redactions = Redactions.of(got) if got is not None else None
        except (TypeError, ValueError, KeyError):
            raise Refuted("a redaction no signature records") from None
        if redactions is None or in_force is None:
            return redactions
        grounds = in_force.pipeline.grounds
        if any(s.ground not in grounds or redactions.marks.get(s.ground) != mark(
                grounds[s.ground]) for s in redactions.spans):
            raise Refuted("withholds spans on grounds its pipeline does not have, or marks them otherwise")
        return redactions

    def _now(self, c: _Case, item_id: str) -> Item | None:
        """The item as its row holds it, if that hashes as signed (else `tables` names the problem)."""
        if c.now is None and c.now_hash is None:
            row = self.work.one("item", {"id": item_id})
            c.now_hash = tables.item_hash(row) if row is not None else ""
            c.now = items.item_of(row) if row is not None and c.now_hash else None
        return c.now

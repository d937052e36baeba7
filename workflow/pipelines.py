"""The pipelines adopted in a database, by fingerprint: each definition read once, and trusted only if it hashes
to the fingerprint its adoption signed; each with its shared `transitions` machine and its deadline rules."""

from __future__ import annotations

from dataclasses import dataclass

from states import Pipeline, PipelineMachine
from workflow.config import Config
from workflow.deadlines import Rules
from workflow.errors import Unjudgeable
from workflow.ledger.events import Event, event_hash
from workflow.uow import Work


@dataclass(frozen=True)
class InForce:
    """A pipeline ready to judge: its machine, and the township's deadline rules applied to it."""

    pipeline: Pipeline
    machine: PipelineMachine
    rules: Rules


class Pipelines:
    def __init__(self, config: Config) -> None:
        self.config = config
        self._known: dict[str, InForce] = {}
        self._adoptions: set[tuple[str, str, int]] = set()  # (unit, fingerprint, seq) seen signed in the chain

    def of(self, pipeline: Pipeline) -> InForce:
        found = self._known.get(pipeline.fingerprint)
        if found is None:
            found = self._known[pipeline.fingerprint] = InForce(pipeline, PipelineMachine(pipeline),
                                                                Rules(self.config, pipeline))
        return found

    def load(self, work: Work, fingerprint: str) -> InForce:
        """The stored definition with this fingerprint; `Unjudgeable` if none is, or it was altered."""
        found = self._known.get(fingerprint)
        if found is not None:
            return found
        row = work.one("pipeline_definition", {"fingerprint": fingerprint})
        pipeline = Pipeline.from_definition(row["definition"], fingerprint) if row else None
        if pipeline is None:
            raise Unjudgeable("no stored pipeline definition hashes to {fingerprint}, the one adopted (zwgk_pipeline "
                              "was altered); run `zwgk verify`", fingerprint=fingerprint[:12])
        return self.of(pipeline)

    def in_force(self, work: Work, unit: str, fingerprint: str, seq: int) -> InForce:
        """The pipeline `zwgk_adopted` names for a unit, once its adoption event (`seq` of the unit's chain) is
        seen to be the unit's latest signed adoption, of exactly that definition: a signature is never made under
        a pipeline that was not adopted, even if the table was edited. Checked once per process."""
        if (unit, fingerprint, seq) not in self._adoptions:
            row = work.one("event", {"chain": unit, "seq": seq})
            event = Event(**row) if row else None
            latest = work.one("latest_adoption", {"chain": unit, "kind": event.case_id}) if event else None
            if (event is None or latest is None or latest["seq"] != seq or event.action != "adopt"
                    or event.case_kind != "pipeline" or event.pipeline != fingerprint
                    or event_hash(event[:-1]) != event.hash):
                raise Unjudgeable("unit {unit}: the pipeline in force ({fingerprint}) is not the one its event {seq} "
                                  "adopted (zwgk_adopted was altered); run `zwgk verify`", unit=unit,
                                  fingerprint=fingerprint[:12], seq=seq)
            self._adoptions.add((unit, fingerprint, seq))
        return self.load(work, fingerprint)

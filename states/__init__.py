"""The disclosure pipeline as data. Imports nothing of ours and no database."""

from states.errors import (
    ActionNotAvailable,
    AlreadySigned,
    InputMissing,
    PipelineError,
    PrerequisiteMissing,
    Refused,
    RoleMissing,
    SeparationOfDuties,
)
from states.machine import Attempt, PipelineMachine
from states.pipeline import Action, Pipeline, Role, State, default_pipeline, load_pipeline, parse_pipeline

__all__ = [
    "Action", "ActionNotAvailable", "AlreadySigned", "Attempt", "InputMissing", "Pipeline", "PipelineError",
    "PipelineMachine", "PrerequisiteMissing", "Refused", "Role", "RoleMissing", "SeparationOfDuties", "State",
    "default_pipeline", "load_pipeline", "parse_pipeline",
]

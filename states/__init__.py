"""Kinds of case, their pipelines as data, and the rulebooks that judge every event. Imports nothing of ours and
no database."""

__distribution__ = "zwgk-workflow"  # workflow.names checks this line

from states.errors import (
    ActionNotAvailable,
    AdoptionRefused,
    AlreadySigned,
    InputMissing,
    NotAuthorised,
    NotDrafter,
    NotEditable,
    NotNext,
    NotPublic,
    PipelineError,
    PrerequisiteMissing,
    Refused,
    RoleMissing,
    SeparationOfDuties,
    SignerInactive,
)
from states.kinds import KINDS, Kind, builtin, check_adoptable, default_pipeline
from states.machine import Attempt, PipelineMachine
from states.pipeline import Action, Pipeline, Role, State, load_pipeline, parse_pipeline

__all__ = [
    "KINDS", "Action", "ActionNotAvailable", "AdoptionRefused", "AlreadySigned", "Attempt", "InputMissing", "Kind",
    "NotAuthorised", "NotDrafter", "NotEditable", "NotNext", "NotPublic", "Pipeline", "PipelineError",
    "PipelineMachine", "PrerequisiteMissing", "Refused", "Role", "RoleMissing", "SeparationOfDuties",
    "SignerInactive", "State", "builtin", "check_adoptable", "default_pipeline", "load_pipeline", "parse_pipeline",
]

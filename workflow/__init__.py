"""zwgk-workflow: the 政务公开 disclosure pipeline with a tamper-evident signature log.

    from workflow import Workflow
    wf = Workflow("sqlite:///zwgk.db")
"""

from workflow import names

names.check()  # before the first import of a package whose name another distribution may hold

from states import (
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
from workflow.api import Workflow
from workflow.errors import (
    AlreadyExists,
    ClockBehind,
    InvalidInput,
    ItemChanged,
    NotFound,
    SchemaMissing,
    SimulatedClock,
    Unjudgeable,
    ZwgkError,
)
from workflow.ledger.events import Digest
from workflow.ledger.verify import Report
from workflow.model import Item, Person, Signature, Unit

__all__ = [
    "ActionNotAvailable", "AdoptionRefused", "AlreadyExists", "AlreadySigned", "ClockBehind", "Digest",
    "InputMissing", "InvalidInput", "Item", "ItemChanged", "NotAuthorised", "NotDrafter", "NotEditable", "NotFound",
    "NotNext", "NotPublic", "Person", "PipelineError", "PrerequisiteMissing", "Refused", "Report", "RoleMissing",
    "SchemaMissing", "SeparationOfDuties", "Signature", "SignerInactive", "SimulatedClock", "Unit", "Unjudgeable",
    "Workflow", "ZwgkError",
]

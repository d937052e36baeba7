"""zwgk-workflow: the 政务公开 disclosure pipeline with a tamper-evident signature log.

    from workflow import Workflow
    wf = Workflow("sqlite:///zwgk.db")
"""

from states import (
    ActionNotAvailable,
    AlreadySigned,
    InputMissing,
    PipelineError,
    PrerequisiteMissing,
    Refused,
    RoleMissing,
    SeparationOfDuties,
)
from workflow.api import Workflow
from workflow.chain import Digest, Report
from workflow.errors import AlreadyExists, InvalidInput, ItemChanged, NotEditable, NotFound, SchemaMissing, ZwgkError
from workflow.model import Item, Person, Signature, Unit

__all__ = [
    "ActionNotAvailable", "AlreadyExists", "AlreadySigned", "Digest", "InputMissing", "InvalidInput", "Item",
    "ItemChanged", "NotEditable", "NotFound", "Person", "PipelineError", "PrerequisiteMissing", "Refused", "Report",
    "RoleMissing", "SchemaMissing", "SeparationOfDuties", "Signature", "Unit", "Workflow", "ZwgkError",
]

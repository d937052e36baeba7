"""Errors raised by the pipeline: a bad pipeline file, or a refused action; and Phrased, the base of every error
of ours, with Phrase, a part of a message (both said in the user's language by workflow/i18n.py)."""

from __future__ import annotations


class Phrase:
    """A part of a message that is itself translated (a problem that a helper prefixes with where it is):
    a parameter of a Phrased error or of another Phrase. `str()` is its English text."""

    __slots__ = ("params", "template")

    def __init__(self, template: str, /, **params: object) -> None:
        self.template = template
        self.params = params

    def __str__(self) -> str:
        return self.template.format(**self.params) if self.params else self.template


class Phrased(Exception):
    """An error said so that a front end can say it in the user's language: `str()` is the English message;
    `template` is that message before its `params` were filled in, and the key of its translations
    (workflow/i18n.py); `code` names the kind of error for a program. A parameter may be a Phrase or a
    Phrased error, said in the same language."""

    code = "error"

    def __init__(self, template: str, /, **params: object) -> None:
        self.template = template
        self.params = params
        super().__init__(str(Phrase(template, **params)))


class PipelineError(Phrased, ValueError):
    """A pipeline definition is malformed; the message names the line and the problem."""

    code = "pipeline"


class Refused(Phrased):
    """An action was refused. The message is one line in plain words: which rule, who, which state."""

    rule = "refused"

    @property
    def code(self) -> str:  # type: ignore[override]
        return self.rule


class ActionNotAvailable(Refused):
    rule = "action-not-available"


class NotEditable(ActionNotAvailable):
    """The content of a case can change only in its pipeline's initial state."""

    rule = "not-editable"


class NotDrafter(Refused):
    """A draft is its drafter's (谁提供、谁负责): only they edit and submit it, or hand it on (reassign)."""

    rule = "drafter"


class NotNext(Refused):
    """An item's number is not the next of its unit's year, or a chosen id has the form of those numbers."""

    rule = "number"


class RoleMissing(Refused):
    rule = "role"


class PrerequisiteMissing(Refused):
    rule = "prerequisite"


class AlreadySigned(Refused):
    rule = "already-signed"


class SeparationOfDuties(Refused):
    rule = "separation-of-duties"


class ScreenBlocked(Refused):
    """The pre-screen found personal data (or a mark) that is neither withheld nor accepted by the reviewer."""

    rule = "screen-blocked"


class InputMissing(Refused):
    """A reason, a legal ground or a decision is required, or the one given is not allowed."""

    rule = "input"


class NotAuthorised(Refused):
    """An act on the register or a unit's authority (people, roles, pipelines) that the rules forbid."""

    rule = "authority"


class SignerInactive(Refused):
    """The signer, or the clerk recording for them, is unknown or deactivated at that point of the chain."""

    rule = "inactive"


class NotPublic(Refused):
    """A step that needs another case public first: an interpretation goes public with or after its policy."""

    rule = "not-public"


class AdoptionRefused(Refused):
    """A pipeline a unit may not adopt."""

    rule = "adoption"

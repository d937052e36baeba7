"""Errors of the engine. Refusals by the pipeline (`states.Refused`) are re-exported from `workflow`."""

from __future__ import annotations


class ZwgkError(Exception):
    """Base of the engine's own errors; the message is one line in plain words."""


class NotFound(ZwgkError, LookupError):
    pass


class AlreadyExists(ZwgkError):
    pass


class InvalidInput(ZwgkError, ValueError):
    pass


class ItemChanged(ZwgkError):
    """Someone else changed the item since it was read: reload it and decide again."""


class NotEditable(ZwgkError):
    pass


class SchemaMissing(ZwgkError):
    pass

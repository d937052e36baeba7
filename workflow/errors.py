"""Errors of the engine. Refusals by the pipeline (`states.Refused`) are re-exported from `workflow`."""

from __future__ import annotations

from states.errors import Phrase, Phrased


class ZwgkError(Phrased):
    """Base of the engine's own errors; the message is one line in plain words."""


class NotFound(ZwgkError, LookupError):
    code = "not-found"


class AlreadyExists(ZwgkError):
    code = "already-exists"


class InvalidInput(ZwgkError, ValueError):
    code = "invalid-input"


class ConfigError(InvalidInput):
    """A bad configuration file: the message names the file, the key and the problem."""

    code = "config"


def key_error(source: str, key: str, template: str, /, **params: object) -> ConfigError:
    """The problem `template` (with `params`) of the setting `key` in the file `source`."""
    return ConfigError("{source}: {key}: {problem}", source=source, key=key, problem=Phrase(template, **params))


class ItemChanged(ZwgkError):
    """Someone else changed the item since it was read: reload it and decide again."""

    code = "item-changed"


class SchemaMissing(ZwgkError):
    code = "schema-missing"


class ClockBehind(ZwgkError):
    """The clock is further behind a chain's last event than `max_clock_skew` allows: a signature's time would
    go backwards."""

    code = "clock-behind"


class SimulatedClock(ZwgkError):
    """A clock set by hand (ZWGK_NOW, `Workflow(clock=)`) may write only to a database made for simulation."""

    code = "simulated-clock"


class Unjudgeable(ZwgkError):
    """What the rules need to judge a signature (a pipeline definition, an adoption) is missing or altered."""

    code = "unjudgeable"

"""Logging set-up for our own processes, the CLI and the daemon: readable in a terminal, JSON in the daemon.

The library logs through the standard library (`get_logger`) and configures nothing; `configure` gives the
process a handler for the engine's records and APScheduler's. Nothing here ever logs an item's body."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from notifiers.base import get_logger

__all__ = ["configure", "get_logger"]

OURS = ("zwgk", "apscheduler")  # the loggers a process of ours prints


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # whatever stderr is now, not when configure() ran
        super().emit(record)


def _fields(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """An engine record's event and fields as they were logged, not as its one-line message."""
    record = event_dict["_record"]
    if hasattr(record, "zwgk_fields"):
        event_dict.update(record.zwgk_fields, event=record.zwgk_event)
    return event_dict


def configure(*, json: bool = False, level: int = logging.WARNING) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    handler = _StderrHandler()
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, structlog.processors.format_exc_info,
                    renderer],
        foreign_pre_chain=[structlog.stdlib.add_logger_name, structlog.stdlib.add_log_level,
                           structlog.processors.TimeStamper(fmt="iso", utc=True), _fields]))
    for name in OURS:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
        logger.setLevel(level)
    # APScheduler's warning "skipped: maximum number of running instances reached" only says a sweep outlasted
    # its interval.
    logging.getLogger("apscheduler").setLevel(max(level, logging.ERROR))

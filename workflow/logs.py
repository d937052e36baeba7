"""structlog set-up: readable in a terminal, JSON in the daemon. Nothing here ever logs an item's body."""

from __future__ import annotations

import logging
import sys

import structlog

from notifiers.base import Logger

__all__ = ["Logger", "configure"]


def _stderr_logger(*_: object) -> structlog.PrintLogger:
    return structlog.PrintLogger(sys.stderr)  # whatever stderr is now, not when configure() ran


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # whatever stderr is now
        super().emit(record)


def configure(*, json: bool = False, level: int = logging.WARNING) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    stamps: list[structlog.typing.Processor] = [structlog.processors.add_log_level,
                                                structlog.processors.TimeStamper(fmt="iso", utc=True)]
    # APScheduler logs through the standard library: its records come out in the same format. Its warning
    # "skipped: maximum number of running instances reached" only says a sweep outlasted its interval.
    handler = _StderrHandler()
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, structlog.processors.format_exc_info,
                    renderer],
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *stamps]))
    scheduler = logging.getLogger("apscheduler")
    scheduler.handlers = [handler]
    scheduler.propagate = False
    scheduler.setLevel(max(level, logging.ERROR))
    structlog.configure(
        processors=[*stamps, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,  # the CLI reconfigures (-v) after loggers exist
    )

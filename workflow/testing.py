"""For tests and benchmarks, ours and a host's: a throw-away PostgreSQL schema, the engine's log records."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, text


@contextmanager
def scratch_schema(url: str, prefix: str = "zwgk_scratch") -> Iterator[str]:
    """Create a fresh schema on the PostgreSQL server at `url`; yield a URL whose search_path is that
    schema, so that `Workflow(yielded_url).init()` builds everything inside it; drop it afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f"CREATE SCHEMA {schema}"))
        try:
            yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
        finally:
            with admin.connect() as c:
                c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    finally:
        admin.dispose()


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.logs: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = getattr(record, "zwgk_fields", {})
        self.logs.append({**fields, "event": getattr(record, "zwgk_event", record.getMessage()),
                          "log_level": record.levelname.lower()})


@contextmanager
def captured_logs(name: str = "zwgk") -> Iterator[list[dict[str, Any]]]:
    """The engine's log records, at every level, while in the block: dicts of `event`, `log_level` and the
    fields logged (as structlog.testing.capture_logs gives them)."""
    logger = logging.getLogger(name)
    capture, level = _Capture(), logger.level
    logger.addHandler(capture)
    logger.setLevel(logging.DEBUG)
    try:
        yield capture.logs
    finally:
        logger.removeHandler(capture)
        logger.setLevel(level)

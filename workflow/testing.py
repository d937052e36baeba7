"""For tests and benchmarks, ours and a host's: a throw-away PostgreSQL schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

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

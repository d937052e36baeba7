"""The benchmarks still run against the core, at sizes too small to measure anything: each builds its log through
the engine, and exits non-zero when `verify` finds a problem in what it built. Their figures are not checked."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PG_URL, pg_schema_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def pg_server() -> Iterator[str]:
    """The server's URL (a bench makes its own scratch schema), or a skip when no server answers."""
    for _ in pg_schema_url():
        yield PG_URL


def bench(name: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", f"bench.{name}", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_signatures_on_sqlite_make_rows_that_verify() -> None:
    out = bench("signatures", "--items", "3", "--raw", "20", "--runs", "1")
    assert "(a3) signatures hand-written" in out
    assert "verify over the bench's" in out and out.rstrip().endswith("ok")


def test_signatures_on_postgresql_make_rows_that_verify(pg_server: str) -> None:
    out = bench("signatures", "--db", pg_server, "--items", "3", "--raw", "20", "--runs", "1")
    assert "synchronous_commit = " in out
    assert out.rstrip().endswith("ok")


def test_writers_sign_side_by_side(pg_server: str) -> None:
    out = bench("writers", "--db", pg_server, "--writers", "1,2", "--seconds", "0.5", "--items", "5")
    assert "synchronous_commit = " in out
    assert out.rstrip().endswith("ok")


def test_verify_bench_checks_a_log_it_built(tmp_path: Path) -> None:
    out = bench("verify", "--keep", str(tmp_path / "v.db"), "--events", "600", "--units", "2", "--runs", "1")
    for figure in ("(v1)", "(v2)", "(v3)", "(v4)"):
        assert figure in out


def test_deadlines_bench_plans_and_sends(tmp_path: Path) -> None:
    out = bench("deadlines", "--items", "300", "--open", "60", "--due", "10")
    for figure in ("(a)", "(b)", "(c)"):
        assert figure in out


def test_cli_bench_times_the_commands() -> None:
    out = bench("cli", "--runs", "1")
    for figure in ("(c1)", "(c2)", "(c3)", "(c4)", "imports, ms"):
        assert figure in out


def test_items_bench_pages_and_streams(tmp_path: Path) -> None:
    out = bench("items", "--small", "20", "--big", "200", "--whole", "100", "--runs", "1", "--cache", str(tmp_path))
    for figure in ("(i0)", "(i1)", "(i2)", "(i3)", "(i4)", "(i5)"):
        assert figure in out


def test_requests_bench_builds_requests_with_letters_that_verify() -> None:
    out = bench("requests", "--n", "4")
    assert "(q2) 补正 notice + letter" in out and "(q4) verify()" in out


def test_report_bench_counts_a_year_and_verifies_it(tmp_path: Path) -> None:
    out = bench("report", "--requests", "6", "--items", "2", "--runs", "1", "--cache", str(tmp_path))
    assert "(r1) annual_report(2026)" in out and "(r3) r1 / r2" in out


def test_screen_bench_compares_with_a_literal_pass() -> None:
    out = bench("screen", "--mb", "0.05", "--runs", "1")
    assert "(s1) screen()" in out and "(s3) s1 / s2" in out

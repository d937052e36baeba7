"""The README's Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(BLOCKS[index], f"README.md example {index + 1}", "exec"), {})
    out = capsys.readouterr().out
    if index == 0:
        assert "lead cannot 'check' there" in out
        assert "['clear', 'withhold', 'override', 'return']" in out
        assert "changed since you read it" in out


def test_the_readme_carries_the_full_example_configuration() -> None:
    example = (README.parent / "zwgk.example.toml").read_text(encoding="utf-8")
    assert f"```toml\n{example}```" in README.read_text(encoding="utf-8")


def test_the_example_configuration_is_exactly_the_defaults() -> None:
    """zwgk.example.toml documents every default: loading it must change nothing."""
    from workflow.config import Config, load

    example, defaults = load(README.parent / "zwgk.example.toml", required=True), Config()
    for section in ("office", "deadlines", "reminders", "daemon", "schedules", "ledger", "witnesses"):
        assert getattr(example, section) == getattr(defaults, section), section
    assert dict(example.operators) == dict(defaults.operators)
    assert {k: dict(v) for k, v in example.channels.items()} == {k: dict(v) for k, v in defaults.channels.items()}
    assert example.calendar_file is None

"""Shell completion: `zwgk --print-completion bash` is a script bash can load, and it completes our commands."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ZWGK = Path(sys.executable).parent / "zwgk"

COMPLETE = """
source <("$ZWGK" --print-completion bash)
COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
_shtab_zwgk
printf '%s\\n' "${COMPREPLY[@]}"
"""


def completions(line: str) -> list[str]:
    """What bash offers for the last word of `line` (empty after a trailing space), as a user pressing TAB."""
    words = line.split(" ")
    done = subprocess.run(["bash", "-c", COMPLETE, "bash", *words], env={"ZWGK": str(ZWGK), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return sorted(done.stdout.split())


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash on this machine")
def test_bash_completes_commands_subcommands_and_options() -> None:
    assert completions("zwgk adv") == ["advance"]
    assert completions("zwgk person ") == ["add", "deactivate", "list", "reactivate"]
    assert {"--json", "--db", "--help"} <= set(completions("zwgk person list --"))


def test_an_unknown_shell_is_refused_in_one_line() -> None:
    done = subprocess.run([str(ZWGK), "--print-completion", "fish"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "invalid choice: 'fish'" in done.stderr


def test_a_reader_that_leaves_early_gets_no_traceback() -> None:
    done = subprocess.run(["bash", "-c", f"'{ZWGK}' --print-completion zsh | head -1"], capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "#compdef zwgk\n", "")

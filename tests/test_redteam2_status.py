"""Red team 2 on `zwgk daemon --status` (workflow/api.py daemons): 'gone' is inferred, not checked."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from scripts.zwgk import main
from tests.conftest import seed
from workflow import Workflow
from workflow import schema as t
from workflow.clock import stamp


def test_a_hung_daemon_whose_process_lives_is_not_gone_because_another_started_on_its_host(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Two daemons on one computer (PostgreSQL lets several claim side by side; or a second started by hand).
    # Daemon A hangs (stopped with SIGSTOP, a job stuck, swapping): it no longer beats, but its process lives.
    # Daemon B is restarted (an upgrade, systemd Restart=on-failure): A, silent, now counts as 'gone' ("killed
    # and replaced", workflow/api.py:573) and `--status` exits 0: the hung daemon vanishes from monitoring.
    # Fix: on the daemon's own host, 'gone' only if its pid is no longer alive (os.kill(pid, 0)); elsewhere, or
    # when in doubt, 'silent'.
    from workflow.daemon import Daemon

    url = f"sqlite:///{tmp_path}/zwgk.db"
    when = datetime.fromisoformat("2026-10-12T10:00:00+08:00")
    wf = seed(Workflow(url, clock=lambda: when))
    hung = Daemon(wf)
    hung.beat()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])  # A's process, still there
    try:
        with wf.engine.begin() as c:  # its last beat an hour ago
            c.execute(t.daemon.update().where(t.daemon.c.id == hung.id)
                      .values(pid=alive.pid, beat_at=stamp(when - timedelta(hours=1)),
                              started_at=stamp(when - timedelta(days=2))))
        Daemon(wf).beat()  # B, restarted since
        wf.close()
        capsys.readouterr()
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("ZWGK_NOW", when.isoformat())
            code = main(["--db", url, "daemon", "--status"])
        out = capsys.readouterr().out
        assert code == 1, out
    finally:
        alive.kill()
        alive.wait()

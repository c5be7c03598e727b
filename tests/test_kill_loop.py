"""A short kill loop: `fitvault sync` SIGKILLed during a request, a page's parsing, a store
commit and a token refresh, and `fitvault import` during parsing and a commit — each re-run
ends with a clean run's rows and no lock left behind (benchmarks/kills.py, real processes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # several processes, minutes
SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "kills.py"


def test_each_killed_run_re_runs_to_the_clean_rows_with_no_lock_left() -> None:
    """Four sync kills (one per phase) and two import kills: all land, nothing lost or doubled."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--sync-kills", "4", "--import-kills", "2", "--days", "1"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    last = dict(pair.split("=") for pair in lines[-1].split())
    assert last["rows_lost"] == last["rows_duplicated"] == "0", done.stdout
    assert last["crashes"] == last["locks_left"] == "0", done.stdout
    assert int(last["kills"]) >= 5, done.stdout  # a kill can come just after a quick operation
    phases = {
        (line.split()[0], line.split()[1])
        for line in lines
        if line.startswith(("sync ", "import "))
    }
    assert phases == {
        ("sync", "request"),
        ("sync", "parse"),
        ("sync", "commit"),
        ("sync", "refresh"),
        ("import", "parse"),
        ("import", "commit"),
    }

"""`benchmarks/campaign.py --quick` runs its parts as subprocesses, prints their table and a last
line summing rows lost, rows duplicated, crashes, kills and fuzz cases (kills and the disk-full
part have their own tests and are left out here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # several processes, minutes
SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "campaign.py"


def test_the_quick_campaign_prints_each_part_and_the_summed_last_line() -> None:
    """The faults and soak parts run and report nothing lost (the faults over both worlds); the
    sums are those of the parts."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--skip", "kills,diskfull"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    last = dict(pair.split("=") for pair in lines[-1].split())
    assert set(last) == {"rows_lost", "rows_duplicated", "crashes", "kills", "fuzz_cases"}
    assert last["rows_lost"] == last["rows_duplicated"] == last["crashes"] == "0", done.stdout
    table = {
        line.split()[0]: line.split() for line in lines if line.startswith(("faults ", "soak "))
    }
    assert set(table) == {"faults", "soak"}
    assert "syncs=5" in " ".join(table["soak"])
    fuzz_present = (SCRIPT.parent / "fuzz_parsers.py").exists()
    assert fuzz_present or "fuzz_parsers.py is not on this branch" in done.stdout
    # the faults table came through: a class over the small world, all at once over the big one
    rows = {line.split()[0]: line.split() for line in lines if line.strip()}
    assert rows["503"][1] == "4"
    assert rows["realistic"][1] == "8"
    assert "big_days=8" in " ".join(table["faults"])

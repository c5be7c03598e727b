"""The reliability campaign in one command: faults, kills, a full disk, a soak and the fuzzers.

Each part is its own script, run here as a subprocess (so each has its own process and peak
RSS) with its table passed through; its last line of ``name=value`` pairs is collected:

* ``faults.py`` — a backfill through every fault class (incl. clock skew and roll-up faults)
  over a 7-day world, and through all of them at once at realistic rates over a 365-day world,
  each compared with a fault-free backfill of the same world (in two worker processes);
* ``kills.py`` — `fitvault sync` SIGKILLed at 20 seeded moments, `fitvault import` at 10, each
  re-run and compared with a clean run;
* ``diskfull.py`` — a sync into a vault on a tmpfs that fills up (skipped, saying why, where
  mounting is refused);
* ``soak.py`` — 100 incremental syncs of an up-to-date vault, the simulated day advancing;
* ``fuzz_parsers.py`` — Hypothesis over every parser (skipped with a message when absent).

Sizes (full mode, to fit 15 minutes on a shared 2-core machine): faults per class over a 14-day
world and every class at once over a 365-day one (a 1-year backfill takes 150–250 s in-process
here, so 20 of them cannot fit; faults.py's docstring has the numbers); kills over a 3-day
world (each trial is two CLI processes); the soak's vault holds a year of steps, sleep and
resting heart rate — heart rate left out because a year of it takes most of a backfill's time
before the first of the 100 syncs. ``--quick`` runs each part at its smallest, for the tests.
Measured (2026-11-30, other engineers' benchmarks keeping the load average at 1–10): 648 s in
all, faults 336 (per class over 14 days, every class at once over 365), kills 76, diskfull 17,
soak 82, fuzz 137; with faults per class over 7 days, at load 3–11: 803 s, faults 466. The
classes alone took 100 s over 7 days, 120 s over 14 and 256 s over 21 (load ≈ 5): 21 days
would not leave room for a machine this shared.

Last line: ``rows_lost=… rows_duplicated=… crashes=… kills=… fuzz_cases=…`` (summed over parts).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOAK_TYPES = "steps,sleep,daily-resting-heart-rate"
FAULT_DAYS = "14"  # the world of each fault class; every class at once meets a 365-day one


@dataclass
class Part:
    name: str
    script: str
    full: list[str]
    quick: list[str]
    figures: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    note: str = ""


PARTS = [
    Part(
        "faults",
        "faults.py",
        ["--days", FAULT_DAYS, "--big-days", "365", "--workers", "2"],
        ["--quick", "--only", "503,skew-ahead,realistic"],
    ),
    Part("kills", "kills.py", [], ["--quick"]),
    Part("diskfull", "diskfull.py", [], ["--days", "1"]),
    Part(
        "soak",
        "soak.py",
        ["--days", "365", "--syncs", "100", "--types", SOAK_TYPES],
        ["--days", "10", "--syncs", "5", "--types", SOAK_TYPES],
    ),
    # 120 s of fuzzing keeps the whole campaign near 15 min; run fuzz_parsers.py alone for more.
    Part("fuzz", "fuzz_parsers.py", ["--budget", "120"], ["--examples", "1", "--only", "takeout:"]),
]


def run(part: Part, quick: bool) -> None:
    script = HERE / part.script
    if not script.exists():
        part.note = f"skipped: {part.script} is not on this branch"
        print(f"== {part.name}: {part.note}", flush=True)
        return
    print(f"== {part.name}: {part.script} {' '.join(part.quick if quick else part.full)}")
    sys.stdout.flush()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(script), *(part.quick if quick else part.full)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    last = ""
    for line in proc.stdout:  # passed through as it comes: the parts take minutes
        print(f"   {line}", end="", flush=True)
        if line.strip():
            last = line.strip()
    code = proc.wait()
    part.seconds = time.perf_counter() - started
    part.figures = dict(p.split("=", 1) for p in last.split() if "=" in p)
    if code != 0 or not part.figures:
        part.note = f"exit {code}: no figures"
        part.figures["crashes"] = str(int(part.figures.get("crashes", "0")) + 1)


def num(part: Part, name: str) -> int:
    try:
        return int(float(part.figures.get(name, "0")))
    except ValueError:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every part at its smallest")
    parser.add_argument("--skip", default="", help="comma-separated parts to leave out")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    started = time.perf_counter()
    chosen = [p for p in PARTS if p.name not in skip]
    for part in chosen:
        run(part, args.quick)
    print()
    print(f"{'part':<11}{'time s':>8}{'lost':>7}{'dup':>7}{'crashes':>8}{'kills':>7}  figures")
    for p in chosen:
        shown = p.note or " ".join(
            f"{k}={v}"
            for k, v in p.figures.items()
            if k not in ("rows_lost", "rows_duplicated", "crashes", "kills")
        )
        print(
            f"{p.name:<11}{p.seconds:>8.0f}{num(p, 'rows_lost'):>7}{num(p, 'rows_duplicated'):>7}"
            f"{num(p, 'crashes'):>8}{num(p, 'kills'):>7}  {shown}"
        )
    total = {
        k: sum(num(p, k) for p in chosen)
        for k in ("rows_lost", "rows_duplicated", "crashes", "kills", "fuzz_cases")
    }
    print(f"campaign: {time.perf_counter() - started:.0f} s")
    print(" ".join(f"{k}={v}" for k, v in total.items()))


if __name__ == "__main__":
    main()

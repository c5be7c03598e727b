"""Crash safety: SIGKILL `fitvault sync` and `fitvault import` at seeded moments, re-run each
time, and compare the final store with a clean run's (every catalog table as a multiset).

The sync runs against the simulator on a real loopback socket, with a few access tokens revoked
mid-run (401 → refresh) and each trial's stored access token already expired, so a refresh
happens at the start of every run. The kill lands on a marker the process reaches
(``benchmarks/killable.py``): the N-th HTTP attempt, page normalisation, store commit or token
refresh, N drawn (seeded) from how often a clean run reaches it, and a delay of 0–50 ms so the
kill falls inside the operation rather than at its first line. The import reads a Takeout
archive the simulator wrote and is killed while parsing a member or while committing.

After each kill the same command is run again, plainly: it must exit 0 (a lock left behind
would make it exit 6), print no traceback, and leave the clean run's rows — nothing lost,
nothing twice. Each trial starts from a copy of one signed-in vault (its token files only).

Last line: ``kills=… missed=… rows_lost=… rows_duplicated=… crashes=… locks_left=…``.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faults import compare, table_rows
from fitvault.demo import press_allow
from fitvault.simulator.app import create_app
from fitvault.simulator.faults import FaultSpec
from fitvault.simulator.server import serve_in_thread
from fitvault.simulator.takeout import write_archive
from fitvault.simulator.world import World
from fitvault.vault import Vault

HERE = Path(__file__).resolve().parent
SYNC_TYPES = "heart-rate,steps,sleep,daily-resting-heart-rate"
SYNC_PHASES = ("request", "parse", "commit", "refresh")
IMPORT_PHASES = ("parse", "commit")
Rows = dict[str, collections.Counter[tuple[Any, ...]]]


@dataclass
class Trial:
    what: str
    phase: str
    nth: int
    delay: float
    killed: bool
    rerun_rc: int
    traceback: bool
    lost: int
    dup: int
    seconds: float

    @property
    def crashed(self) -> bool:
        return self.traceback or self.rerun_rc not in (0, 6)


def fitvault(vault: Path, args: list[str], marker: tuple[str, int, float] | None = None) -> Any:
    """Run the CLI on ``vault`` in its own process (with kill markers when ``marker``)."""
    env = os.environ | {"FITVAULT_HOME": str(vault), "PYTHONUNBUFFERED": "1"}
    phase, nth, delay = marker or ("count", 0, 0.0)
    counts = vault.parent / f"{vault.name}.markers.json"  # beside the vault, not in it
    cmd = [sys.executable, str(HERE / "killable.py"), phase, str(nth), str(delay), str(counts)]
    done = subprocess.run(
        [*cmd, "--", *args], env=env, capture_output=True, text=True, timeout=900, check=False
    )
    reached = json.loads(counts.read_text()) if counts.exists() else {}
    return done, reached


def expire_access_token(vault: Path) -> None:
    """Make the stored access token stale, so the run starts with a refresh."""
    path = vault / "token.json"
    token = json.loads(path.read_text())
    token["expires_at"] = 0
    path.write_text(json.dumps(token))
    path.chmod(0o600)


def trial(
    what: str,
    template: Path,
    directory: Path,
    args: list[str],
    marker: tuple[str, int, float],
    want: Rows,
) -> Trial:
    started = time.perf_counter()
    shutil.copytree(template, directory)
    if (directory / "token.json").exists():
        expire_access_token(directory)
    killed_run, _ = fitvault(directory, args, marker)
    rerun, _ = fitvault(directory, args)
    out = rerun.stdout + rerun.stderr + killed_run.stderr
    lost, dup = compare(want, table_rows(Vault(directory))) if rerun.returncode == 0 else (0, 0)
    return Trial(
        what,
        *marker,
        killed=killed_run.returncode == -9,
        rerun_rc=rerun.returncode,
        traceback="Traceback" in out,
        lost=lost,
        dup=dup,
        seconds=time.perf_counter() - started,
    )


def markers(
    rng: random.Random, phases: tuple[str, ...], counts: dict[str, int], n: int
) -> list[tuple[str, int, float]]:
    """``n`` seeded moments, cycling through ``phases`` (one the clean run never reached is
    replaced by a random HTTP attempt or commit)."""
    out = []
    for i in range(n):
        phase = phases[i % len(phases)]
        if not counts.get(phase):
            phase = "commit"
        # Which refreshes beyond the first (the stale token's) happen depends on which requests
        # meet a 401, which differs from run to run: the first is the one sure to come.
        nth = 1 if phase == "refresh" else rng.randint(1, counts[phase])
        out.append((phase, nth, round(rng.uniform(0, 0.05), 4)))
    return out


def sync_trials(root: Path, days: int, n: int, rng: random.Random) -> list[Trial]:
    world = World.default(days=days, seed=11)  # up to the real present: the CLI's own clock
    sim = create_app(world, quota_per_minute=None, faults=FaultSpec({"401": 0.03}, seed=5))
    args = ["sync", "--types", SYNC_TYPES]
    with serve_in_thread(sim.app) as url:
        template = root / "sync-template"
        Vault(template).authorize(server=url, open_url=press_allow)
        clean = root / "sync-clean"
        shutil.copytree(template, clean)
        expire_access_token(clean)
        done, counts = fitvault(clean, args)
        if done.returncode != 0:
            raise SystemExit(f"the clean sync failed:\n{done.stderr}")
        want = table_rows(Vault(clean))
        print(f"clean sync: {_total(want)} rows, reached {counts}", flush=True)
        return [
            trial("sync", template, root / f"sync-{i}", args, m, want)
            for i, m in enumerate(markers(rng, SYNC_PHASES, counts, n))
        ]


def import_trials(root: Path, days: int, n: int, rng: random.Random) -> list[Trial]:
    now = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)
    archive = write_archive(World.default(days=days, seed=13, now=now), root / "takeout.zip")
    args = ["import", str(archive)]
    template = root / "import-template"
    template.mkdir(mode=0o700)
    clean = root / "import-clean"
    shutil.copytree(template, clean)
    done, counts = fitvault(clean, args)
    if done.returncode != 0:
        raise SystemExit(f"the clean import failed:\n{done.stderr}")
    want = table_rows(Vault(clean))
    print(f"clean import: {_total(want)} rows, reached {counts}", flush=True)
    return [
        trial("import", template, root / f"import-{i}", args, m, want)
        for i, m in enumerate(markers(rng, IMPORT_PHASES, counts, n))
    ]


def _total(rows: Rows) -> int:
    return sum(sum(c.values()) for c in rows.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 sync kills and 2 import kills")
    parser.add_argument("--sync-kills", type=int)
    parser.add_argument("--import-kills", type=int)
    parser.add_argument("--days", type=int, help="the sync world's size (default 3)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    n_sync = args.sync_kills if args.sync_kills is not None else (4 if args.quick else 20)
    n_import = args.import_kills if args.import_kills is not None else (2 if args.quick else 10)
    days = args.days or (2 if args.quick else 3)
    rng = random.Random(args.seed)
    print(f"{n_sync} sync kills ({days}-day world), {n_import} import kills, seed {args.seed}")
    print(
        f"{'run':<8}{'phase':<9}{'nth':>5}{'delay ms':>9}{'killed':>7}{'rerun':>6}"
        f"{'lost':>7}{'dup':>7}{'time s':>8}",
        flush=True,
    )
    trials: list[Trial] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for run in (
            lambda: sync_trials(root, days, n_sync, rng),
            lambda: import_trials(root, 10, n_import, rng),
        ):
            for t in run():
                trials.append(t)
                print(
                    f"{t.what:<8}{t.phase:<9}{t.nth:>5}{t.delay * 1000:>9.1f}"
                    f"{'yes' if t.killed else 'no':>7}{t.rerun_rc:>6}{t.lost:>7}{t.dup:>7}"
                    f"{t.seconds:>8.1f}{'  TRACEBACK' if t.traceback else ''}",
                    flush=True,
                )
    kills = sum(t.killed for t in trials)
    print(
        f"kills={kills} missed={len(trials) - kills} rows_lost={sum(t.lost for t in trials)} "
        f"rows_duplicated={sum(t.dup for t in trials)} crashes={sum(t.crashed for t in trials)} "
        f"locks_left={sum(t.rerun_rc == 6 for t in trials)}"
    )


if __name__ == "__main__":
    main()

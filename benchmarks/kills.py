"""Crash safety: SIGKILL `fitvault sync` and `fitvault import` at seeded moments, re-run each
time, and compare the final store with a clean run's (every catalog table as a multiset).

The sync runs against the simulator on a real loopback socket, with a few access tokens revoked
mid-run (401 → refresh) and each trial's stored access token already expired, so a refresh
happens at the start of every run. The kill lands on a marker the process reaches
(``benchmarks/killable.py``): the N-th HTTP attempt, page normalisation, store commit or token
refresh, N drawn (seeded) from how often a clean run reaches it, and a delay of 0–50 ms so the
kill falls inside the operation rather than at its first line. The import reads a Takeout
archive the simulator wrote and is killed while parsing a member or while committing.

After each kill the same command is run again — killed in its turn at the next moment, up to
``--chain`` kills (a re-run that can start at all shows no lock was left behind: one would make
it exit 6), then once plainly to the end: it must exit 0, no run may print a traceback, and the
vault must hold the clean run's rows — nothing lost, nothing twice. Each chain starts from a
copy of one signed-in vault (its token files only). With a 3-day world every re-run fetches the
whole world again (the recent days are always re-fetched), so later kills land as early ones do.

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
class Kill:
    phase: str
    nth: int
    delay: float
    rc: int  # -9 when the kill landed

    @property
    def killed(self) -> bool:
        return self.rc == -9


@dataclass
class Chain:
    """Kills one after another on one vault (each run a re-run of the one killed before it),
    then a plain re-run to the end, compared with the clean run."""

    what: str
    kills: list[Kill]
    rerun_rc: int
    traceback: bool
    lost: int
    dup: int
    seconds: float

    @property
    def crashes(self) -> int:
        bad = [k.rc for k in self.kills if k.rc not in (-9, 0, 6)]
        return len(bad) + int(self.traceback) + int(self.rerun_rc not in (0, 6))

    @property
    def locks_left(self) -> int:
        return sum(k.rc == 6 for k in self.kills) + int(self.rerun_rc == 6)


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


def chain(
    what: str,
    template: Path,
    directory: Path,
    args: list[str],
    moments: list[tuple[str, int, float]],
    want: Rows,
) -> Chain:
    started = time.perf_counter()
    shutil.copytree(template, directory)
    kills, said = [], ""
    for moment in moments:
        if (directory / "token.json").exists():
            expire_access_token(directory)  # each run starts with a refresh to be killed in
        run, _ = fitvault(directory, args, moment)
        kills.append(Kill(*moment, rc=run.returncode))
        said += run.stderr
        if run.returncode not in (-9, 0):  # neither killed nor done: say what it said
            last = run.stderr.strip().splitlines()[-1:] or ["(nothing on stderr)"]
            print(f"   {what} at {moment}: exit {run.returncode}: {last[0][:300]}", flush=True)
    rerun, _ = fitvault(directory, args)
    said += rerun.stdout + rerun.stderr
    lost, dup = compare(want, table_rows(Vault(directory))) if rerun.returncode == 0 else (0, 0)
    return Chain(
        what,
        kills,
        rerun.returncode,
        traceback="Traceback" in said,
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


def chains(
    what: str,
    template: Path,
    root: Path,
    args: list[str],
    moments: list[tuple[str, int, float]],
    want: Rows,
    length: int,
) -> list[Chain]:
    cut = [moments[i : i + length] for i in range(0, len(moments), length)]
    return [chain(what, template, root / f"{what}-{i}", args, m, want) for i, m in enumerate(cut)]


def sync_trials(root: Path, days: int, n: int, rng: random.Random, length: int) -> list[Chain]:
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
        moments = markers(rng, SYNC_PHASES, counts, n)
        return chains("sync", template, root, args, moments, want, length)


def import_trials(root: Path, days: int, n: int, rng: random.Random, length: int) -> list[Chain]:
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
    moments = markers(rng, IMPORT_PHASES, counts, n)
    return chains("import", template, root, args, moments, want, length)


def _total(rows: Rows) -> int:
    return sum(sum(c.values()) for c in rows.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 sync kills and 2 import kills")
    parser.add_argument("--sync-kills", type=int)
    parser.add_argument("--import-kills", type=int)
    parser.add_argument("--days", type=int, help="the sync world's size (default 3)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--chain", type=int, default=5, help="kills before each full re-run")
    args = parser.parse_args()
    n_sync = args.sync_kills if args.sync_kills is not None else (4 if args.quick else 20)
    n_import = args.import_kills if args.import_kills is not None else (2 if args.quick else 10)
    days = args.days or (2 if args.quick else 3)
    rng = random.Random(args.seed)
    print(f"{n_sync} sync kills ({days}-day world), {n_import} import kills, seed {args.seed}")
    print(f"{'run':<8}{'phase':<9}{'nth':>5}{'delay ms':>9}{'exit':>6}", flush=True)
    done: list[Chain] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for run in (
            lambda: sync_trials(root, days, n_sync, rng, args.chain),
            lambda: import_trials(root, 10, n_import, rng, args.chain),
        ):
            for c in run():
                done.append(c)
                for k in c.kills:
                    print(f"{c.what:<8}{k.phase:<9}{k.nth:>5}{k.delay * 1000:>9.1f}{k.rc:>6}")
                print(
                    f"  → re-run: exit {c.rerun_rc}, {c.lost} rows lost, {c.dup} duplicated, "
                    f"{c.seconds:.0f} s{'  TRACEBACK' if c.traceback else ''}",
                    flush=True,
                )
    kills = sum(k.killed for c in done for k in c.kills)
    tried = sum(len(c.kills) for c in done)
    print(
        f"kills={kills} missed={tried - kills} rows_lost={sum(c.lost for c in done)} "
        f"rows_duplicated={sum(c.dup for c in done)} crashes={sum(c.crashes for c in done)} "
        f"locks_left={sum(c.locks_left for c in done)}"
    )


if __name__ == "__main__":
    main()

"""A sync into a vault that already holds a Takeout export of the same person: the merge that
ranks two sources' rows, against a long history.

The common way in: import the export first (years of history), then sync the API. Every batch
the sync saves then goes through the two-source merge (fitvault.provenance), which looks for the
other source's rows of the same readings. Before ``Shape.near`` it joined the batch against the
whole table, so each heart-rate commit read every stored heart-rate row: 1.6 s per commit with a
year of history, 11 s with five, on this machine.

Setup (once, not timed): ``fitvault simulate --days D`` serves a seeded world (quota off: the
merge, not the quota, is measured); the same world written as a Takeout zip is imported into a
vault; ``fitvault auth`` signs it in. Each side then syncs its own copy of that vault for the
last ``--sync-days`` days (all types) in its own process (``--child``), which reports its wall
and CPU time and its peak RSS (``ru_maxrss`` of that process alone):

- ``baseline``: the merge as it was: ``Shape.near`` answers TRUE, so nothing narrows the joins;
- ``fitvault``: the merge as shipped.

Both sides' tables are compared row for row afterwards (they must be equal).

Full: D = 365, 60 days synced (≈ 10 min, most of it the baseline); ``--quick``: D = 120, 30 days.

Last line: ``speedup_vs_baseline=… cpu_speedup_vs_baseline=… peak_rss_mb=… baseline_peak_rss_mb=…
commits=…``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sync_wall import fitvault, read_url, sign_in

SEED = 7


def child(side: str, vault: Path, since: str) -> None:
    """Sync ``vault`` from ``since`` in this process, with the CLI's memory settings; print
    one JSON line of figures."""
    os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "system"  # as `fitvault sync` sets it

    from fitvault import provenance, store, sync
    from fitvault.vault import Vault

    sync.lean_memory()

    if side == "baseline":
        provenance.Shape.near = lambda self, *a, **k: "TRUE"  # type: ignore[method-assign]
    commits = 0
    commit = store.Store.commit

    def counted(self: store.Store, *a: object, **k: object) -> None:
        nonlocal commits
        commits += 1
        commit(self, *a, **k)  # type: ignore[arg-type]

    store.Store.commit = counted  # type: ignore[method-assign]
    started, cpu = time.perf_counter(), time.process_time()
    report = Vault(vault).sync(since=since, per_minute=None)
    print(
        json.dumps({
            "wall_s": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu,
            "requests": report.requests,
            "commits": commits,
        })
    )  # fmt: skip


def run_side(side: str, vault: Path, since: str) -> dict[str, float]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", side, str(vault), since],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"the {side} sync failed:\n{out}")
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    figures["peak_rss_mb"] = usage.ru_maxrss / 1024
    return figures


def tables(vault: Path) -> dict[str, int]:
    """Rows per table and per kept-aside table, with a checksum of every row."""
    import duckdb

    from fitvault import catalog, provenance

    out = {}
    con = duckdb.connect(str(vault / "vault.duckdb"), read_only=True)
    try:
        for table in catalog.TABLES.values():
            for name in (table.name, provenance.others(table.name)):
                cols = ", ".join(f'"{c}"' for c in table.column_names)
                count, digest = con.execute(
                    f"SELECT count(*), coalesce(sum(hash({cols})), 0) FROM {name}"
                ).fetchone()  # type: ignore[misc]
                out[name] = (count, int(digest))
    finally:
        con.close()
    return out  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="120 days imported, 30 synced")
    parser.add_argument("--days", type=int, help="days of history (default 365)")
    parser.add_argument("--sync-days", type=int, help="days the API sync covers (default 60)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.child[2])
        return
    days = args.days or (120 if args.quick else 365)
    sync_days = args.sync_days or (30 if args.quick else 60)
    since = (dt.date.today() - dt.timedelta(days=sync_days - 1)).isoformat()
    with tempfile.TemporaryDirectory(prefix="fitvault-bench-mixed-") as tmp:
        work = Path(tmp)
        archive = work / "takeout.zip"
        common = ["--days", str(days), "--seed", str(SEED)]
        subprocess.run(fitvault("simulate", *common, "--takeout", str(archive)), check=True)
        sim = subprocess.Popen(
            fitvault("simulate", "--port", "0", *common, "--auto-approve", "--quota", "0"),
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert sim.stderr is not None
            server = read_url(sim.stderr, sim, r"http://127\.0\.0\.1:\d+")
            seed = work / "seed"
            sign_in(server, seed)
            started = time.perf_counter()
            subprocess.run(
                fitvault("import", "--vault", str(seed), str(archive)),
                check=True,
                stdout=subprocess.DEVNULL,
            )
            print(f"imported {days} days of Takeout in {time.perf_counter() - started:.0f} s")
            results = {}
            for side in ("baseline", "fitvault"):
                vault = work / side
                shutil.copytree(seed, vault)
                results[side] = run_side(side, vault, since)
                r = results[side]
                print(
                    f"{side:>9}: sync of {sync_days} days, {r['requests']} requests, "
                    f"{r['commits']} commits: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, "
                    f"peak RSS {r['peak_rss_mb']:.0f} MB"
                )
        finally:
            sim.terminate()
            sim.wait()
        if tables(work / "baseline") != tables(work / "fitvault"):
            raise SystemExit("the two sides' tables differ")
        print("tables: equal, row for row (count and hash of every table and kept-aside table)")
    base, ours = results["baseline"], results["fitvault"]
    print(
        f"speedup_vs_baseline={base['wall_s'] / ours['wall_s']:.1f} "
        f"cpu_speedup_vs_baseline={base['cpu_s'] / ours['cpu_s']:.1f} "
        f"peak_rss_mb={ours['peak_rss_mb']:.0f} baseline_peak_rss_mb={base['peak_rss_mb']:.0f} "
        f"commits={ours['commits']}"
    )


if __name__ == "__main__":
    main()

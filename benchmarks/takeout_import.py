"""Takeout import: a synthetic export through ``Vault.import_archive`` vs a json.load-per-file
baseline, each side in its own process so each peak RSS is its own.

The simulator writes the world as a Takeout zip (heart rate, steps, distance, sleep, resting
heart rate). Then, each in a fresh child process:

* fitvault: ``Vault.import_archive`` — the zip read in place, member by member; parsers,
  merging on natural keys, raw pages kept zstd-compressed, coverage, a transaction per file;
* baseline: for every JSON member, ``json.load`` from the open zip, ``datetime.strptime`` per
  record into Python lists, then one DataFrame per type written to DuckDB at the end, as the
  export-to-pandas scripts do.

Both must end with the same rows per type (checked). ``rss_growth_2x`` is fitvault's peak RSS
on an archive twice as long divided by its peak on this one (≈1 means memory does not grow
with the export). Last line:
``speedup_vs_baseline=… peak_rss_mb=… baseline_peak_rss_mb=… rss_growth_2x=…``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

NOW = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)
TABLES = {"heart_rate": "heart-rate", "steps": "steps", "distance": "distance",
          "sleep": "sleep", "resting_heart_rate": "daily-resting-heart-rate"}  # fmt: skip
_FAMILY = re.compile(r"/(heart_rate|steps|distance|sleep|resting_heart_rate)-[\d-]+\.json$")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write(days: int, out: Path) -> Path:
    from fitvault.simulator.takeout import write_archive
    from fitvault.simulator.world import World

    return write_archive(World.default(days=days, seed=7, now=NOW), out)


def ours(archive: Path, work: Path) -> dict[str, int]:
    from fitvault.vault import Vault

    summary = Vault(work / "vault").import_archive([archive])
    counts = summary.rows
    return {t: counts.get(name, 0) for t, name in TABLES.items()}


def baseline(archive: Path, work: Path) -> dict[str, int]:
    import duckdb
    import pandas as pd

    rows: dict[str, list[dict[str, object]]] = {t: [] for t in TABLES}
    fmt = "%m/%d/%y %H:%M:%S"
    with zipfile.ZipFile(archive) as zf:
        for name in zf.namelist():
            m = _FAMILY.search(name)
            if not m:
                continue
            with zf.open(name) as fh:
                records = json.load(fh)
            family = m[1]
            for r in records:
                if family == "sleep":
                    rows[family].append({"start": r["startTime"], "duration": r["duration"]})
                elif family == "resting_heart_rate":
                    if r["value"]["date"]:
                        rows[family].append(
                            {"date": r["value"]["date"], "bpm": r["value"]["value"]}
                        )
                else:
                    when = dt.datetime.strptime(r["dateTime"], fmt).replace(tzinfo=dt.UTC)
                    value = r["value"]["bpm"] if family == "heart_rate" else float(r["value"])
                    rows[family].append({"time": when, "value": value})
    con = duckdb.connect(str(work / "baseline.duckdb"))
    for family, data in rows.items():
        frame = pd.DataFrame(data)
        con.register("frame", frame)
        con.execute(f"CREATE TABLE {family} AS SELECT * FROM frame")
        con.unregister("frame")
    con.close()
    return {t: len(v) for t, v in rows.items()}


def child(side: str, archive: Path, work: Path) -> tuple[float, float, dict[str, int]]:
    """Run one side in a fresh process: (seconds, peak RSS MB, rows per table)."""
    cmd = [sys.executable, __file__, "--side", side, str(archive), str(work)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return result["s"], result["peak_mb"], result["rows"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--side", nargs=3, metavar=("SIDE", "ZIP", "WORK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        side, archive, work = args.side[0], Path(args.side[1]), Path(args.side[2])
        t = time.perf_counter()
        rows = (ours if side == "fitvault" else baseline)(archive, work)
        print(json.dumps({"s": time.perf_counter() - t, "peak_mb": peak_mb(), "rows": rows}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        small, big = write(args.days, work / "a.zip"), write(2 * args.days, work / "b.zip")
        print(f"archives: {args.days} days {small.stat().st_size / 1e6:.1f} MB, "
              f"{2 * args.days} days {big.stat().st_size / 1e6:.1f} MB")  # fmt: skip
        (work / "o1").mkdir(), (work / "o2").mkdir(), (work / "b1").mkdir()
        ours_s, ours_mb, ours_rows = child("fitvault", small, work / "o1")
        base_s, base_mb, base_rows = child("baseline", small, work / "b1")
        _, big_mb, _ = child("fitvault", big, work / "o2")
    if ours_rows != base_rows:
        raise SystemExit(f"rows differ: fitvault {ours_rows} vs baseline {base_rows}")
    print(f"rows per table (both): {ours_rows}")
    print(f"fitvault import_archive: {ours_s:.2f} s, peak RSS {ours_mb:.0f} MB")
    print(f"baseline (json.load per file + strptime + DataFrame): {base_s:.2f} s, "
          f"peak RSS {base_mb:.0f} MB")  # fmt: skip
    print(
        f"speedup_vs_baseline={base_s / ours_s:.1f} peak_rss_mb={ours_mb:.0f} "
        f"baseline_peak_rss_mb={base_mb:.0f} rss_growth_2x={big_mb / ours_mb:.2f}"
    )


if __name__ == "__main__":
    main()

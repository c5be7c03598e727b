"""Ingest speed: the same Google Health v4 pages into the vault vs the tutorials' pandas way.

The simulator renders every list page of a synthetic person (heart rate, steps, sleep, resting
heart rate) exactly as the API serves them, into files, in a child process. Then, in this
process and on the same files in the same order:

* fitvault: normalise each page and save it through the sync's own path (page buffer, merge
  on natural keys, raw page kept zstd-compressed, sync state, transactions on a writer
  thread that overlaps with parsing, as in ``fitvault sync``);
* baseline ("tutorial"): ``json.loads`` + ``pandas.json_normalize`` + ``DataFrame.to_csv``
  appended to one CSV per type, as the classic Fitbit-to-pandas scripts do.

Both must produce one row per data point; the script checks the counts match. Peak RSS is the
process high-water mark after the fitvault run (page generation happens in the child), and
again after the baseline.

Last line: ``speedup_vs_baseline=… peak_rss_mb=… mb_per_s=…``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from fitvault import catalog
from fitvault._time import to_us
from fitvault.normalise.google_health import NORMALISERS, SOURCE
from fitvault.sources.google_health import Page, Window
from fitvault.store import RawPage, Store
from fitvault.sync import Frontier, PageBuffer, Writer

NOW = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)
TYPES = ("heart-rate", "steps", "sleep", "daily-resting-heart-rate")
POINT_TABLE = {"heart-rate": "heart_rate", "steps": "steps", "sleep": "sleep_sessions"}
POINT_TABLE["daily-resting-heart-rate"] = "resting_heart_rate"


def write_pages(out: Path, days: int) -> None:
    """Render every page of each type over the whole world (child process)."""
    from fitvault.simulator import v4_data
    from fitvault.simulator.world import World

    world = World.default(days=days, seed=7, now=NOW)
    for name in TYPES:
        dtype = catalog.get(name)
        col = v4_data.collection(world, dtype)
        folder = out / name
        folder.mkdir(parents=True)
        cursor, n = None, 0
        while True:
            idx, cursor = v4_data.select(col, None, dtype.page_cap, cursor)
            token = v4_data.make_token(cursor, "bench") if cursor is not None else None
            (folder / f"{n:05d}.json").write_bytes(v4_data.page_body(col.render(idx, False), token))
            n += 1
            if cursor is None:
                break


def pages_of(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json"))


def fitvault_ingest(pages: Path, vault: Path, days: int) -> dict[str, int]:
    span = Window(to_us(NOW - dt.timedelta(days=days + 2)), to_us(NOW + dt.timedelta(days=1)))
    writer = Writer()
    with Store(vault) as store:
        for name in TYPES:
            dtype = catalog.get(name)
            files = pages_of(pages / name)
            buffer = PageBuffer(dtype, Frontier(span, 1))
            for i, path in enumerate(files):
                last = i == len(files) - 1
                raw = RawPage(name, SOURCE, {"file": path.name}, path.read_bytes(), NOW)
                buffer.add(NORMALISERS[name](raw.body, SOURCE), Page(raw, last))
                if last or buffer.due():
                    buffer.flush(store, writer)
        writer.close()
        return {name: store.count(POINT_TABLE[name]) for name in TYPES}


def baseline_ingest(pages: Path, out: Path) -> dict[str, int]:
    rows = {}
    for name in TYPES:
        rows[name] = 0
        with (out / f"{name}.csv").open("w", newline="") as fh:
            for i, path in enumerate(pages_of(pages / name)):
                data = json.loads(path.read_bytes())
                df = pd.json_normalize(data.get("dataPoints", []))
                df.to_csv(fh, header=i == 0, index=False)
                rows[name] += len(df)
    return rows


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--write-pages", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_pages:
        write_pages(args.write_pages, args.days)
        return
    with tempfile.TemporaryDirectory() as tmp:
        pages = Path(tmp) / "pages"
        cmd = [sys.executable, __file__, "--days", str(args.days), "--write-pages", str(pages)]
        subprocess.run(cmd, check=True)
        size = sum(p.stat().st_size for p in pages.rglob("*.json"))
        count = sum(1 for _ in pages.rglob("*.json"))
        print(f"{count} pages, {size / 1e6:.0f} MB of JSON ({args.days} days)")

        t = time.perf_counter()
        ours = fitvault_ingest(pages, Path(tmp) / "vault", args.days)
        ours_s = time.perf_counter() - t
        ours_peak = peak_mb()

        t = time.perf_counter()
        base = baseline_ingest(pages, Path(tmp))
        base_s = time.perf_counter() - t
        if ours != base:
            raise SystemExit(f"row counts differ: fitvault {ours} vs baseline {base}")
    print(f"rows per type (both): {ours}")
    print(f"fitvault: {ours_s:.2f} s ({size / 1e6 / ours_s:.0f} MB/s), peak RSS {ours_peak:.0f} MB")
    print(f"baseline (json + json_normalize + to_csv): {base_s:.2f} s, peak RSS {peak_mb():.0f} MB")
    print(
        f"speedup_vs_baseline={base_s / ours_s:.1f} peak_rss_mb={ours_peak:.0f} "
        f"mb_per_s={size / 1e6 / ours_s:.0f}"
    )


if __name__ == "__main__":
    main()

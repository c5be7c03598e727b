"""Export speed and memory: ``vault.export`` vs the tutorials' pandas way, on the same rows.

A synthetic person's vault (``--days`` of heart rate, steps, sleep and resting heart rate,
synced from the simulator by ``fitvault.demo.run_demo``) is exported by both sides, each run in
its own child process so that its peak RSS is its own:

* fitvault: ``vault.export(fmt=…)`` — DuckDB ``COPY`` streaming for CSV and Parquet, Arrow
  batches into openpyxl's write-only workbook for Excel;
* baseline ("tutorial"): per table ``pandas.read_sql`` of the same SELECT (same columns, same
  order) into a DataFrame, then ``to_csv`` / ``to_parquet`` / ``to_excel``.

Excel is measured on the last ``--xlsx-days`` days (pandas cannot write a sheet over
1 048 576 rows, and its in-memory workbook grows with every cell). Both sides must write the
same number of rows; the script checks it.

Last line: ``csv_speedup=… parquet_speedup=… xlsx_speedup=… peak_rss_mb=…`` (peak_rss_mb is
fitvault's largest child; the baseline's is printed above it).
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
import warnings
from pathlib import Path

NOW = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)
TYPES = ["heart-rate", "steps", "sleep", "daily-resting-heart-rate"]
EXT = {"csv": "csv", "parquet": "parquet", "xlsx": "xlsx"}


def build(directory: Path, days: int) -> Path:
    from fitvault.demo import run_demo

    report = run_demo(directory, days=days, now=NOW)
    return report.vault


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_fitvault(vault_dir: Path, out: Path, fmt: str, since: str | None) -> int:
    from fitvault.vault import Vault

    summary = Vault(vault_dir).export(out, fmt=fmt, types=TYPES, since=since)
    return summary.rows


def run_tutorial(vault_dir: Path, out: Path, fmt: str, since: str | None) -> int:
    import duckdb
    import pandas as pd

    from fitvault import catalog, export
    from fitvault.store import VAULT_FILE

    opts = export.Options(fmt, since=dt.date.fromisoformat(since) if since else None)
    con = duckdb.connect(str(vault_dir / VAULT_FILE), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    out.mkdir(parents=True, exist_ok=True)
    rows = 0
    writer = pd.ExcelWriter(out / "tutorial.xlsx", engine="openpyxl") if fmt == "xlsx" else None
    for table in export.tables_of([catalog.get(t) for t in TYPES]):
        sql = export.table_sql(table, opts, aware=fmt != "xlsx")
        with warnings.catch_warnings():  # pandas asks for SQLAlchemy; DB-API works
            warnings.simplefilter("ignore", UserWarning)
            df = pd.read_sql(sql, con)
        rows += len(df)
        if fmt == "csv":
            df.to_csv(out / f"{table.name}.csv", index=False)
        elif fmt == "parquet":
            df.to_parquet(out / f"{table.name}.parquet", index=False)
        else:
            assert writer is not None
            df.to_excel(writer, sheet_name=table.name[:31], index=False)
    if writer is not None:
        writer.close()
    con.close()
    return rows


def child(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    run = run_fitvault if args.side == "fitvault" else run_tutorial
    rows = run(Path(args.vault), Path(args.out), args.format, args.since)
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": rows, "seconds": seconds, "rss_mb": peak_rss_mb()}))


def measure(side: str, vault: Path, out: Path, fmt: str, since: str | None) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", side, "--vault", str(vault), "--out", str(out)]
    cmd += ["--format", fmt] + (["--since", since] if since else [])
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--xlsx-days", type=int, default=4)
    parser.add_argument("--child", dest="side", choices=["fitvault", "tutorial"])
    parser.add_argument("--vault")
    parser.add_argument("--out")
    parser.add_argument("--format", default="csv")
    parser.add_argument("--since")
    parser.add_argument("--build", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        print(build(Path(args.build), args.days))
        return
    if args.side:
        child(args)
        return
    with tempfile.TemporaryDirectory(prefix="fitvault-bench-") as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        # Built in a child: Linux carries a process's peak RSS over to the children it starts,
        # so this process stays small for the measured children's numbers to be their own.
        made = subprocess.run(
            [sys.executable, __file__, "--build", str(root / "demo"), "--days", str(args.days)],
            check=True,
            capture_output=True,
            text=True,
        )
        vault = Path(made.stdout.strip().splitlines()[-1])
        print(f"built a {args.days}-day vault in {time.perf_counter() - t:.1f} s")
        xlsx_since = (NOW.date() - dt.timedelta(days=args.xlsx_days - 1)).isoformat()
        speedups, rss = {}, []
        for fmt in ("csv", "parquet", "xlsx"):
            since = xlsx_since if fmt == "xlsx" else None
            ours = measure("fitvault", vault, root / f"ours-{fmt}", fmt, since)
            theirs = measure("tutorial", vault, root / f"theirs-{fmt}", fmt, since)
            if ours["rows"] != theirs["rows"]:
                raise SystemExit(f"{fmt}: {ours['rows']} rows vs {theirs['rows']}")
            speedups[fmt] = theirs["seconds"] / ours["seconds"]
            rss.append(ours["rss_mb"])
            print(
                f"{fmt:<8} {int(ours['rows']):>10,} rows  fitvault {ours['seconds']:6.2f} s "
                f"{ours['rss_mb']:6.0f} MB   tutorial {theirs['seconds']:6.2f} s "
                f"{theirs['rss_mb']:6.0f} MB"
            )
        print(
            f"csv_speedup={speedups['csv']:.2f} parquet_speedup={speedups['parquet']:.2f} "
            f"xlsx_speedup={speedups['xlsx']:.2f} peak_rss_mb={max(rss):.0f}"
        )


if __name__ == "__main__":
    main()

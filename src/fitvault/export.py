"""Exports: the vault's tables as CSV, Excel, Parquet, JSON or JSON Lines files.

One file per table, columns as in the vault plus a ``local_<instant>`` wall-clock column beside
each instant (``fitvault.views``); daily tables carry just their date. Every row keeps its
``source``. Files are written by streaming — DuckDB's ``COPY (SELECT …) TO`` for CSV, Parquet
and JSON, Arrow record batches into openpyxl's write-only workbook for Excel — never by loading
a table into pandas, and atomically: each file is written as ``<name>.tmp`` and renamed into
place, so a killed export leaves no half file under a final name. Files are created with the
user's umask (the vault itself is private; what to share is the user's choice).

Excel holds at most 1 048 576 rows a sheet: a longer table continues on ``name (2)``, … or,
with ``resample="1min"``, sample types (heart rate, …) are averaged per minute first. The
summary says which happened.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fitvault import catalog, sqlshell, views
from fitvault._errors import ConfigError
from fitvault.catalog import Column, DataType, Table
from fitvault.store import Store

FORMATS = ("csv", "xlsx", "parquet", "json", "jsonl")
PARTITIONS = ("year", "month")
EXCEL_MAX_ROWS = 1_048_576  # including the header row
ROW_GROUP_ROWS = 122_880  # one DuckDB row group: time-ordered, so a time filter skips most
BATCH_ROWS = 65_536
# DuckDB's buffer while exporting: a sort by time beyond it spills to the vault's folder (private)
# instead of growing; measured 60-day heart rate: 500 MB peak at 1 GB, 400 MB at this.
MEMORY_LIMIT = "256MB"
TIDY_NAME = "tidy"
_NUMERIC = ("SMALLINT", "INTEGER", "BIGINT", "DOUBLE", "BOOLEAN")
_OFFSETS = ("utc_offset_s", "start_utc_offset_s", "end_utc_offset_s")
_EXCEL_CELL = 32_767  # longest text Excel keeps in a cell


@dataclass(frozen=True)
class TableExport:
    """What one table became: rows, files written, and anything the reader should know."""

    table: str
    rows: int
    paths: tuple[Path, ...]
    note: str = ""


@dataclass
class ExportSummary:
    format: str
    out: Path
    tables: list[TableExport] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "out": str(self.out),
            "tables": [
                {"table": t.table, "rows": t.rows, "paths": [str(p) for p in t.paths]}
                | ({"note": t.note} if t.note else {})
                for t in self.tables
            ],
        }


@dataclass(frozen=True)
class ExportProgress:
    table: str
    done: int  # tables finished, this one included
    total: int
    rows: int


ProgressFn = Callable[[ExportProgress], None]


@dataclass(frozen=True)
class Options:
    fmt: str
    since: dt.date | None = None
    until: dt.date | None = None
    partition_by: str | None = None
    per_day: bool = False
    resample: str | None = None
    sheet_rows: int = EXCEL_MAX_ROWS

    def check(self) -> None:
        if self.fmt not in FORMATS:
            raise ConfigError(f"unknown format {self.fmt!r}; choose from {', '.join(FORMATS)}")
        if self.partition_by is not None and self.partition_by not in PARTITIONS:
            raise ConfigError(
                f"--partition-by must be 'year' or 'month', not {self.partition_by!r}"
            )
        if self.partition_by and self.fmt != "parquet":
            raise ConfigError("--partition-by needs --format parquet")
        if self.per_day and (self.fmt == "xlsx" or self.partition_by):
            raise ConfigError("--per-day writes one file a day: use csv, json, jsonl or parquet")
        if self.since and self.until and self.since > self.until:
            raise ConfigError(f"the range is reversed: since {self.since} is after {self.until}")
        if self.resample is not None:
            bucket_us(self.resample)


# --- SQL ----------------------------------------------------------------------------------


def bucket_us(freq: str) -> int:
    """``"1min"``, ``"30s"``, ``"5min"``, ``"h"`` → microseconds."""
    match = re.fullmatch(r"\s*(\d*)\s*(s|min|h)\s*", freq)
    if not match or match.group(1) == "0":
        raise ConfigError(f"resample {freq!r}: use seconds, minutes or hours like '1min', '30s'")
    count = int(match.group(1) or 1)
    return count * {"s": 1, "min": 60, "h": 3600}[match.group(2)] * 1_000_000


def day_expr(table: Table) -> str:
    """The SQL for a row's local civil date (``t`` is the table's alias)."""
    names = table.column_names
    if "local_date" in names:
        return 't."local_date"'
    if "date" in names:
        return 't."date"'
    assert table.parent is not None
    assert table.parent_key is not None
    parent = catalog.TABLES[table.parent]
    return (
        f'(SELECT max(p."local_date") FROM {parent.name} p '
        f'WHERE p."{parent.key[0]}" = t."{table.parent_key}")'
    )


def _where(table: Table, opts: Options) -> str:
    day = day_expr(table)
    clauses = []
    if opts.since is not None:
        clauses.append(f"{day} >= DATE '{opts.since.isoformat()}'")
    if opts.until is not None:
        clauses.append(f"{day} <= DATE '{opts.until.isoformat()}'")
    return (" WHERE " + " AND ".join(clauses)) if clauses else ""


def _order(table: Table) -> str:
    keys = [table.range_column, *(k for k in table.key if k != table.range_column)]
    return ", ".join(f'"{k}"' for k in keys)


def _resampled(table: Table, opts: Options) -> tuple[Table, str] | None:
    """A sample table averaged per bucket: (its shape, the FROM clause), or None."""
    if opts.resample is None or "time" not in table.column_names or table.parent is not None:
        return None
    step = bucket_us(opts.resample)
    groups = ("device", "platform", "source")
    exprs, columns = [], []
    for col in table.columns:
        name = f'"{col.name}"'
        if col.name == "time":
            exprs.append(f"make_timestamptz(epoch_us(time) // {step} * {step}) AS time")
        elif col.name in groups:
            exprs.append(name)
        elif col.sql in _NUMERIC and col.name not in _OFFSETS and col.sql != "BOOLEAN":
            exprs.append(f"avg({name}) AS {name}")
            col = dataclasses.replace(col, sql="DOUBLE", doc=f"mean per {opts.resample}")
        else:
            exprs.append(f"min({name}) AS {name}")
        columns.append(col)
    exprs.append("count(*)::INTEGER AS samples")
    columns.append(Column("samples", "INTEGER", doc=f"readings in the {opts.resample}"))
    group_by = ", ".join(["1", *(f'"{g}"' for g in groups if g in table.column_names)])
    body = (
        f"(SELECT {', '.join(exprs)} FROM {table.name} t{_where(table, opts)} GROUP BY {group_by})"
    )
    return dataclasses.replace(table, columns=tuple(columns)), body


def table_sql(table: Table, opts: Options, *, aware: bool, extra: str = "") -> str:
    """The SELECT one table's export runs: stable columns, ordered by the range column."""
    resampled = _resampled(table, opts)
    if resampled is not None:
        shape, source = resampled
        where = ""
    else:
        shape, source, where = table, f"{table.name}", _where(table, opts)
    cols = views.out_columns(shape, aware=aware)
    select = ", ".join(f'{c.expr} AS "{c.name}"' for c in cols)
    if not aware:  # Excel: lists as text (cut to what a cell holds)
        select = ", ".join(
            f'left(CAST({c.expr} AS VARCHAR), {_EXCEL_CELL}) AS "{c.name}"'
            if c.sql.endswith("[]")
            else f'{c.expr} AS "{c.name}"'
            for c in cols
        )
    return f"SELECT {select}{extra} FROM {source} t{where} ORDER BY {_order(shape)}"


def tidy_sql(tables: Sequence[Table], opts: Options, *, aware: bool) -> str:
    """Long format across types: one row per (reading, numeric field)."""
    parts = []
    for table in tables:
        names = table.column_names
        instant = next((n for n in ("time", "start_time") if n in names), None)
        offset = views.offset_column(table, instant) if instant else None
        if instant is None:
            time, local = "NULL::TIMESTAMPTZ", "NULL::TIMESTAMP"
        else:
            time = f't."{instant}"'
            local = f'make_timestamp(epoch_us(t."{instant}") + t."{offset}" * 1000000::BIGINT)'
        if not aware:
            time = f"make_timestamp(epoch_us({time}))"
        fields = [
            c
            for c in table.columns
            if c.sql in _NUMERIC and c.name not in _OFFSETS and c.name not in table.key
        ]
        for col in fields:
            parts.append(
                f"SELECT {time} AS time, {local} AS local_time, {day_expr(table)} AS date, "
                f"'{table.name}' AS type, '{col.name}' AS field, "
                f"CAST(t.\"{col.name}\" AS DOUBLE) AS value, '{col.unit}' AS unit, "
                f't."source" AS source FROM {table.name} t{_where(table, opts)}'
            )
    if not parts:
        parts.append(
            "SELECT NULL::TIMESTAMPTZ AS time, NULL::TIMESTAMP AS local_time, NULL::DATE AS date, "
            "'' AS type, '' AS field, NULL::DOUBLE AS value, '' AS unit, '' AS source WHERE false"
        )
    return " UNION ALL ".join(parts) + " ORDER BY date, time, type, field"


# --- files --------------------------------------------------------------------------------


def _tmp(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield ``<path>.tmp`` to write; rename it over ``path`` only if the block succeeds."""
    tmp = _tmp(path)
    _remove(tmp)
    try:
        yield tmp
        if tmp.is_dir() and path.exists():  # a folder cannot be renamed over a folder
            old = path.with_name(path.name + ".old")
            _remove(old)
            os.replace(path, old)
            os.replace(tmp, path)
            _remove(old)
        else:
            os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _copy_options(opts: Options) -> str:
    if opts.fmt == "csv":
        return "FORMAT csv, HEADER true"
    if opts.fmt == "json":
        return "FORMAT json, ARRAY true"
    if opts.fmt == "jsonl":
        return "FORMAT json"
    return f"FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS}"


def _count(store: Store, sql: str) -> int:
    rows = store.con.execute(f"SELECT count(*) FROM ({sql})").fetchall()
    return int(rows[0][0])


def _copy_file(store: Store, sql: str, path: Path, opts: Options) -> None:
    with atomic_path(path) as tmp:
        store.con.execute(f"COPY ({sql}) TO '{_quote(tmp)}' ({_copy_options(opts)})")


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def _copy_partitioned(store: Store, table: Table, opts: Options, path: Path) -> list[Path]:
    """Hive-partitioned Parquet: ``<table>/year=2026/month=11/data_0.parquet``."""
    day = day_expr(table)
    parts = ["year", "month"] if opts.partition_by == "month" else ["year"]
    extra = "".join(f", {p}({day}) AS {p}" for p in parts)
    sql = table_sql(table, opts, aware=True, extra=extra)
    with atomic_path(path) as tmp:
        tmp.mkdir(parents=True)
        store.con.execute(
            f"COPY ({sql}) TO '{_quote(tmp)}' ({_copy_options(opts)}, "
            f"PARTITION_BY ({', '.join(parts)}), OVERWRITE_OR_IGNORE true)"
        )
    return sorted(path.rglob("*.parquet"))


def _copy_per_day(store: Store, table: Table, opts: Options, out: Path) -> list[Path]:
    """The tutorials' layout: ``YYYY-MM-DD_<table>.<ext>``, one file per local day."""
    sql = table_sql(table, opts, aware=True, extra=f", {day_expr(table)} AS _day")
    staging = out / f".{table.name}.per-day.tmp"
    _remove(staging)
    staging.mkdir(parents=True)
    try:
        store.con.execute(
            f"COPY ({sql}) TO '{_quote(staging)}' ({_copy_options(opts)}, PARTITION_BY (_day), "
            "OVERWRITE_OR_IGNORE true)"
        )
        paths = []
        for folder in sorted(staging.glob("_day=*")):
            day = folder.name.removeprefix("_day=")
            if day in ("NULL", ""):  # orphan child rows have no day
                day = "undated"
            for n, part in enumerate(sorted(folder.iterdir())):
                suffix = f"-{n}" if n else ""
                final = out / f"{day}_{table.name}{suffix}.{opts.fmt}"
                os.replace(part, final)
                paths.append(final)
        return paths
    finally:
        _remove(staging)


# --- Excel --------------------------------------------------------------------------------


def _sheet_title(base: str, n: int, taken: set[str]) -> str:
    suffix = f" ({n})" if n > 1 else ""
    title = base[: 31 - len(suffix)] + suffix
    k = 2
    while title in taken:  # two long names cut to the same 31 characters
        title = f"{base[: 31 - len(suffix) - 3]}~{k}{suffix}"
        k += 1
    taken.add(title)
    return title


def _write_sheets(
    store: Store, workbook: Any, base: str, sql: str, opts: Options, taken: set[str]
) -> tuple[int, int]:
    """Stream one query into as many sheets as its rows need: (rows, sheets)."""
    reader = store.con.sql(sql).to_arrow_reader(BATCH_ROWS)
    try:
        header = list(reader.schema.names)
        sheets, rows, in_sheet = 1, 0, 0
        sheet = workbook.create_sheet(_sheet_title(base, 1, taken))
        sheet.append(header)
        for batch in reader:
            columns = [col.to_pylist() for col in batch.columns]
            for row in zip(*columns, strict=True):
                if in_sheet == opts.sheet_rows - 1:
                    sheets += 1
                    sheet = workbook.create_sheet(_sheet_title(base, sheets, taken))
                    sheet.append(header)
                    in_sheet = 0
                sheet.append(row)
                in_sheet += 1
                rows += 1
        return rows, sheets
    finally:
        reader.close()


def _excel_note(table: Table, rows: int, sheets: int, opts: Options) -> str:
    notes = []
    if _resampled(table, opts) is not None:
        notes.append(f"averaged per {opts.resample} (a row per device and {opts.resample})")
    if sheets > 1:
        notes.append(f"{rows:,} rows exceed one Excel sheet: split across {sheets} sheets")
    return "; ".join(notes)


def _openpyxl() -> Any:
    try:
        import openpyxl
    except ImportError as exc:  # an optional extra
        raise ConfigError(
            "Excel export needs openpyxl: pip install 'fitvault[export]' (or pip install openpyxl)"
        ) from exc
    return openpyxl


# --- the entry point ----------------------------------------------------------------------


def tables_of(types: Sequence[DataType]) -> list[Table]:
    return [table for dtype in types for table in dtype.tables]


def export(
    store: Store,
    out: Path,
    types: Sequence[DataType] | None = None,
    *,
    fmt: str = "csv",
    since: dt.date | None = None,
    until: dt.date | None = None,
    tidy: bool = False,
    per_day: bool = False,
    partition_by: str | None = None,
    resample: str | None = None,
    sheet_rows: int = EXCEL_MAX_ROWS,
    progress: ProgressFn | None = None,
) -> ExportSummary:
    """Write the tables of ``types`` (default: every stored type) to ``out``; see the module
    docstring. ``since``/``until`` are local dates, both inclusive."""
    opts = Options(fmt, since, until, partition_by, per_day, resample, sheet_rows)
    opts.check()
    _tune(store)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = tables_of(types or catalog.VAULT_TYPES)
    summary = ExportSummary(fmt, out)
    if tidy:
        main = [t for t in tables if t.parent is None]
        summary.tables.append(_export_tidy(store, main, opts, out))
        _report(progress, summary, 1)
        return summary
    if fmt == "xlsx":
        return _export_excel(store, tables, opts, out / "fitvault.xlsx", summary, progress)
    for table in tables:
        summary.tables.append(_export_table(store, table, opts, out))
        _report(progress, summary, len(tables))
    return summary


def _tune(store: Store) -> None:
    """Bounded memory, spill files in the private vault folder, no progress bar on stdout."""
    spill = store.path.parent / ".export-spill"
    sqlshell.no_progress_bar(store.con)
    store.con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    store.con.execute(f"SET temp_directory = '{_quote(spill)}'")


def _report(progress: ProgressFn | None, summary: ExportSummary, total: int) -> None:
    if progress is not None:
        last = summary.tables[-1]
        progress(ExportProgress(last.table, len(summary.tables), total, last.rows))


def _export_table(store: Store, table: Table, opts: Options, out: Path) -> TableExport:
    sql = table_sql(table, opts, aware=True)
    rows = _count(store, sql)
    note = "averaged per " + opts.resample if opts.resample and _resampled(table, opts) else ""
    if opts.partition_by:
        paths = _copy_partitioned(store, table, opts, out / table.name)
    elif opts.per_day:
        paths = _copy_per_day(store, table, opts, out)
    else:
        path = out / f"{table.name}.{opts.fmt}"
        _copy_file(store, sql, path, opts)
        paths = [path]
    return TableExport(table.name, rows, tuple(paths), note)


def _export_tidy(store: Store, tables: Sequence[Table], opts: Options, out: Path) -> TableExport:
    path = out / f"{TIDY_NAME}.{opts.fmt}"
    if opts.fmt == "xlsx":
        workbook = _openpyxl().Workbook(write_only=True)
        rows, sheets = _write_sheets(
            store, workbook, TIDY_NAME, tidy_sql(tables, opts, aware=False), opts, set()
        )
        with atomic_path(path) as tmp:
            workbook.save(tmp)
        note = f"split across {sheets} sheets" if sheets > 1 else ""
        return TableExport(TIDY_NAME, rows, (path,), note)
    sql = tidy_sql(tables, opts, aware=True)
    rows = _count(store, sql)
    _copy_file(store, sql, path, opts)
    return TableExport(TIDY_NAME, rows, (path,))


def _export_excel(
    store: Store,
    tables: Sequence[Table],
    opts: Options,
    path: Path,
    summary: ExportSummary,
    progress: ProgressFn | None,
) -> ExportSummary:
    """One workbook, a sheet per table (more for a table beyond Excel's row limit)."""
    workbook = _openpyxl().Workbook(write_only=True)
    taken: set[str] = set()
    for table in tables:
        sql = table_sql(table, opts, aware=False)
        rows, sheets = _write_sheets(store, workbook, table.name, sql, opts, taken)
        note = _excel_note(table, rows, sheets, opts)
        summary.tables.append(TableExport(table.name, rows, (path,), note))
        _report(progress, summary, len(tables))
    with atomic_path(path) as tmp:
        workbook.save(tmp)
    return summary


def describe(summary: ExportSummary) -> str:
    """A plain-text account of an export, for the command line."""
    lines = []
    for t in summary.tables:
        where = t.paths[0].name if len(t.paths) == 1 else f"{len(t.paths)} files"
        note = f"  ({t.note})" if t.note else ""
        lines.append(f"{t.table:<36} {t.rows:>12,} rows  {where}{note}")
    lines.append(f"{summary.rows:,} rows written to {summary.out} as {summary.format}")
    return "\n".join(lines)


def run_cli(
    directory: Path | None,
    *,
    fmt: str,
    out: Path,
    types: Sequence[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    tidy: bool = False,
    per_day: bool = False,
    partition_by: str | None = None,
    resample: str | None = None,
    progress: ProgressFn | None = None,
) -> str:
    """The body of ``fitvault export``: export, then the text to print."""
    from fitvault.vault import Vault

    summary = Vault(directory).export(
        out,
        fmt=fmt,
        types=types,
        since=since,
        until=until,
        tidy=tidy,
        per_day=per_day,
        partition_by=partition_by,
        resample=resample,
        progress=progress,
    )
    return describe(summary)


__all__ = [
    "EXCEL_MAX_ROWS",
    "FORMATS",
    "ExportProgress",
    "ExportSummary",
    "TableExport",
    "describe",
    "export",
    "run_cli",
]

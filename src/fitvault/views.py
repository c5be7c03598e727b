"""A vault any analyst can open: per-table ``<table>_local`` views, the storage version, the
schema document.

Each stored instant is a ``TIMESTAMPTZ`` in UTC plus the UTC offset the source gave for it. The
views (and the exports, which share these column lists) add, next to every instant ``x``, a
``local_x`` wall-clock ``TIMESTAMP``: the instant plus its own row's offset, so a reading taken
in Tokyo shows Tokyo time and the hour that repeats when clocks fall back appears twice, as the
watch showed it. In the views the instants themselves are plain ``TIMESTAMP`` values in UTC, so
any DuckDB client (the 1.x command line, DBeaver, Python's ``fetchall()`` without pytz) reads
them; the arithmetic uses ``epoch_us``/``make_timestamp`` and not a cast, which would depend on
the session's ``TimeZone`` setting.

``STORAGE_VERSION`` pins the on-disk format: DuckDB 2.x writes a format DuckDB 1.x cannot read
unless told otherwise, and the ``v1.0.0`` format (readable by every 1.x release) costs nothing
measurable for a vault's tables (same file size on a 60-day heart-rate vault).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fitvault import catalog
from fitvault.catalog import Column, Table

STORAGE_VERSION = "v1.0.0"
VIEW_SUFFIX = "_local"
# Instants that point at another row or record bookkeeping: no wall-clock twin.
_REFERENCE_INSTANTS = frozenset({"session_start", "updated_at"})
_US = "1000000::BIGINT"
# What the time columns mean (the catalog documents the payload fields).
TIME_DOCS = {
    "time": "when the reading was taken",
    "start_time": "start of the interval or session",
    "end_time": "end of the interval or session (exclusive)",
    "utc_offset_s": "the device's UTC offset at the start, in seconds east of UTC",
    "start_utc_offset_s": "the device's UTC offset at start_time",
    "end_utc_offset_s": "the device's UTC offset at end_time",
    "local_start_time": "start_time on the device's wall clock",
    "local_date": "the person's local (civil) date of the row",
    "date": "the person's local (civil) date the value is for",
    "session_start": "start_time of the session the row belongs to",
    "updated_at": "when the source last changed the record",
}


def doc_of(col: Column) -> str:
    return col.doc or TIME_DOCS.get(col.name, "")


@dataclass(frozen=True)
class OutColumn:
    """One column of a view or an export: its name, SQL expression, type, unit and meaning."""

    name: str
    expr: str
    sql: str
    unit: str = ""
    doc: str = ""
    instant: bool = False  # a UTC instant (TIMESTAMPTZ in the vault)


def offset_column(table: Table, instant: str) -> str | None:
    """The column holding the UTC offset that applies to ``instant`` in this table."""
    names = set(table.column_names)
    if instant in _REFERENCE_INSTANTS:
        return None
    for prefix in ("start", "end"):
        own = f"{prefix}_utc_offset_s"
        if instant.startswith(prefix) and own in names:
            return own
    if "start_utc_offset_s" in names:
        return "start_utc_offset_s"
    return "utc_offset_s" if "utc_offset_s" in names else None


def out_columns(table: Table, *, aware: bool) -> list[OutColumn]:
    """The table's columns with a ``local_<instant>`` wall-clock column after each instant.

    ``aware``: instants stay ``TIMESTAMPTZ`` (Parquet, CSV, JSON carry the zone); otherwise
    they become plain ``TIMESTAMP`` in UTC (views, Excel).
    """
    names = set(table.column_names)
    out: list[OutColumn] = []
    for col in table.columns:
        quoted = f'"{col.name}"'
        if col.sql != "TIMESTAMPTZ":
            out.append(OutColumn(col.name, quoted, col.sql, col.unit, doc_of(col)))
            continue
        expr = quoted if aware else f"make_timestamp(epoch_us({quoted}))"
        sql = "TIMESTAMPTZ" if aware else "TIMESTAMP"
        doc = doc_of(col) or "an instant"
        out.append(OutColumn(col.name, expr, sql, col.unit, f"{doc} (UTC)", instant=True))
        offset = offset_column(table, col.name)
        local = f"local_{col.name}"
        if offset is not None and local not in names:
            out.append(
                OutColumn(
                    local,
                    f'make_timestamp(epoch_us({quoted}) + "{offset}" * {_US})',
                    "TIMESTAMP",
                    doc=f"{col.name} on the device's wall clock ({col.name} + {offset})",
                )
            )
    return out


def select_list(table: Table, *, aware: bool) -> str:
    return ", ".join(f'{c.expr} AS "{c.name}"' for c in out_columns(table, aware=aware))


def view_name(table: Table) -> str:
    return table.name + VIEW_SUFFIX


def view_sql(table: Table, *, temporary: bool = False) -> str:
    kind = "TEMP VIEW" if temporary else "VIEW"
    return (
        f"CREATE OR REPLACE {kind} {view_name(table)} AS "
        f"SELECT {select_list(table, aware=False)} FROM {table.name}"
    )


def create_views(con: Any, *, temporary: bool = False) -> None:
    """Create every table's ``_local`` view on a DuckDB connection, after migrations.

    Only views that are missing or whose columns changed are (re)created: a vault is opened
    for every sync and each DDL statement lands in the write-ahead log that every reader
    replays on open, so rewriting 40-odd unchanged views each time would slow both down.
    """
    have: dict[str, list[str]] = {
        name: list(cols)
        for name, cols in con.execute(
            "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns() "
            "WHERE table_name IN (SELECT view_name FROM duckdb_views() WHERE NOT internal) "
            "GROUP BY table_name"
        ).fetchall()
    }
    for table in catalog.TABLES.values():
        want = [c.name for c in out_columns(table, aware=False)]
        if temporary or have.get(view_name(table)) != want:
            con.execute(view_sql(table, temporary=temporary))


# --- the schema document ---------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def schema_markdown() -> str:
    """``docs/schema.md``: every table and view, column, type, unit and meaning."""
    lines = [
        "# The vault's tables",
        "",
        "Generated from the catalog by `fitvault.views.schema_markdown()`; do not edit by hand",
        "(`python -m fitvault.views docs/schema.md` rewrites it).",
        "",
        "The vault is one DuckDB file, `vault.duckdb`, written in DuckDB's",
        f"`{STORAGE_VERSION}` storage format so that DuckDB 1.x and 2.x both open it. Instants",
        "are `TIMESTAMPTZ` in UTC with the UTC offset the source gave; `local_date` is the",
        "person's civil date. Every table has a view `<table>_local` with the same columns,",
        "the instants as plain `TIMESTAMP` in UTC and a `local_<instant>` wall-clock column",
        "beside each one. `source` says where fitvault got the row.",
        "",
    ]
    for dtype in (*catalog.STORED_TYPES, *catalog.LEGACY_TYPES):
        for table in dtype.tables:
            lines += _table_section(dtype.name, table)
    return "\n".join(lines).rstrip() + "\n"


def _table_section(type_name: str, table: Table) -> list[str]:
    key = ", ".join(f"`{k}`" for k in table.key)
    head = [f"## `{table.name}`", "", f"Data type `{type_name}`; one row per {key}."]
    if table.parent:
        head.append(f"Rows belong to a `{table.parent}` row (`{table.parent_key}`).")
    head += ["", "| column | type | unit | meaning |", "| --- | --- | --- | --- |"]
    body = []
    for col in table.columns:
        unit = col.unit or ("s" if col.name.endswith("offset_s") else "")
        body.append(f"| `{col.name}` | {col.sql} | {_cell(unit)} | {_cell(doc_of(col))} |")
    extra = [c for c in out_columns(table, aware=True) if c.name not in table.column_names]
    if extra:
        names = ", ".join(f"`{c.name}`" for c in extra)
        body += ["", f"View `{view_name(table)}` adds {names}."]
    return [*head, *body, ""]


def write_schema_doc(path: Path) -> None:
    Path(path).write_text(schema_markdown(), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    """``python -m fitvault.views [docs/schema.md]``: rewrite the schema document."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    write_schema_doc(Path(args[0] if args else "docs/schema.md"))


if __name__ == "__main__":  # pragma: no cover
    main()

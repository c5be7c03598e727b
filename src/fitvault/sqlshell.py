"""Read-only SQL over a vault: ``vault.sql("SELECT …")`` and ``fitvault sql``.

Three locks keep a query from changing anything: the file is opened read-only, only SELECT-like
statements are accepted (``COPY … TO``, ``ATTACH``, ``INSTALL`` would work on a read-only file
too), and external access is switched off for the connection, so a query cannot read or write
other files either. Vaults written before the ``<table>_local`` views existed get them as
temporary views.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from fitvault import catalog, views
from fitvault._errors import ConfigError, VaultError
from fitvault.store import Store

if TYPE_CHECKING:  # pandas is loaded by the first query, not by importing this module
    import pandas as pd

OUTPUT_FORMATS = ("table", "csv", "json")
_READING = {"SELECT", "EXPLAIN", "PRAGMA"}


def check_read_only(query: str) -> None:
    """Refuse anything but reading statements, naming the offending one."""
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise ConfigError(f"not valid SQL: {exc}") from exc
    if not statements:
        raise ConfigError("no SQL statement given")
    for stmt in statements:
        kind = stmt.type.name
        if kind not in _READING:
            raise ConfigError(
                f"the vault is read-only here: {kind} statements are refused "
                f"({stmt.query.strip()[:60]!r}); use SELECT"
            )


def no_progress_bar(con: Any) -> None:
    """Keep DuckDB's progress bar for long queries off stdout (the CLI's output). In Jupyter
    without ipywidgets DuckDB refuses to change the setting; it prints nothing there anyway."""
    with contextlib.suppress(duckdb.InvalidInputException):
        con.execute("SET enable_progress_bar = false")


def _missing_views(store: Store) -> list[str]:
    have = {r[0] for r in store.con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
    return [t.name for t in catalog.TABLES.values() if views.view_name(t) not in have]


def query(directory: Path, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    """Run a read-only query on the vault in ``directory``; the answer as a DataFrame."""
    from fitvault.frames import to_pandas

    check_read_only(sql)
    with Store(directory, read_only=True) as store:
        con = store.con
        missing = set(_missing_views(store))
        for table in catalog.TABLES.values():
            if table.name in missing and _table_exists(store, table.name):
                con.execute(views.view_sql(table, temporary=True))
        no_progress_bar(con)
        con.execute("SET enable_external_access = false")
        try:
            arrow = con.sql(sql, params=list(params) or None).to_arrow_table()
        except duckdb.Error as exc:
            raise VaultError(f"the query failed: {exc}") from exc
    return to_pandas(arrow)  # dates as dates, like every frame


def _table_exists(store: Store, name: str) -> bool:
    rows = store.con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]
    ).fetchall()
    return bool(rows[0][0])


def render(df: pd.DataFrame, fmt: str = "table") -> str:
    """A query's answer as an aligned text table, CSV or JSON records."""
    if fmt not in OUTPUT_FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; choose from {', '.join(OUTPUT_FORMATS)}")
    if fmt == "csv":
        buf = io.StringIO()
        df.to_csv(buf, index=False)
        return buf.getvalue().rstrip("\n")
    if fmt == "json":
        records = json.loads(df.to_json(orient="records", date_format="iso"))
        return json.dumps(records, indent=2)
    if df.empty:
        return "(no rows)" if len(df.columns) else "(nothing)"
    return df.to_string(index=False, max_rows=200)


def run_cli(directory: Path | None, sql: str, fmt: str = "table") -> str:
    """The body of ``fitvault sql``: the text to print."""
    from fitvault.vault import Vault

    return render(Vault(directory).sql(sql), fmt)

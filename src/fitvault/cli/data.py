"""Commands over the vault's contents: types, rebuild, import, status, export, sql."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    DownloadColumn,
    Progress,
    TransferSpeedColumn,
)
from rich.table import Table

from fitvault._errors import PartialImport
from fitvault.cli._app import (
    TypesOpt,
    VaultOpt,
    _types,
    app,
    err,
    out,
)
from fitvault.cli._bars import (
    _lean_arrow,
)
from fitvault.vault import Vault


@app.command()
def types() -> None:
    """List every data type: its kind, how it is fetched, and its columns with units."""
    from fitvault import catalog

    table = Table(show_edge=False)
    table.add_column("data type", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("columns (unit)")
    for t in catalog.DATA_TYPES.values():
        if not t.readable:
            table.add_row(t.name, t.kind.value, "write-only: the API never returns it")
        elif not t.stored:
            table.add_row(t.name, t.kind.value, "reference data (the food catalog): not synced")
        else:
            fields = ", ".join(f"{f.column} ({f.unit})" if f.unit else f.column for f in t.fields)
            how = " [daily roll-up]" if t.rollup_only else ""
            table.add_row(t.name, t.record_kind.value + how, fields or "time span only")
    out.print(table)


@app.command()
def rebuild(vault: VaultOpt = None) -> None:
    """Rebuild every table from the raw pages kept in the vault (no network)."""
    v = Vault(vault)
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("rebuilding", total=None)
        rows = v.rebuild(progress=lambda n, total: bar.update(task, completed=n, total=total))
    for name, count in rows.items():
        out.print(f"{name:<22} {count:>12,}")


@app.command(name="import")
def import_(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Takeout .zip files (all parts), an extracted folder, or saved legacy API "
            "responses (.json / .csv / .xlsx files or folders)."
        ),
    ],
    vault: VaultOpt = None,
    tz: Annotated[
        str | None,
        typer.Option("--tz", help="IANA zone for the export's local times (default: Profile.csv)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be imported; write nothing.")
    ] = False,
) -> None:
    """Import a Google Takeout / Fitbit data export (zip read in place, or a folder), or
    responses saved from the legacy Fitbit Web API."""
    v = Vault(vault)
    _lean_arrow()  # -10 % peak RSS on a 120-day import (364 → 325 MB)
    # By bytes across all parts (uncompressed): a day of heart rate is ~1.7 MB, a README 1 kB.
    columns = (*Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("importing", total=None)
        summary = v.import_archive(
            paths,
            zone=tz,
            dry_run=dry_run,
            progress=lambda n, total, _: bar.update(task, completed=n, total=total),
            waiting=lambda holder: err.print(
                f"{holder} is writing to the vault; the import starts when it has finished "
                "(Ctrl-C stops waiting)",
                markup=False,
                highlight=False,
            ),
        )
    for line in summary.lines():
        out.print(line, highlight=False)
    if summary.errors and not dry_run:
        raise PartialImport(
            f"{len(summary.errors)} file(s) could not be read (listed above as failed); "
            "everything else is imported. Replace or remove them and run `fitvault import` "
            "again: files already imported are not imported twice."
        )


@app.command()
def status(
    vault: VaultOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
) -> None:
    """What the vault holds, how the last sync went, and whether the sign-in still works."""
    from fitvault import status as status_

    out.print(status_.run_cli(vault, as_json_output=as_json), highlight=False, markup=False)


@app.command()
def export(
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="csv, xlsx, parquet, json or jsonl.")
    ] = "csv",
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the files.")] = Path(
        "fitvault-export"
    ),
    types: TypesOpt = None,
    since: Annotated[str | None, typer.Option(help="First local day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Last local day (YYYY-MM-DD).")] = None,
    tidy: Annotated[
        bool, typer.Option("--tidy", help="One long table: time, type, field, value.")
    ] = False,
    per_day: Annotated[
        bool, typer.Option("--per-day", help="One file per day: YYYY-MM-DD_<table>.<ext>.")
    ] = False,
    partition_by: Annotated[
        str | None,
        typer.Option("--partition-by", help="Parquet only: year or month (Hive folders)."),
    ] = None,
    resample: Annotated[
        str | None,
        typer.Option(help="Average sample types (heart rate, …) per interval, e.g. 1min."),
    ] = None,
    vault: VaultOpt = None,
) -> None:
    """Write one file per table (UTC and local times, a source column) to --out."""
    from fitvault import export as export_

    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("exporting", total=None)

        def advance(p: export_.ExportProgress) -> None:
            bar.update(task, completed=p.done, total=p.total, description=p.table)

        text = export_.run_cli(
            vault,
            fmt=fmt,
            out=out_dir,
            types=_types(types),
            since=since,
            until=until,
            tidy=tidy,
            per_day=per_day,
            partition_by=partition_by,
            resample=resample,
            progress=advance,
        )
    out.print(text, highlight=False, markup=False)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help='A SELECT statement, e.g. "SELECT …".')],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
    vault: VaultOpt = None,
) -> None:
    """Run a read-only SQL query on the vault (views <table>_local show local times)."""
    from fitvault import sqlshell

    out.print(sqlshell.run_cli(vault, query, fmt), highlight=False, markup=False)

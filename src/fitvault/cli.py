"""The ``fitvault`` command: parses options, calls the Python API, shows progress, maps errors
to exit codes. Nothing below this module imports Typer or rich."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import stamina
import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text
from typer._click.exceptions import NoArgsIsHelpError

from fitvault import __version__
from fitvault._errors import ConfigError, FitvaultError, PartialSync
from fitvault.http import RetryNotices
from fitvault.sync import QUOTA_PER_MINUTE, SyncProgress, SyncReport, TypePlan, quota_seconds
from fitvault.vault import ENV_HOME, Vault

if TYPE_CHECKING:
    from fitvault.simulator.faults import FaultSpec

app = typer.Typer(
    help="Get all of your Fitbit / Google Health data into a local DuckDB vault.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
# soft_wrap: paths and numbers stay on one line when piped; markup off: a path or message with
# "[...]" in it is printed as it is (styles come from rich.text.Text where wanted).
out = Console(soft_wrap=True, markup=False)
err = Console(stderr=True, soft_wrap=True, markup=False)
# Listed here so `--help` does not import matplotlib; a test keeps it equal to plots.PLOTS.
PLOT_NAMES = ("hr-day", "hr-by-hour", "rhr", "sleep-hist", "sleep-scatter", "sleep-stages")
# Which figures read --date / --days; any other figure refuses them rather than ignore them.
PLOT_OPTIONS = {"hr-day": {"--date"}, "hr-by-hour": {"--date", "--days"}}
SIGN_IN_TIMEOUT = 300.0
KEPT = "interrupted; everything saved so far is kept — run the command again to continue"

VaultOpt = Annotated[
    Path | None,
    typer.Option(
        "--vault",
        envvar=ENV_HOME,
        help="Vault directory (default: $FITVAULT_HOME, else the user data dir).",
        show_default=False,
    ),
]
TypesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--types",
        "-t",
        help="Data types, repeatable or comma-separated (default: all of them; "
        "`fitvault types` lists them with what each holds).",
        show_default=False,
    ),
]
SourceOpt = Annotated[
    str,
    typer.Option(
        "--source",
        help="Which API: google-health (the Google Health API) or fitbit-legacy (the legacy "
        "Fitbit Web API, switched off on 2026-11-02, or a server that mirrors it; its --types "
        "are series such as heart-rate-intraday, sleep, hrv, activity-steps).",
    ),
]
PortOpt = Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0 = any free).")]


class Interrupted(Exception):
    """Ctrl-C (or SIGTERM) during a command, with what to tell the user about it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@contextlib.contextmanager
def _when_interrupted(message: str) -> Iterator[None]:
    """Say ``message`` (not the generic "progress is kept") if the block is interrupted."""
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted(message) from None


def _error(message: str) -> None:
    """``error: message``, the message printed literally (a ``[filter: …]`` is not markup)."""
    err.print(Text.assemble(("error:", "red"), " ", message), highlight=False)


def _note(message: str, style: str = "yellow") -> None:
    err.print(Text(message, style=style), highlight=False)


class _Notices:
    """Where retry notices go: the running progress display, else a plain line on stderr."""

    def __init__(self) -> None:
        self.sink: Callable[[str], None] | None = None

    def __call__(self, line: str) -> None:
        (self.sink or _note)(line)


NOTICES = _Notices()


def _print_version(value: bool) -> None:
    if value:
        out.print(f"fitvault {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Get all of your Fitbit / Google Health data into a local DuckDB vault."""


def _types(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


class SyncBars:
    """Rich progress bars fed by the library's progress callback, and the retry notices."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.fields[name]:<26}", markup=False),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            TextColumn("{task.fields[points]:>10,} points  {task.fields[requests]:>5} requests"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[note]}", markup=False, style="yellow"),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self._current: TaskID | None = None

    def __enter__(self) -> SyncBars:
        self.progress.start()
        NOTICES.sink = self.notice
        return self

    def __exit__(self, *exc: object) -> None:
        NOTICES.sink = None
        self.progress.stop()

    def __call__(self, p: SyncProgress) -> None:
        task = self.tasks.get(p.data_type)
        if task is None:
            task = self.tasks[p.data_type] = self.progress.add_task(
                "", total=1.0, name=p.data_type, points=0, requests=0, note=""
            )
        self._current = task
        note = f"waiting {p.waiting_s:.0f} s for the per-minute quota" if p.waiting_s else ""
        self.progress.update(
            task, completed=p.done, points=p.points, requests=p.requests, note=note
        )

    def notice(self, line: str) -> None:
        """Show ``line`` (e.g. a scheduled retry) beside the type being fetched."""
        if self._current is None:
            self.progress.console.print(Text(line, style="yellow"), highlight=False)
        else:
            self.progress.update(self._current, note=line)


def _sync_summary(report: SyncReport) -> Table:
    """Per type what this sync did: points received and rows the vault gained."""
    table = Table(title="This sync", show_edge=False)
    table.add_column("data type")
    table.add_column("pages", justify="right")
    table.add_column("points received", justify="right")
    table.add_column("rows added", justify="right")
    for name in sorted(set(report.points) | set(report.added)):
        if name in report.skipped:
            continue
        table.add_row(
            name,
            f"{report.pages.get(name, 0):,}",
            f"{report.points.get(name, 0):,}",
            f"{report.added.get(name, 0):+,}",
        )
    return table


def _plan_table(plans: list[TypePlan]) -> Table:
    table = Table(title="What a sync would fetch (no data requested)", show_edge=False)
    for col, justify in (
        ("data type", "left"),
        ("operation", "left"),
        ("windows", "right"),
        ("days", "right"),
        ("≈ requests", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for p in plans:
        if not p.granted:
            table.add_row(p.data_type, "not granted", "", "", "")
            continue
        table.add_row(
            p.data_type, p.operation, str(len(p.windows)), f"{p.days:,.1f}", f"{p.requests:,}"
        )
    return table


def _scope_name(scope: str) -> str:
    return scope.rsplit(".", 2)[-2]


@app.command()
def auth(
    server: Annotated[
        str | None,
        typer.Option(help="Any server speaking the API, e.g. a `fitvault simulate` URL."),
    ] = None,
    client_secrets: Annotated[
        Path | None,
        typer.Option(
            help="Google Cloud 'Desktop app' OAuth client JSON.", exists=True, dir_okay=False
        ),
    ] = None,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the sign-in URL instead of opening it.")
    ] = False,
    redirect_port: Annotated[
        int,
        typer.Option(
            min=0,
            max=65535,
            help="Loopback port for the sign-in redirect (0 = any free); fix it to forward it "
            "over SSH with `ssh -L N:127.0.0.1:N host`.",
        ),
    ] = 0,
    types: TypesOpt = None,
    source: SourceOpt = "google-health",
    client_id: Annotated[
        str | None,
        typer.Option(envvar="FITBIT_CLIENT_ID", help="fitbit-legacy: your app's client id."),
    ] = None,
    client_secret: Annotated[
        str | None,
        typer.Option(
            envvar="FITBIT_CLIENT_SECRET",
            help="fitbit-legacy: your app's client secret.",
            show_default=False,
        ),
    ] = None,
    vault: VaultOpt = None,
) -> None:
    """Sign in with OAuth 2.0 (+PKCE) on a loopback redirect; tokens stay in the vault (0600)."""
    from fitvault import auth as oauth
    from fitvault import catalog
    from fitvault.vault import check_source, parse_types, run

    v = Vault(vault)
    if check_source(source) == "fitbit-legacy":
        _auth_legacy(v, server, client_id, client_secret, no_browser, redirect_port)
        return
    requested = catalog.scopes_for(parse_types(_types(types)))
    account = oauth.account_for(requested, server=server, client_secrets=client_secrets)
    oauth.check_writable(v.directory)  # before anyone is sent to a consent page

    def show(url: str) -> None:
        wait = oauth.describe_wait(SIGN_IN_TIMEOUT)
        _note(f"Open this URL to sign in (waiting up to {wait} for the sign-in):", style="")
        err.print(url, highlight=False)  # whole on one line, so a script can read it

    with _when_interrupted("sign-in cancelled; nothing was saved"):
        token = run(
            oauth.authorize(
                account,
                v.directory,
                open_url=None if no_browser else _open_browser,
                show_url=show,
                timeout=SIGN_IN_TIMEOUT,
                redirect_port=redirect_port,
            )
        )
    granted = set(str(token.get("scope", "")).split())
    out.print(
        Text.assemble(
            ("Signed in.", "green"),
            " Granted: ",
            ", ".join(_scope_name(s) for s in sorted(granted)),
        )
    )
    for scope in sorted(set(requested) - granted):
        _note(f"not granted: {_scope_name(scope)} (re-run fitvault auth to grant)")
    out.print(f"Tokens saved in {v.directory} (mode 0600). Next: fitvault sync", highlight=False)


def _show_sign_in(url: str) -> None:
    from fitvault.auth import describe_wait

    wait = describe_wait(SIGN_IN_TIMEOUT)
    _note(f"Open this URL to sign in (waiting up to {wait} for the sign-in):", style="")
    err.print(url, highlight=False)  # whole on one line, so a script can read it


def _auth_legacy(
    v: Vault,
    server: str | None,
    client_id: str | None,
    client_secret: str | None,
    no_browser: bool,
    redirect_port: int,
) -> None:
    with _when_interrupted("sign-in cancelled; nothing was saved"):
        granted = v.authorize(
            source="fitbit-legacy",
            server=server,
            client_id=client_id,
            client_secret=client_secret,
            open_url=None if no_browser else _open_browser,
            show_url=_show_sign_in,
            timeout=SIGN_IN_TIMEOUT,
            redirect_port=redirect_port,
        )["scopes"]
    out.print(
        Text.assemble(
            ("Signed in to the legacy Fitbit API.", "green"),
            " Granted: ",
            ", ".join(sorted(granted)),
        )
    )
    out.print(
        f"Tokens saved in {v.directory} (mode 0600). Next: fitvault sync --source fitbit-legacy",
        highlight=False,
    )


def _open_browser(url: str) -> None:
    import webbrowser

    webbrowser.open(url, new=1)


@app.command()
def sync(
    since: Annotated[
        str | None,
        typer.Option(help="First local date (YYYY-MM-DD); default: when the account started."),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Last local date (YYYY-MM-DD); default: now.")
    ] = None,
    types: TypesOpt = None,
    concurrency: Annotated[
        int,
        typer.Option(min=1, help="Windows walked at once (1 = strictly the fewest requests)."),
    ] = 4,
    plan: Annotated[
        bool,
        typer.Option(
            "--plan", help="Show per type what a sync would fetch and how long the quota takes."
        ),
    ] = False,
    source: SourceOpt = "google-health",
    server: Annotated[
        str | None,
        typer.Option(help="fitbit-legacy: a server mirroring the API (default: the sign-in's)."),
    ] = None,
    vault: VaultOpt = None,
) -> None:
    """Download what the vault is missing; safe to interrupt and re-run."""
    from fitvault.vault import check_source

    _lean_arrow()
    v = Vault(vault)
    if check_source(source) == "fitbit-legacy":
        if plan:
            raise ConfigError("--plan is for --source google-health only")
        _sync_legacy(v, since, until, _types(types), server)
        return
    if server:
        raise ConfigError("--server is for --source fitbit-legacy; `fitvault auth` keeps the URL")
    if plan:
        plans = v.plan(since, until, _types(types), concurrency=concurrency)
        out.print(_plan_table(plans))
        total = sum(p.requests for p in plans)
        minutes = quota_seconds(total) / 60
        out.print(
            f"≈ {total:,} requests; the API's {QUOTA_PER_MINUTE}/minute quota alone takes "
            f"≈ {minutes:.1f} min. List walks are estimated from typical density; roll-ups "
            "are exact.",
            highlight=False,
        )
        return
    with SyncBars(err) as bars:
        report = v.sync(since, until, _types(types), progress=bars, concurrency=concurrency)
    _print_report(report)
    if report.partial:
        raise PartialSync(
            f"{len(report.refused)} of the requested types were refused by the API (listed "
            "above); everything else is saved. Fix what the reasons say and run "
            "`fitvault sync` again."
        )


class LegacyBars(SyncBars):
    """The progress bars, with the wait for the hourly budget counted down beside them."""

    def __call__(self, p: SyncProgress) -> None:
        super().__call__(p)
        if p.waiting_s:
            left = int(p.waiting_s)
            note = f"waiting {left // 60}:{left % 60:02d} for the hourly request budget (150/h)"
            self.progress.update(self.tasks[p.data_type], note=note)


def _sync_legacy(
    v: Vault, since: str | None, until: str | None, names: list[str] | None, server: str | None
) -> None:
    with LegacyBars(err) as bars:
        report = v.sync(since, until, names, progress=bars, source="fitbit-legacy", server=server)
    _print_legacy_report(report)
    for line in getattr(report, "notes", []):
        _note(line)
    if report.partial:
        raise PartialSync(
            f"{len(report.refused)} of the legacy series were refused by the API (listed "
            "above); everything else is saved. Fix what the reasons say and run "
            "`fitvault sync --source fitbit-legacy` again."
        )


def _print_legacy_report(report: SyncReport) -> None:
    """Requests and points per legacy series, then rows added per table."""
    series = Table(title="This sync", show_edge=False)
    series.add_column("series")
    series.add_column("requests", justify="right")
    series.add_column("points received", justify="right")
    for name in sorted(report.pages):
        series.add_row(name, f"{report.pages[name]:,}", f"{report.points.get(name, 0):,}")
    out.print(series)
    added = {t: n for t, n in report.added.items() if n}
    if added:
        out.print("rows added: " + ", ".join(f"{t} {n:+,}" for t, n in sorted(added.items())))
    for name, why in report.skipped.items():
        _note(f"skipped {name}: {why}")
    waited = getattr(report, "waited_s", 0.0)
    wait = f", {waited / 60:.0f} min of it waiting for the hourly budget" if waited >= 60 else ""
    out.print(f"{report.requests} requests in {report.seconds:.0f} s{wait}", highlight=False)


def _lean_arrow() -> None:
    """Allocator settings for a long sync (see fitvault.sync.lean_memory)."""
    from fitvault.sync import lean_memory

    lean_memory()


def _print_report(report: SyncReport) -> None:
    out.print(_sync_summary(report))
    for name, why in report.skipped.items():
        _note(f"skipped {name}: {why}")
    points = sum(report.points.values())
    out.print(f"{report.requests} requests, {points:,} points received in {report.seconds:.1f} s")


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
        )
    for line in summary.lines():
        out.print(line, highlight=False)


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


def _plot_names(name: str) -> list[str]:
    if name == "all":
        return list(PLOT_NAMES)
    if name not in PLOT_NAMES:
        raise ConfigError(f"unknown plot {name!r}; choose from {', '.join(PLOT_NAMES)} or 'all'")
    return [name]


def _check_plot_options(names: list[str], given: dict[str, object]) -> None:
    """Refuse --date / --days when no chosen figure reads them (rather than ignore them)."""
    for option, value in given.items():
        if value is None:
            continue
        readers = [n for n in PLOT_NAMES if option in PLOT_OPTIONS.get(n, ())]
        if not set(readers) & set(names):
            raise typer.BadParameter(
                f"only {' and '.join(readers)} use it, not {', '.join(names)}", param_hint=option
            )


def _plot_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date; use YYYY-MM-DD", param_hint="--date"
        ) from None


def _formats(values: list[str] | None) -> tuple[str, ...]:
    return tuple(_types(values) or ("png", "svg"))


@app.command()
def plot(
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(PLOT_NAMES)}, or 'all'.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the files.")] = Path("."),
    fmt: Annotated[
        list[str] | None,
        typer.Option("--format", help="png and/or svg (repeatable or comma-separated)."),
    ] = None,
    date: Annotated[
        str | None, typer.Option(help="Day for hr-day / last day for hr-by-hour (YYYY-MM-DD).")
    ] = None,
    days: Annotated[
        int | None, typer.Option(min=1, help="Days for hr-by-hour (default 7).", show_default=False)
    ] = None,
    vault: VaultOpt = None,
) -> None:
    """Draw the classic figures (PNG and SVG); `all` draws every one the vault has data for."""
    names = _plot_names(name)
    _check_plot_options(names, {"--date": date, "--days": days})
    day = _plot_date(date)
    from fitvault import plots

    plots.check_out_dir(out_dir)
    formats = _formats(fmt)
    v = Vault(vault)
    skipped = []
    for n in names:
        try:
            paths = plots.save(v.plot(n, day=day, days=days or 7), out_dir, n, formats)
        except (ConfigError, ValueError) as exc:  # no data for it, or a bad format
            if len(names) == 1 or "format" in str(exc):
                raise ConfigError(f"{n}: {exc}") from exc
            skipped.append(f"skipped {n}: {exc}")
            continue
        for path in paths:
            out.print(f"wrote {path}", highlight=False)
    for line in skipped:
        _note(line)
    if len(skipped) == len(names):
        raise ConfigError("no figure could be drawn; run `fitvault sync` first")


@app.command()
def report(
    since: Annotated[str | None, typer.Option(help="First local day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Last local day (YYYY-MM-DD).")] = None,
    out_file: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    vault: VaultOpt = None,
) -> None:
    """Write one self-contained HTML report (opens offline, in any browser, light or dark)."""
    path = Vault(vault).report(out_file, since, until)
    out.print(f"wrote {path}", highlight=False)


@app.command()
def simulate(
    port: PortOpt = 8080,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic person.")] = 7,
    days: Annotated[int, typer.Option(min=1, help="Days of history up to now.")] = 90,
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Skip the consent page.")
    ] = False,
    quota: Annotated[
        int, typer.Option(min=0, help="Requests per minute per user (0 = unlimited).")
    ] = 300,
    takeout: Annotated[
        Path | None,
        typer.Option("--takeout", help="Write the world as a Takeout zip here instead of serving."),
    ] = None,
    layout: Annotated[
        str,
        typer.Option(
            help="Takeout layout: 2026 (Takeout/Google Health), 2024 (Takeout/Fitbit) or "
            "legacy (MyFitbitData/…/user-site-export)."
        ),
    ] = "2026",
    legacy_gone: Annotated[
        bool,
        typer.Option("--legacy-gone", help="Legacy Fitbit Web API answers 410, as since 2026-11."),
    ] = False,
    faults: Annotated[
        str | None,
        typer.Option(
            "--faults",
            help="Inject failures, e.g. '429=0.02,503=0.01,reset=0.005,seed=3' "
            "(fault=rate per request; see fitvault.simulator.faults for the names).",
        ),
    ] = None,
) -> None:
    """Serve the Google Health API v4 simulator (and its OAuth endpoints) on loopback."""
    from fitvault.simulator.app import create_app
    from fitvault.simulator.server import bind, serve_forever, url_of
    from fitvault.simulator.world import World

    if takeout is not None:
        from fitvault.simulator.takeout import layout_names, write_archive

        if layout not in layout_names():
            raise ConfigError(f"unknown --layout {layout!r}; one of {', '.join(layout_names())}")
        write_archive(World.default(days=days, seed=seed), takeout, layout)
        _note(f"Wrote {days} days for seed {seed} to {takeout}", style="")
        return

    spec = _fault_spec(faults) if faults else None
    try:
        sock = bind(port)  # first, so a busy port is reported before any work
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}); "
            "pick another --port, or --port 0 for any free port"
        ) from None
    url = url_of(sock)
    with _when_interrupted("simulator stopped"):
        world = World.default(days=days, seed=seed)
        sim = create_app(
            world,
            auto_approve=auto_approve,
            quota_per_minute=quota or None,
            legacy_gone=legacy_gone,
            faults=spec,
        )
        _note(f"Simulating {days} days for seed {seed} on {url}", style="")
        if faults:
            _note(f"Injecting faults: {faults}", style="")
        _note(f"Sign in with: fitvault auth --server {url} --no-browser", style="")
        _note("Stop it with Ctrl-C (or `kill %1` when started with `&`).", style="")
        serve_forever(sim.app, sock)


@app.command()
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Where plots and the demo vault go.")
    ] = Path("fitvault-demo"),
    days: Annotated[int, typer.Option(min=1, help="Days of synthetic history to sync.")] = 90,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic person.")] = 7,
) -> None:
    """Run the whole pipeline against the embedded simulator."""
    from fitvault.demo import run_demo

    with SyncBars(err) as bars:
        report = run_demo(out_dir, days=days, seed=seed, progress=bars, on_step=_plain)
    _print_report(report.sync)
    t = report.seconds
    out.print(
        f"Timings: sign-in {t['auth']:.1f} s, sync {t['sync']:.1f} s, plots {t['plots']:.1f} s, "
        f"report {t['report']:.1f} s, total {t['total']:.1f} s"
    )
    out.print(f"Vault: {report.vault}", highlight=False)
    out.print(f"Figures in {report.out}/: " + ", ".join(p.name for p in report.files))
    out.print(f"Report: {report.report}", highlight=False)


def _plain(message: str) -> None:
    err.print(Text(message), highlight=False)


# --- process-level behaviour ----------------------------------------------------------------

_signals: list[int] = []


def _terminate_like_interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends a command the way Ctrl-C does (partial work kept, a message, no trace)."""
    _signals.append(signum)
    raise KeyboardInterrupt


def _configure_output() -> None:
    """Library warnings through rich (so they do not tear a progress bar), and retries announced
    as notices instead of stamina's ``retry_scheduled`` log lines."""
    handler = RichHandler(console=err, show_time=False, show_path=False, markup=False)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s", handlers=[handler])
    stamina.instrumentation.set_on_retry_hooks([RetryNotices(NOTICES)])
    with contextlib.suppress(ValueError):  # not the main thread (e.g. called from a test runner)
        signal.signal(signal.SIGTERM, _terminate_like_interrupt)


def _fault_spec(text: str) -> FaultSpec:
    """``--faults`` parsed; on a socket a ``timeout`` fault stalls past the client's 30 s."""
    from fitvault.simulator.faults import FaultSpec

    try:
        spec = FaultSpec.parse(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--faults") from None
    return dataclasses.replace(spec, stall=spec.stall or 35.0)


def _run() -> int:
    """Run the app; every way it can end becomes an exit code (and at most a short message)."""
    try:
        code = app(prog_name="fitvault", standalone_mode=False)
    except NoArgsIsHelpError as exc:  # bare `fitvault`: the help is what was asked for
        typer.echo(exc.format_message())
        return 0
    except typer.Exit as exc:
        return exc.exit_code
    except typer.TyperException as exc:  # typer's own click: usage errors (exit 2)
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            _error(exc.format_message())
        return exc.exit_code
    except FitvaultError as exc:
        _error(str(exc))
        return exc.exit_code
    except Interrupted as exc:
        _note(exc.message, style="")
        return _interrupt_code()
    except (KeyboardInterrupt, typer.Abort):
        code = 130
    if code == 130:  # typer turns a KeyboardInterrupt into Exit(130)
        _note(KEPT, style="")
        return _interrupt_code()
    return code if isinstance(code, int) else 0


def _interrupt_code() -> int:
    return 128 + (_signals[-1] if _signals else signal.SIGINT)


def main() -> None:
    """Entry point: run the app and turn every failure into a message and an exit code."""
    _configure_output()
    raise SystemExit(_run())


__all__ = ["app", "main"]

"""The ``fitvault`` command: parses options, calls the Python API, shows progress, maps errors
to exit codes. Nothing below this module imports Typer or rich."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from fitvault._errors import ConfigError, FitvaultError
from fitvault.sync import SyncProgress, SyncReport
from fitvault.vault import ENV_HOME, Vault

app = typer.Typer(
    help="Get all of your Fitbit / Google Health data into a local DuckDB vault.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console(soft_wrap=True)  # paths and numbers stay on one line when piped
err = Console(stderr=True, soft_wrap=True)
# Listed here so `--help` does not import matplotlib; a test keeps it equal to plots.PLOTS.
PLOT_NAMES = ("hr-day", "hr-by-hour", "rhr", "sleep-hist", "sleep-scatter", "sleep-stages")

VaultOpt = Annotated[
    Path | None,
    typer.Option(
        "--vault",
        envvar=ENV_HOME,
        help="Vault directory (default: user data dir).",
        show_default=False,
    ),
]
TypesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--types", "-t", help="Data types (repeatable or comma-separated).", show_default=False
    ),
]


def _types(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


class SyncBars:
    """Rich progress bars fed by the library's progress callback."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.fields[name]:<26}"),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            TextColumn("{task.fields[points]:>10,} points  {task.fields[requests]:>5} requests"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[note]}"),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> SyncBars:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, p: SyncProgress) -> None:
        task = self.tasks.get(p.data_type)
        if task is None:
            task = self.tasks[p.data_type] = self.progress.add_task(
                "", total=1.0, name=p.data_type, points=0, requests=0, note=""
            )
        note = (
            f"[yellow]waiting {p.waiting_s:.0f} s for the API's per-minute quota"
            if p.waiting_s
            else ""
        )
        self.progress.update(
            task, completed=p.done, points=p.points, requests=p.requests, note=note
        )


def _sync_summary(report: SyncReport) -> Table:
    table = Table(title="Vault contents", show_edge=False)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in report.rows.items():
        table.add_row(name, f"{rows:,}")
    return table


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
    types: TypesOpt = None,
    vault: VaultOpt = None,
) -> None:
    """Sign in with OAuth 2.0 (+PKCE) on a loopback redirect; tokens stay in the vault (0600)."""
    v = Vault(vault)

    def show(url: str) -> None:
        err.print("Open this URL to sign in (waiting for the redirect to 127.0.0.1):")
        print(url, file=sys.stderr, flush=True)

    result = v.authorize(
        server=server,
        client_secrets=client_secrets,
        types=_types(types),
        open_url=None if no_browser else _open_browser,
        show_url=show,
    )
    out.print(
        f"[green]Signed in.[/] Granted: {', '.join(s.rsplit('.', 2)[-2] for s in result['scopes'])}"
    )
    out.print(f"Tokens saved in {v.directory} (mode 0600). Next: fitvault sync")


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
        int, typer.Option(help="Windows walked at once (1 = strictly the fewest requests).")
    ] = 4,
    vault: VaultOpt = None,
) -> None:
    """Download what the vault is missing; safe to interrupt and re-run."""
    v = Vault(vault)
    with SyncBars(err) as bars:
        report = v.sync(since, until, _types(types), progress=bars, concurrency=concurrency)
    _print_report(report)


def _print_report(report: SyncReport) -> None:
    for name, why in report.skipped.items():
        err.print(f"[yellow]skipped {name}:[/] {why}")
    out.print(_sync_summary(report))
    points = sum(report.points.values())
    out.print(f"{report.requests} requests, {points:,} points received in {report.seconds:.1f} s")


@app.command()
def rebuild(vault: VaultOpt = None) -> None:
    """Rebuild every table from the raw pages kept in the vault (no network)."""
    v = Vault(vault)
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("rebuilding", total=None)
        rows = v.rebuild(progress=lambda n, total: bar.update(task, completed=n, total=total))
    for name, count in rows.items():
        out.print(f"{name:<22} {count:>12,}")


@app.command()
def status(vault: VaultOpt = None) -> None:
    """What the vault holds and when it was last synced."""
    info = Vault(vault).status()
    out.print(f"Vault: {info['directory']}")
    last = info.get("last_sync") or {}
    out.print(f"Last sync: {last.get('at', 'never')}")
    for name, rows in info["rows"].items():
        out.print(f"  {name:<22} {rows:>12,} rows")


@app.command()
def plot(
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(PLOT_NAMES)}, or 'all'.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the files.")] = Path("."),
    fmt: Annotated[
        list[str] | None, typer.Option("--format", help="png and/or svg (repeatable).")
    ] = None,
    date: Annotated[
        str | None, typer.Option(help="Day for hr-day / last day for hr-by-hour (YYYY-MM-DD).")
    ] = None,
    days: Annotated[int, typer.Option(help="Days for hr-by-hour.")] = 7,
    vault: VaultOpt = None,
) -> None:
    """Draw one of the classic figures (PNG and SVG)."""
    from fitvault import plots

    names = list(plots.PLOTS) if name == "all" else [name]
    for n in names:
        if n not in plots.PLOTS:
            raise ConfigError(f"unknown plot {n!r}; choose from {', '.join(plots.PLOTS)} or 'all'")
    v = Vault(vault)
    for n in names:
        try:
            fig = v.plot(n, day=date, days=days)
            paths = plots.save(fig, out_dir, n, tuple(fmt or ("png", "svg")))
        except ValueError as exc:  # the figure functions' own checks: no data, bad format
            raise ConfigError(f"{n}: {exc}") from exc
        for path in paths:
            out.print(f"wrote {path}", highlight=False)


@app.command()
def simulate(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = any free port).")] = 8080,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic person.")] = 7,
    days: Annotated[int, typer.Option(help="Days of history up to now.")] = 90,
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Skip the consent page.")
    ] = False,
    quota: Annotated[int, typer.Option(help="Requests per minute per user (0 = unlimited).")] = 300,
) -> None:
    """Serve the Google Health API v4 simulator (and its OAuth endpoints) on loopback."""
    from fitvault.simulator.app import create_app
    from fitvault.simulator.server import serve_forever
    from fitvault.simulator.world import World

    world = World.default(days=days, seed=seed)
    sim = create_app(world, auto_approve=auto_approve, quota_per_minute=quota or None)
    err.print(f"Simulating {days} days for seed {seed} on http://127.0.0.1:{port}")
    err.print(f"Sign in with: fitvault auth --server http://127.0.0.1:{port} --no-browser")
    serve_forever(sim.app, port)


@app.command()
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Where plots and the demo vault go.")
    ] = Path("fitvault-demo"),
    days: Annotated[int, typer.Option(help="Days of synthetic history to sync.")] = 90,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic person.")] = 7,
) -> None:
    """Run the whole pipeline against the embedded simulator."""
    from fitvault.demo import run_demo

    with SyncBars(err) as bars:
        report = run_demo(
            out_dir, days=days, seed=seed, progress=bars, on_step=lambda m: err.print(m)
        )
    _print_report(report.sync)
    t = report.seconds
    out.print(
        f"Timings: sign-in {t['auth']:.1f} s, sync {t['sync']:.1f} s, plots {t['plots']:.1f} s, "
        f"total {t['total']:.1f} s"
    )
    out.print(f"Vault: {report.vault}")
    out.print(f"Figures in {report.out}/: " + ", ".join(p.name for p in report.files))


def main() -> None:
    """Entry point: run the app and turn every failure into a message and an exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = app(standalone_mode=False)
    except FitvaultError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise SystemExit(exc.exit_code) from None
    except (KeyboardInterrupt, click.exceptions.Abort):
        err.print(
            "interrupted; everything saved so far is kept — run the command again to continue"
        )
        raise SystemExit(130) from None
    except click.exceptions.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    if code == 130:
        err.print(
            "interrupted; everything saved so far is kept — run the command again to continue"
        )
    raise SystemExit(code if isinstance(code, int) else 0)


__all__ = ["app", "main"]

"""`fitvault plot` and `fitvault report`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from fitvault._errors import ConfigError
from fitvault.cli._app import (
    VaultOpt,
    _note,
    _types,
    app,
    out,
)
from fitvault.vault import Vault

# Listed here so `--help` does not import matplotlib; a test keeps it equal to plots.PLOTS.
PLOT_NAMES = ("hr-day", "hr-by-hour", "rhr", "sleep-hist", "sleep-scatter", "sleep-stages")
# Which figures read --date / --days; any other figure refuses them rather than ignore them.
PLOT_OPTIONS = {"hr-day": {"--date"}, "hr-by-hour": {"--date", "--days"}}


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

"""`fitvault simulate` and `fitvault demo`: the embedded simulator."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from fitvault._errors import ConfigError
from fitvault.cli._app import (
    PortOpt,
    _note,
    _when_interrupted,
    app,
    err,
    out,
)
from fitvault.cli._bars import (
    SyncBars,
    _print_report,
)

if TYPE_CHECKING:
    from fitvault.simulator.faults import FaultSpec


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


def _fault_spec(text: str) -> FaultSpec:
    """``--faults`` parsed; on a socket a ``timeout`` fault stalls past the client's 30 s."""
    from fitvault.simulator.faults import FaultSpec

    try:
        spec = FaultSpec.parse(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--faults") from None
    return dataclasses.replace(spec, stall=spec.stall or 35.0)

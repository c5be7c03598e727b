"""The Typer app and what every command shares: consoles, common options, messages."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from fitvault import __version__
from fitvault.vault import ENV_HOME

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

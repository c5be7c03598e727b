"""The ``fitvault`` command: parses options, calls the Python API, shows progress, maps errors
to exit codes. Nothing below this package imports Typer or rich.

One module per group of commands; importing them registers their commands on ``app`` in the
order ``fitvault --help`` lists them."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from types import FrameType

# Arrow's C++ side takes its allocator from this variable when it first allocates (after that
# only Python-level calls can be pointed elsewhere): mimalloc keeps what a sync's parse threads
# freed, the system allocator gives it back (120-day sync: peak RSS 300 → 281 MB,
# benchmarks/sync_memory.py). Before any import that loads Arrow; a user's own choice wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

import stamina
import typer
from rich.logging import RichHandler
from typer._click.exceptions import NoArgsIsHelpError

from fitvault._errors import FitvaultError
from fitvault.cli import account, data, figures, sim  # noqa: F401  (registers the commands)
from fitvault.cli._app import KEPT, NOTICES, Interrupted, _error, _note, app, err
from fitvault.cli._bars import SyncBars, _lean_arrow
from fitvault.cli.figures import PLOT_NAMES
from fitvault.http import RetryNotices

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


__all__ = ["NOTICES", "PLOT_NAMES", "SyncBars", "_lean_arrow", "app", "main"]

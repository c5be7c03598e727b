"""The ``fitvault`` command: exit codes and messages, and whole runs over real sockets."""

from __future__ import annotations

import datetime as dt
import os
import queue
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import httpx2
import pytest
from typer.testing import CliRunner

from fitvault import cli, plots
from fitvault.simulator.app import create_app
from fitvault.simulator.server import serve_in_thread
from fitvault.simulator.world import World
from fitvault.vault import Vault
from tests.conftest import sync

runner = CliRunner()


def flat(text: str) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join(text.split())


def squash(text: str) -> str:
    """Output without any whitespace (rich also breaks long paths across lines)."""
    return "".join(text.split())


def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    """``fitvault ARGS`` through ``cli.main`` (which maps errors to exit codes)."""
    monkeypatch.setattr(sys, "argv", ["fitvault", *args])
    with pytest.raises(SystemExit) as info:
        cli.main()
    captured = capsys.readouterr()
    code = info.value.code
    return (0 if code is None else int(code)), flat(captured.out), flat(captured.err)


class Child:
    """``python -m fitvault ARGS`` as a child process whose output threads collect."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fitvault", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.err_lines: queue.Queue[str] = queue.Queue()
        self.out: list[str] = []
        self.err: list[str] = []
        self.pumps = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.out, None)),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.err, self.err_lines)),
        ]
        for pump in self.pumps:
            pump.start()

    @staticmethod
    def _pump(stream: IO[str], into: list[str], lines: queue.Queue[str] | None) -> None:
        for line in stream:
            into.append(line)
            if lines is not None:
                lines.put(line)

    def line_starting(self, prefix: str) -> str:
        """The first line on stderr that starts with ``prefix`` (waits up to 15 s)."""
        while True:
            line = self.err_lines.get(timeout=15)
            if line.startswith(prefix):
                return line.strip()

    def finish(self, timeout: float = 15) -> int:
        """Wait for the exit (killing it after ``timeout``); returns the exit code."""
        try:
            self.proc.wait(timeout)
        finally:
            self.proc.kill()
            self.proc.wait()
            for pump in self.pumps:
                pump.join(5)
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream is not None:
                    stream.close()
        return self.proc.returncode


# --- exit codes and messages --------------------------------------------------------------


def test_status_of_an_empty_directory_exits_6_and_says_to_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No vault file yet is a VaultError (exit 6) telling the user to run `fitvault sync`."""
    code, _, err = run_main(monkeypatch, capsys, "status", "--vault", str(tmp_path))
    assert code == 6
    assert "error:" in err
    assert "fitvault sync" in err


def test_status_lists_row_counts_of_a_synced_vault(
    vault: Vault, transport: httpx2.ASGITransport
) -> None:
    """After a sync, status prints every table with its row count."""
    report = sync(vault, transport)
    result = runner.invoke(cli.app, ["status", "--vault", str(vault.directory)])
    assert result.exit_code == 0, result.output
    text = flat(result.stdout)
    assert f"Vault: {vault.directory}" in text
    assert "Last sync: never" not in text
    for table, rows in report.rows.items():
        assert f"{table} {rows:,} rows" in text


def test_an_unknown_plot_exits_2_naming_the_valid_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fitvault plot nosuch` is a ConfigError (exit 2) listing every plot name."""
    code, _, err = run_main(monkeypatch, capsys, "plot", "nosuch", "--vault", str(tmp_path))
    assert code == 2
    assert "'nosuch'" in err
    for name in plots.PLOTS:
        assert name in err


def test_plot_all_writes_the_six_pngs(
    vault: Vault, transport: httpx2.ASGITransport, tmp_path: Path
) -> None:
    """`fitvault plot all --format png` writes one PNG per figure and nothing else."""
    sync(vault, transport)
    out = tmp_path / "figures"
    args = ["plot", "all", "--out", str(out), "--format", "png", "--vault", str(vault.directory)]
    result = runner.invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.png" for n in plots.PLOTS)
    for path in out.iterdir():
        assert path.read_bytes().startswith(b"\x89PNG")
        assert f"wrote{path}" in squash(result.stdout)


def test_written_paths_are_printed_on_one_line_when_piped(
    vault: Vault, transport: httpx2.ASGITransport, tmp_path: Path
) -> None:
    """A script reading `fitvault plot` output gets each written path whole on its line."""
    sync(vault, transport)
    out = tmp_path / ("long-directory-name-" * 4)
    args = ["plot", "rhr", "--out", str(out), "--format", "png", "--vault", str(vault.directory)]
    result = runner.invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"wrote {out / 'rhr.png'}"]


def test_an_unknown_image_format_exits_2(
    vault: Vault,
    transport: httpx2.ASGITransport,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--format bmpx` is a usage error (exit 2) naming the formats, not a crash."""
    sync(vault, transport)
    args = ["plot", "rhr", "--out", str(tmp_path), "--format", "bmpx"]
    code, _, err = run_main(monkeypatch, capsys, *args, "--vault", str(vault.directory))
    assert code == 2
    assert "bmpx" in err


def test_sync_with_a_bad_date_exits_2_asking_for_yyyy_mm_dd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--since not-a-date` is a ConfigError (exit 2) showing the expected format."""
    args = ("sync", "--since", "not-a-date", "--vault", str(tmp_path))
    code, _, err = run_main(monkeypatch, capsys, *args)
    assert code == 2
    assert "'not-a-date'" in err
    assert "YYYY-MM-DD" in err


def test_auth_without_a_client_exits_2_explaining_the_desktop_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Neither --server nor --client-secrets: exit 2 saying which client JSON to download."""
    code, _, err = run_main(monkeypatch, capsys, "auth", "--vault", str(tmp_path))
    assert code == 2
    for part in ("--client-secrets", "Desktop app", "Google Cloud Console", "--server"):
        assert part in err
    assert not (tmp_path / "token.json").exists()


# --- whole runs ---------------------------------------------------------------------------


@pytest.mark.slow
def test_auth_with_no_browser_then_sync_over_real_sockets(tmp_path: Path) -> None:
    """A script can finish `fitvault auth --no-browser` by fetching the printed URL; then
    `fitvault sync` downloads the data and prints the row summary."""
    world = World.default(days=3, now=dt.datetime.now(dt.UTC))
    vault_dir = tmp_path / "vault"
    with serve_in_thread(create_app(world, auto_approve=True).app) as url:
        child = Child("auth", "--server", url, "--no-browser", "--vault", str(vault_dir))
        try:
            sign_in_url = child.line_starting(url)
            answer = httpx2.get(sign_in_url, follow_redirects=True, timeout=15)
        finally:
            code = child.finish()
        assert answer.status_code == 200
        assert "signed in" in answer.text
        assert code == 0, child.err
        assert "Signed in." in "".join(child.out)
        token = vault_dir / "token.json"
        assert stat.S_IMODE(token.stat().st_mode) == 0o600

        done = subprocess.run(
            [sys.executable, "-m", "fitvault", "sync", "--vault", str(vault_dir)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    text = flat(done.stdout)
    assert "Vault contents" in text
    assert "heart_rate" in text
    assert " requests, " in text
    assert "points received in" in text


@pytest.mark.slow
def test_ctrl_c_exits_130_saying_progress_is_kept(tmp_path: Path) -> None:
    """Interrupting a waiting `fitvault auth` exits 130 with the 'run it again' message."""
    child = Child(
        "auth", "--server", "http://127.0.0.1:9", "--no-browser", "--vault", str(tmp_path)
    )
    try:
        child.line_starting("http://127.0.0.1:9/")
        os.kill(child.proc.pid, signal.SIGINT)
    finally:
        code = child.finish()
    assert code == 130
    assert "interrupted" in "".join(child.err)


@pytest.mark.slow
def test_demo_writes_twelve_figures_and_reports_requests_and_timings(tmp_path: Path) -> None:
    """`fitvault demo --days 3` runs the pipeline and writes 6 PNG + 6 SVG files."""
    out = tmp_path / "demo"
    result = runner.invoke(cli.app, ["demo", "--days", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    figures = sorted(p.name for p in out.iterdir() if p.is_file())
    assert figures == sorted(f"{n}.{ext}" for n in plots.PLOTS for ext in ("png", "svg"))
    text = flat(result.stdout)
    assert " requests, " in text
    assert "Timings: sign-in" in text
    assert "total" in text
    assert "Vault contents" in text


def test_plot_names_in_the_help_are_the_registry() -> None:
    """The CLI's static list of figure names matches fitvault.plots.PLOTS."""
    from fitvault import plots

    assert tuple(plots.PLOTS) == cli.PLOT_NAMES

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
import stamina
import typer
from typer.testing import CliRunner

from fitvault import cli, plots
from fitvault.simulator.app import create_app
from fitvault.simulator.server import serve_in_thread
from fitvault.simulator.world import World
from fitvault.vault import Vault
from tests.conftest import sync

CLASSIC = ["heart-rate", "steps", "sleep", "daily-resting-heart-rate"]

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
    term = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(SystemExit) as info:
            cli.main()
    finally:  # main() installs process-wide handlers; keep them out of later tests
        signal.signal(signal.SIGTERM, term)
        stamina.instrumentation.set_on_retry_hooks(None)
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
            # As from a terminal: a runner started in the background (`make test &`) ignores
            # SIGINT, children inherit that, and Ctrl-C tests would wait forever.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
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
    """After a sync, status prints each synced type with its row count, in words."""
    report = sync(vault, transport, types=CLASSIC)
    result = runner.invoke(cli.app, ["status", "--vault", str(vault.directory)])
    assert result.exit_code == 0, result.output
    text = flat(result.stdout)
    assert f"heart rate: {report.rows['heart_rate']:,} rows" in text


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
    sync(vault, transport, types=CLASSIC)
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
    sync(vault, transport, types=CLASSIC)
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
    sync(vault, transport, types=CLASSIC)
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


# --- nothing a user can type ends in a traceback ----------------------------------------


def commands() -> dict[str, typer.main.TyperCommand]:
    group = typer.main.get_command(cli.app)
    return dict(group.commands)  # type: ignore[attr-defined]


def a_bad_value(command: typer.main.TyperCommand) -> list[str]:
    """Arguments giving one of ``command``'s options an unusable value."""
    for param in command.params:
        if param.opts[0].startswith("--") and param.type_descriptor.annotation is int:
            return [param.opts[0], "not-a-number"]
    options = [p.opts[0] for p in command.params if p.opts[0].startswith("--") and not p.is_flag]
    if not options:  # a command without options: an argument it does not take
        return ["an-unexpected-argument"]
    return [options[-1]]  # an option that needs a value, given none


def test_the_help_lists_every_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fitvault --help` names each command the walk below covers (and -h is the same)."""
    code, out, _ = run_main(monkeypatch, capsys, "--help")
    assert code == 0
    assert run_main(monkeypatch, capsys, "-h")[1] == out
    for name in commands():
        assert f" {name} " in out


@pytest.mark.parametrize("name", sorted(commands()))
def test_every_command_answers_help_bogus_options_and_bad_values_without_a_traceback(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--help and -h exit 0; an unknown option and a bad value are usage errors (exit 2) with a
    short message and a "Try … -h" hint, never a traceback."""
    for flag in ("--help", "-h"):
        code, out, err = run_main(monkeypatch, capsys, name, flag)
        assert (code, "Traceback" in out + err) == (0, False)
        assert "Usage" in out
    for args in (["--bogus-option"], a_bad_value(commands()[name])):
        code, out, err = run_main(monkeypatch, capsys, name, *args)
        assert code == 2, (args, out, err)
        assert "Traceback" not in out + err
        assert "Error:" in err
    assert f"Try 'fitvault {name} -h' for help." in run_main(monkeypatch, capsys, name, "-x")[2]


@pytest.mark.parametrize(
    "args",
    [
        ["sync", "--sinse", "x"],
        ["sync", "--concurrency", "abc"],
        ["sync", "--concurrency", "0"],
        ["simulate", "--port", "notaport"],
        ["simulate", "--port", "70000"],
        ["auth", "--redirect-port", "-1"],
        ["plot"],
        ["nosuch"],
        ["plot", "rhr", "--date", "2026-11-01"],
        ["plot", "sleep-stages", "--days", "3"],
        ["plot", "hr-day", "--date", "yesterday"],
    ],
)
def test_usage_errors_exit_2_with_one_message(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Typos, bad values, missing arguments and options a figure does not read: exit 2 with an
    "Error:" line and no traceback (typer raises its own vendored click's exceptions)."""
    code, out, err = run_main(monkeypatch, capsys, *args)
    assert code == 2
    assert "Error:" in err
    assert "Traceback" not in out + err


def test_version_prints_the_version_and_exits_0(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fitvault --version` prints `fitvault X.Y.Z` on stdout and exits 0."""
    from fitvault import __version__

    assert run_main(monkeypatch, capsys, "--version")[:2] == (0, f"fitvault {__version__}")


def test_bare_fitvault_prints_the_help_and_exits_0(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No arguments at all shows the help (the user asked what there is), exit 0."""
    code, out, err = run_main(monkeypatch, capsys)
    assert code == 0
    assert "Usage: fitvault" in out
    assert "sync" in out
    assert "Traceback" not in out + err


def test_error_messages_are_printed_literally_not_as_markup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A message holding `[bold]…[/]` or `[filter: x]` reaches the terminal as typed."""
    code, _, err = run_main(monkeypatch, capsys, "sync", "--since", "[bold]x[/] [filter: y]")
    assert code == 2
    assert "'[bold]x[/] [filter: y]'" in err


def test_a_server_that_is_not_a_url_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--server not-a-url` (no scheme / host) is a ConfigError naming the value, exit 2."""
    for bad in ("not-a-url", "ftp://host", "http://", "http://host:port"):
        code, _, err = run_main(
            monkeypatch, capsys, "auth", "--server", bad, "--vault", str(tmp_path)
        )
        assert code == 2, bad
        assert repr(bad) in err
    code, _, err = run_main(
        monkeypatch, capsys, "auth", "--server", "http://example.com", "--vault", str(tmp_path)
    )
    assert code == 2
    assert "unencrypted; use https://" in err
    assert not (tmp_path / "account.json").exists()


def test_a_token_file_of_the_wrong_shape_says_to_sign_in_again(
    vault: Vault, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A token.json holding valid JSON that is not a token: exit 3 saying `fitvault auth`."""
    for body in ("[1, 2]", '{"token": "x"}', '"text"'):
        (vault.directory / "token.json").write_text(body)
        code, out, err = run_main(monkeypatch, capsys, "sync", "--vault", str(vault.directory))
        assert code == 3, body
        assert "fitvault auth" in err
        assert "Traceback" not in out + err


def test_auth_into_an_unwritable_vault_fails_before_showing_the_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A vault path that cannot be created is refused (exit 2) before any sign-in URL appears."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    args = ("auth", "--server", "http://127.0.0.1:9", "--no-browser", "--vault", str(blocker / "v"))
    code, out, err = run_main(monkeypatch, capsys, *args)
    assert code == 2
    assert "cannot write to the vault directory" in err
    assert "http://127.0.0.1:9/o/oauth2" not in out + err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_auth_into_a_read_only_vault_fails_before_showing_the_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An existing vault directory without write permission is refused before the URL."""
    tmp_path.chmod(0o500)
    try:
        args = ("auth", "--server", "http://127.0.0.1:9", "--no-browser", "--vault", str(tmp_path))
        code, out, err = run_main(monkeypatch, capsys, *args)
    finally:
        tmp_path.chmod(0o700)
    assert code == 2
    assert "/o/oauth2" not in out + err


def test_plot_out_that_is_a_file_exits_2(
    vault: Vault,
    transport: httpx2.ASGITransport,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--out` naming an existing file, or a path under one, is a ConfigError (exit 2)."""
    sync(vault, transport, types=CLASSIC)
    blocker = tmp_path / "figures.png"
    blocker.write_text("")
    for out_dir in (blocker, blocker / "sub"):
        args = ("plot", "rhr", "--out", str(out_dir), "--vault", str(vault.directory))
        code, out, err = run_main(monkeypatch, capsys, *args)
        assert code == 2, out_dir
        assert "Traceback" not in out + err
        assert str(blocker) in squash(err) or str(blocker) in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_plot_out_that_is_read_only_exits_2(
    vault: Vault,
    transport: httpx2.ASGITransport,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A read-only `--out` directory is a ConfigError (exit 2) naming it."""
    sync(vault, transport, types=CLASSIC)
    out_dir = tmp_path / "ro"
    out_dir.mkdir(mode=0o500)
    args = ("plot", "rhr", "--out", str(out_dir), "--vault", str(vault.directory))
    code, _, err = run_main(monkeypatch, capsys, *args)
    assert code == 2
    assert "cannot write figures" in err


def test_simulate_on_a_port_in_use_exits_2_saying_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fitvault simulate --port N` with N taken: a clear message and exit 2 (not 3, not 1)."""
    from fitvault.simulator.server import bind

    with bind(0) as taken:
        port = str(taken.getsockname()[1])
        code, out, err = run_main(monkeypatch, capsys, "simulate", "--port", port, "--days", "1")
    assert code == 2
    assert f"127.0.0.1:{port}" in err
    assert "in use" in err
    assert "Traceback" not in out + err


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
    assert "This sync" in text
    assert "heart-rate" in text
    assert " requests, " in text
    assert "points received in" in text


@pytest.mark.slow
def test_ctrl_c_in_auth_exits_130_saying_sign_in_cancelled(tmp_path: Path) -> None:
    """Interrupting a waiting `fitvault auth` exits 130 saying the sign-in was cancelled (not
    the sync's "everything saved so far is kept"), after showing how long it would wait."""
    child = Child(
        "auth", "--server", "http://127.0.0.1:9", "--no-browser", "--vault", str(tmp_path)
    )
    try:
        child.line_starting("http://127.0.0.1:9/")
        os.kill(child.proc.pid, signal.SIGINT)
    finally:
        code = child.finish()
    text = "".join(child.err)
    assert code == 130
    assert "sign-in cancelled" in text
    assert "saved so far is kept" not in text
    assert "waiting up to 5 min for the sign-in" in text
    assert "Traceback" not in text


@pytest.mark.slow
def test_sigterm_stops_the_simulator_like_ctrl_c() -> None:
    """`kill PID` (SIGTERM) on `fitvault simulate --port 0` says "simulator stopped", no trace,
    after it printed the port it really listens on."""
    child = Child("simulate", "--port", "0", "--days", "2")
    try:
        line = child.line_starting("Simulating")
        url = line.rsplit(" on ", 1)[1]
        assert not url.endswith(":0")
        assert httpx2.get(f"{url}/nowhere", timeout=15).status_code == 404
        os.kill(child.proc.pid, signal.SIGTERM)
    finally:
        code = child.finish()
    text = "".join(child.err)
    assert code == 128 + signal.SIGTERM
    assert "simulator stopped" in text
    assert "Traceback" not in text


@pytest.mark.slow
def test_demo_writes_twelve_figures_and_reports_requests_and_timings(tmp_path: Path) -> None:
    """`fitvault demo --days 3` runs the pipeline and writes 6 PNG + 6 SVG files."""
    out = tmp_path / "demo"
    result = runner.invoke(cli.app, ["demo", "--days", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    figures = sorted(p.name for p in out.iterdir() if p.is_file())
    expected = [f"{n}.{ext}" for n in plots.PLOTS for ext in ("png", "svg")]
    assert figures == sorted([*expected, "report.html"])
    text = flat(result.stdout)
    assert "Report: " in text
    assert "report " in text  # its timing
    assert " requests, " in text
    assert "Timings: sign-in" in text
    assert "total" in text
    assert "This sync" in text


def test_plot_names_in_the_help_are_the_registry() -> None:
    """The CLI's static list of figure names matches fitvault.plots.PLOTS."""
    from fitvault import plots

    assert tuple(plots.PLOTS) == cli.PLOT_NAMES


def test_retries_show_as_notices_not_stamina_log_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With the CLI's output set up, a retried request prints "retrying GET … (attempt 2 of 8)"
    and not stamina's `WARNING stamina: stamina.retry_scheduled` log line."""
    import asyncio

    from fitvault.http import ApiClient

    answers = iter([httpx2.Response(503), httpx2.Response(200, json={})])

    class Tokens:
        async def access_token(self) -> str:
            return "t"

        async def refresh(self) -> str:
            return "t"

    async def go() -> None:
        transport = httpx2.MockTransport(lambda request: next(answers))
        async with ApiClient("https://api.test", Tokens(), transport=transport) as client:
            await client.get("/v4/users/me/profile")

    term = signal.getsignal(signal.SIGTERM)
    try:
        cli._configure_output()
        asyncio.run(go())
    finally:
        signal.signal(signal.SIGTERM, term)
        stamina.instrumentation.set_on_retry_hooks(None)
    err = flat(capsys.readouterr().err)
    assert "retrying GET /v4/users/me/profile on api.test in" in err
    assert "(attempt 2 of 8)" in err
    assert "retry_scheduled" not in err


def test_plot_all_draws_what_it_has_data_for_and_lists_the_rest(
    vault: Vault, transport: httpx2.ASGITransport, tmp_path: Path
) -> None:
    """With only heart rate synced, `plot all` writes the two heart-rate figures, exits 0 and
    says which figures it skipped and why."""
    sync(vault, transport, types=["heart-rate"])
    out = tmp_path / "figures"
    args = ["plot", "all", "--out", str(out), "--format", "png", "--vault", str(vault.directory)]
    result = runner.invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["hr-by-hour.png", "hr-day.png"]
    text = flat(result.stderr)
    for name in ("rhr", "sleep-hist", "sleep-scatter", "sleep-stages"):
        assert f"skipped {name}: no " in text


def test_plot_formats_may_be_comma_separated(
    vault: Vault, transport: httpx2.ASGITransport, tmp_path: Path
) -> None:
    """`--format png,svg` is the same as `--format png --format svg`."""
    sync(vault, transport, types=CLASSIC)
    args = ["plot", "rhr", "--out", str(tmp_path), "--format", "png,svg"]
    result = runner.invoke(cli.app, [*args, "--vault", str(vault.directory)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["rhr.png", "rhr.svg"]


@pytest.mark.slow
def test_scopes_left_unticked_are_reported_as_not_granted(tmp_path: Path) -> None:
    """Unticking a scope on the consent page still signs in (exit 0) and lists it as "not
    granted: … (re-run fitvault auth to grant)" — information, not an error."""
    from fitvault.demo import _ConsentForm

    world = World.default(days=2, now=dt.datetime.now(dt.UTC))
    with serve_in_thread(create_app(world).app) as url:
        args = ("auth", "--server", url, "--no-browser", "--types", "heart-rate,sleep")
        child = Child(*args, "--vault", str(tmp_path))
        try:
            consent = httpx2.get(child.line_starting(url), timeout=15)
            form = _ConsentForm()
            form.feed(consent.text)
            data: dict[str, list[str]] = {"action": ["allow"]}
            for key, value in form.fields:
                if not value.endswith(".sleep.readonly"):
                    data.setdefault(key, []).append(value)
            answer = httpx2.post(url + form.action, data=data, timeout=15)
            httpx2.get(answer.headers["location"], timeout=15)
        finally:
            code = child.finish()
    err = flat("".join(child.err))
    assert code == 0, err
    assert "not granted: sleep (re-run fitvault auth to grant)" in err
    assert "error" not in err.lower()


def test_paths_with_brackets_are_printed_as_they_are(
    vault: Vault, transport: httpx2.ASGITransport, tmp_path: Path
) -> None:
    """An --out directory named like rich markup (`[red]x[/]`) appears literally in the output."""
    sync(vault, transport, types=CLASSIC)
    out = tmp_path / "[red]figs[/]"
    args = ["plot", "rhr", "--out", str(out), "--format", "png", "--vault", str(vault.directory)]
    result = runner.invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"wrote {out / 'rhr.png'}"]


def test_auth_on_a_redirect_port_in_use_exits_2_before_showing_the_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`auth --redirect-port N` with N taken: a ConfigError naming the port (exit 2, not 3)."""
    from fitvault.simulator.server import bind

    with bind(0) as taken:
        port = str(taken.getsockname()[1])
        args = ("auth", "--server", "http://127.0.0.1:9", "--no-browser", "--redirect-port", port)
        code, out, err = run_main(monkeypatch, capsys, *args, "--vault", str(tmp_path))
    assert code == 2
    assert f"127.0.0.1:{port}" in err
    assert "/o/oauth2" not in out + err


def test_the_progress_display_says_what_it_is_waiting_for() -> None:
    """A quota pause and a scheduled retry both appear beside the type being fetched, as text
    (a "[filter: …]" in a retry line is not taken for markup)."""
    import io

    from rich.console import Console

    from fitvault.sync import SyncProgress

    bars = cli.SyncBars(Console(file=io.StringIO(), width=200))
    with bars:
        bars(SyncProgress("heart-rate", 0.5, 10, 1, 1, waiting_s=12.4))
        (task,) = bars.progress.tasks
        assert task.fields["note"] == "waiting 12 s for the per-minute quota"
        cli.NOTICES("retrying GET /p [filter: x] on h in 4 s (attempt 2 of 8): HTTP 503")
        assert task.fields["note"].startswith("retrying GET /p [filter: x] on h in 4 s")
        bars(SyncProgress("heart-rate", 0.6, 20, 2, 2))
        assert task.fields["note"] == ""
    assert cli.NOTICES.sink is None  # after the display, notices go to plain stderr lines

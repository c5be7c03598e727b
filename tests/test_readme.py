"""The README works when followed literally: its blocks run in one shell against the simulator,
and its tables name real exit codes and data types."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fitvault import _errors, catalog

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```(sh|python)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
NEEDS = "# needs:"  # a block that needs what a test cannot have (a Google account, a checkout)
PORT = "8080"  # the README's simulator port; the test swaps in a free one


def blocks() -> list[tuple[str, str]]:
    """(language, body) of every ```sh and ```python block, in order."""
    return [(m[1], m[2]) for m in BLOCK.finditer(README.read_text(encoding="utf-8"))]


def free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def session(port: str) -> str:
    """One bash script holding the runnable blocks in README order (Python ones as heredocs),
    so an `export` or a background `&` in one block carries into the next, as in a terminal."""
    parts = [
        "set -euo pipefail",
        "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",  # no simulator outlives a failure
    ]
    for language, body in blocks():
        if NEEDS in body:
            continue
        body = body.replace(f"127.0.0.1:{PORT}", f"127.0.0.1:{port}")
        body = body.replace(f"--port {PORT}", f"--port {port}")
        if language == "sh":
            parts.append(body)
        else:
            parts.append(f"{sys.executable} - <<'PYTHON'\n{body}PYTHON")
    return "\n".join(parts) + "\n"


def test_the_readme_has_runnable_blocks_of_both_kinds() -> None:
    """The extraction finds shell and Python blocks, and some are marked as needing an account
    (so the slow test below really runs something and really skips something)."""
    found = blocks()
    assert {"sh", "python"} <= {language for language, _ in found}
    assert any("google-account" in body for _, body in found)
    assert any(NEEDS not in body and "fitvault auth" in body for _, body in found)


@pytest.mark.slow
@pytest.mark.timeout(600)  # a 30-day simulator, all types, over real sockets
@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's simulator block uses curl")
def test_the_readme_runs_top_to_bottom_in_a_fresh_shell(tmp_path: Path) -> None:
    """Simulator, sign-in, sync, status, DataFrames, plots and rebuild as written in the README,
    in an empty directory with an empty $HOME, exit 0 without a traceback."""
    shim = tmp_path / ".venv" / "bin" / "fitvault"
    shim.parent.mkdir(parents=True)
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m fitvault "$@"\n')
    shim.chmod(0o755)
    env = {
        "HOME": str(tmp_path),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
    }
    done = subprocess.run(
        ["bash", "-c", session(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert "Signed in." in done.stdout
    assert "This sync" in done.stdout
    assert "simulator stopped" in done.stderr
    figures = {p.name for p in (tmp_path / "plots").iterdir()}
    assert {"hr-day.png", "hr-by-hour.png", "hr-by-hour.svg", "rhr.png", "sleep-stages.svg"} <= (
        figures
    )
    assert (tmp_path / "fitvault-try" / "token.json").exists()


def test_the_exit_code_table_covers_every_error_class() -> None:
    """Each FitvaultError subclass's exit code has a row in the README's exit-code table."""
    documented = {int(m) for m in re.findall(r"^\| (\d+) \|", README.read_text(), re.MULTILINE)}
    classes = [getattr(_errors, name) for name in _errors.__all__]
    assert {cls.exit_code for cls in classes} <= documented
    assert 0 in documented


def test_the_type_names_the_readme_lists_are_real() -> None:
    """Every `--types` name the README mentions is a type `fitvault sync` accepts."""
    text = README.read_text()
    listed = re.search(r"today (.*?); the set grows", text, re.DOTALL)
    assert listed is not None
    names = re.findall(r"`([a-z-]+)`", listed[1])
    assert names
    stored = {t.name for t in catalog.STORED_TYPES}
    assert set(names) <= stored

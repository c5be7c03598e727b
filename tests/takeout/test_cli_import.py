"""``fitvault simulate --takeout`` writes an export; ``fitvault import`` lists, then loads it."""

from __future__ import annotations

import zipfile
from pathlib import Path

from typer.testing import CliRunner

from fitvault import cli
from fitvault._errors import ConfigError
from fitvault.vault import Vault

runner = CliRunner()


def test_simulate_then_import_dry_run_then_import(tmp_path: Path) -> None:
    out, vault = tmp_path / "takeout.zip", tmp_path / "vault"
    made = runner.invoke(cli.app, ["simulate", "--days", "1", "--takeout", str(out),
                                   "--layout", "google-health"])  # fmt: skip
    assert made.exit_code == 0, made.output
    dry = runner.invoke(cli.app, ["import", str(out), "--vault", str(vault), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would import heart-rate" in dry.output
    assert not vault.exists()
    done = runner.invoke(cli.app, ["import", str(out), "--vault", str(vault)])
    assert done.exit_code == 0, done.output
    assert "time zone" in done.output
    assert "0 failed" in done.output
    assert Vault(vault).status()["rows"]["heart_rate"] > 0


def test_import_of_a_missing_path_says_so(tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["import", str(tmp_path / "nope.zip"), "--vault",
                                     str(tmp_path / "v")])  # fmt: skip
    assert isinstance(result.exception, ConfigError)  # main() prints it and exits 2
    assert "no such file" in str(result.exception)


def test_simulate_accepts_the_issues_layout_names(tmp_path: Path) -> None:
    """``--layout 2026|2024|legacy`` pick the export's root folder."""
    roots = {"2026": "Takeout/Google Health/", "2024": "Takeout/Fitbit/",
             "legacy": "MyFitbitData/"}  # fmt: skip
    for layout, root in roots.items():
        out = tmp_path / f"{layout}.zip"
        made = runner.invoke(cli.app, ["simulate", "--days", "1", "--takeout", str(out),
                                       "--layout", layout])  # fmt: skip
        assert made.exit_code == 0, made.output
        with zipfile.ZipFile(out) as zf:
            assert all(n.startswith(root) for n in zf.namelist()), layout


def test_simulate_rejects_an_unknown_layout(tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["simulate", "--takeout", str(tmp_path / "t.zip"),
                                     "--layout", "1999"])  # fmt: skip
    assert isinstance(result.exception, ConfigError)
    assert "unknown --layout" in str(result.exception)

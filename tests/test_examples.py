"""The example notebooks run top to bottom against a synced vault."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fitvault.simulator.world import World
from fitvault.vault import Vault
from tests.conftest import NOW
from tests.test_export import TYPES, synced_types

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))


@pytest.fixture(scope="module")
def demo(world: World, tmp_path_factory: pytest.TempPathFactory) -> Vault:
    return synced_types(world, NOW, tmp_path_factory.mktemp("examples") / "vault", TYPES)


def test_there_are_example_notebooks() -> None:
    """The two tutorials are committed (and collected by the test below)."""
    assert [p.name for p in NOTEBOOKS] == ["heart_rate.ipynb", "sleep.ipynb"]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter's own path migration notice
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_runs_against_a_vault(
    demo: Vault, path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every cell runs without error (the cells assert on what they draw)."""
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("FITVAULT_HOME", str(demo.directory))
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute(env=dict(os.environ))
    errors = [
        out
        for cell in notebook.cells
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors
    assert any(
        out.get("output_type") == "display_data" and "image/png" in out.get("data", {})
        for cell in notebook.cells
        for out in cell.get("outputs", [])
    )

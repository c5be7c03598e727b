"""A small synthetic world across New York's fall-back, written as a Takeout zip once."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest

from fitvault.simulator.takeout import write_archive
from fitvault.simulator.world import World

# Four days up to 2026-11-05: the first night spans 2026-11-01 02:00 EDT → 01:00 EST.
NOW = dt.datetime(2026, 11, 5, 15, 0, tzinfo=dt.UTC)
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"


@pytest.fixture(scope="session")
def small_world() -> World:
    return World.default(days=4, seed=7, now=NOW)


@pytest.fixture(scope="session")
def world_zip(small_world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_archive(small_world, tmp_path_factory.mktemp("takeout") / "takeout-001.zip")


def make_zip(path: Path, files: dict[str, bytes | str], *, stored: bool = False) -> Path:
    """A zip holding ``files`` (name → content), deflated unless ``stored``."""
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, body in files.items():
            zf.writestr(name, body)
    return path

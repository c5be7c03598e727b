"""benchmarks/faults.py's pieces: the in-DuckDB table comparison tells a loss from a duplicate
(NaN, lists and structs included), and the jobs come longest first, each clean run first."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import duckdb
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "faults.py"


@pytest.fixture(scope="module")
def faults() -> ModuleType:
    spec = importlib.util.spec_from_file_location("faults_benchmark", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def vault_file(path: Path, rows: list[str]) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t (x DOUBLE, l INTEGER[], s STRUCT(a INTEGER, b VARCHAR))")
        for row in rows:
            con.execute(f"INSERT INTO t VALUES {row}")
    return path


def test_compare_counts_lost_and_duplicated_rows_as_multisets(
    faults: ModuleType, tmp_path: Path
) -> None:
    """A row missing is one lost, a row twice is one duplicated; NaN equals NaN, and lists and
    structs compare by value."""
    nan = "('NaN'::DOUBLE, [1, 2], {'a': 1, 'b': 'x'})"
    one = "(1.5, [], {'a': 2, 'b': NULL})"
    two = "(2.5, NULL, NULL)"
    want = vault_file(tmp_path / "want.duckdb", [nan, one, two, two])
    same = vault_file(tmp_path / "same.duckdb", [two, one, two, nan])
    got = vault_file(tmp_path / "got.duckdb", [nan, nan, one, two])
    tables = {"t": ["x", "l", "s"]}
    assert faults.compare_files(want, same, tables) == (0, 0)
    assert faults.compare_files(want, got, tables) == (1, 1)  # one `two` lost, one NaN row extra
    assert faults.compare_files(got, want, tables) == (1, 1)


def test_jobs_put_the_big_world_first_and_each_clean_run_before_its_faults(
    faults: ModuleType, tmp_path: Path
) -> None:
    """The year's two runs start at once on two workers; the small world's classes follow."""
    todo = faults.jobs(["503", "realistic", "reset"], 7, 365, tmp_path)
    assert [(j.fault, j.days) for j in todo] == [
        ("clean", 365),
        ("realistic", 365),
        ("clean", 7),
        ("503", 7),
        ("reset", 7),
    ]
    assert [(j.fault, j.days) for j in faults.jobs(["realistic"], 7, 0, tmp_path)] == []
    assert [j.fault for j in faults.jobs(["503"], 7, 365, tmp_path)] == ["clean", "503"]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_job_that_raises_comes_back_as_a_crash(
    faults: ModuleType, tmp_path: Path, workers: int
) -> None:
    """A job failing in the benchmark itself (here: a world never built) is a crash row, in a
    worker process as in-process, and the jobs after it still run."""
    todo = [faults.Job("503", 3, tmp_path), faults.Job("reset", 5, tmp_path)]
    outcomes = list(faults.run_all(todo, workers))
    assert [(o.job.fault, o.crashes, o.failed) for o in outcomes] == [
        ("503", 1, True),
        ("reset", 1, True),
    ]
    assert outcomes[0].notes == "CRASH KeyError: 3"


def test_refused_refreshes_stay_as_few_as_in_a_week_whatever_the_world(
    faults: ModuleType,
) -> None:
    """invalid-grant's 401 rate halves when the world doubles past 7 days (each refusal stops
    a run); the other classes keep their rates."""
    assert faults.rates("invalid-grant", 4) == {"401": 0.03, "invalid-grant": 1.0}
    assert faults.rates("invalid-grant", 14) == {"401": 0.015, "invalid-grant": 1.0}
    assert faults.rates("401", 365) == {"401": 0.03}
    assert faults.rates("clean", 365) == {}

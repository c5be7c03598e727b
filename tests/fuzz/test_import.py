"""Through ``import_archive``: a hostile member is either imported or refused by name with
nothing of it written, and the export's other member is imported either way."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fitvault import catalog
from fitvault.importer import import_archive
from fitvault.normalise import fitbit_legacy as legacy
from fitvault.normalise import takeout
from fitvault.store import Store
from tests.fuzz import seeds
from tests.fuzz.mutate import mutated

ROOT = "Takeout/Fitbit/"
BUDGET = settings(max_examples=10, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip


def _import(files: dict[str, bytes]) -> tuple[dict[str, str], dict[str, int], dict[str, int]]:
    """(errors by member, rows by imported member, row counts of every table) of one import
    into a fresh vault."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "takeout.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for name, body in files.items():
                zf.writestr(name, body)
        with Store(Path(tmp) / "vault") as store:
            summary = import_archive(store, [archive], zone="America/New_York")
            counts = store.counts([*catalog.TABLES, "_raw_pages"])
    errors = {name.partition(":")[2]: why for name, why in summary.errors}
    imported = {name.partition(":")[2]: rows for name, _, rows in summary.imported}
    return errors, imported, counts


def _tables_of(data_type: str) -> list[str]:
    return [t.name for t in catalog.get(data_type).tables]


@BUDGET
@given(data=st.data())
def test_a_hostile_member_is_refused_whole_and_the_rest_imported(data: st.DataObject) -> None:
    """Wrong types, nulls, NaN strings, bad dates, deep nesting, BOM/CRLF, non-UTF-8, cuts."""
    fam = data.draw(st.sampled_from(takeout.FAMILIES), label="family")
    path, seed = seeds.TAKEOUT[fam.name]
    good = "height" if fam.data_type != "height" else "steps"
    good_path, good_body = seeds.TAKEOUT[good]
    body = data.draw(mutated(seed), label="body")
    errors, imported, counts = _import({ROOT + path: body, ROOT + good_path: good_body})
    assert imported.get(good_path, 0) > 0, errors  # the good member landed whatever happened
    if path in errors:
        assert path not in imported
        assert all(counts[t] == 0 for t in _tables_of(fam.data_type)), counts
        assert counts["_raw_pages"] == 1
    else:
        stored = counts[catalog.table_of(fam.dtype).name]
        assert (0 < stored <= imported[path]) if imported[path] else stored == 0  # keys merge
        assert counts["_raw_pages"] == (2 if imported[path] else 1)


@BUDGET
@given(data=st.data())
def test_a_hostile_saved_response_is_refused_whole_and_the_rest_imported(
    data: st.DataObject,
) -> None:
    """Saved legacy API responses go the same way: all of a file's rows, or none."""
    kind = data.draw(st.sampled_from(legacy.KINDS), label="kind")
    good = "weight" if "weight" not in kind.data_types else "body_fat"
    body = data.draw(mutated(seeds.LEGACY[kind.name]), label="body")
    errors, imported, counts = _import({"saved/fuzzed.json": body,
                                        "saved/good.json": seeds.LEGACY[good]})  # fmt: skip
    assert imported.get("saved/good.json", 0) > 0, errors
    if "saved/fuzzed.json" in errors:
        assert "saved/fuzzed.json" not in imported
        assert all(counts[t] == 0 for name in kind.data_types for t in _tables_of(name))
        assert counts["_raw_pages"] == 1

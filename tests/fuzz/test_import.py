"""Through ``import_archive``: a hostile member is either imported or refused by name with
nothing of it written, and the export's other member is imported either way."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fitvault.normalise import fitbit_legacy as legacy
from fitvault.normalise import takeout
from tests.fuzz import pipelines, seeds
from tests.fuzz.mutate import mutated

BUDGET = settings(max_examples=6, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip


@BUDGET
@given(data=st.data())
def test_a_hostile_member_is_refused_whole_and_the_rest_imported(data: st.DataObject) -> None:
    """Wrong types, nulls, NaN strings, bad dates, deep nesting, BOM/CRLF, non-UTF-8, cuts."""
    fam = data.draw(st.sampled_from([f.name for f in takeout.FAMILIES]), label="family")
    body = data.draw(mutated(seeds.TAKEOUT[fam][1]), label="body")
    assert pipelines.import_member(fam, body) in ("rows", "refused")


@BUDGET
@given(data=st.data())
def test_a_hostile_saved_response_is_refused_whole_and_the_rest_imported(
    data: st.DataObject,
) -> None:
    """Saved legacy API responses go the same way: all of a file's rows, or none."""
    kind = data.draw(st.sampled_from([k.name for k in legacy.KINDS]), label="kind")
    body = data.draw(mutated(seeds.LEGACY[kind]), label="body")
    assert pipelines.import_saved(kind, body) in ("rows", "refused")

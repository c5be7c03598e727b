"""Through ``sync``: a type whose pages the server garbles is refused by name (or its rows
kept whole), nothing of the refused page is written, and the other type completes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz import pipelines, seeds
from tests.fuzz.mutate import mutated


@settings(max_examples=5, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(data=st.data())
def test_a_garbled_type_is_refused_alone(data: st.DataObject) -> None:
    """Truncated, mistyped, deeply nested or non-UTF-8 pages of one type."""
    name = data.draw(st.sampled_from(pipelines.SYNC_TYPES), label="type")
    body = data.draw(mutated(seeds.v4()[name]), label="body")
    assert pipelines.sync_page(name, body) in ("rows", "refused")

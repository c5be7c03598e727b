"""Every parser of outside input (each Takeout file family, each v4 data type, each legacy
response kind, the saved tables, the token files) turns hostile variants of a real-shaped
input into rows in the catalog's schema or a FitvaultError, never another exception."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.mutate import mutated
from tests.fuzz.targets import Target, all_targets, check

TARGETS = all_targets()
# A fixed, derandomised budget: the suite stays deterministic and under a minute;
# benchmarks/fuzz_parsers.py explores with a longer, random one.
BUDGET = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.id)
@BUDGET
@given(data=st.data())
def test_hostile_variants_are_rows_or_a_fitvault_error(target: Target, data: st.DataObject) -> None:
    """Wrong types, missing keys, nulls, huge numbers, NaN strings, bad dates, deep nesting,
    BOMs, CRLF, non-UTF-8 bytes and truncation, in the shape each parser reads."""
    body = data.draw(mutated(target.seed), label="body")
    assert check(target, body) in ("rows", "refused")


def test_every_family_kind_and_type_is_a_target() -> None:
    """A parser registered later is fuzzed without an edit here."""
    from fitvault import catalog
    from fitvault.normalise import fitbit_legacy, takeout

    names = {t.id for t in TARGETS}
    assert {f"takeout:{f.name}" for f in takeout.FAMILIES} <= names
    assert {f"v4:{t.name}" for t in catalog.STORED_TYPES} <= names
    assert {f"legacy:{k.name}" for k in fitbit_legacy.KINDS} <= names

"""Normalisers raise only DataError, whatever a page holds (property-based)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from fitvault import catalog
from fitvault._errors import DataError
from fitvault.normalise.google_health import normalise

TYPES = list(catalog.STORED_TYPES)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["NaN", "Infinity", "-14400s", "2026-11-01T00:00:00Z", "abc", "1e400"])
)
JSONISH = st.recursive(
    LEAVES,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids, max_size=4)
    ),
    max_leaves=25,
)


def _point_like(dtype: catalog.DataType, payload: Any) -> dict[str, Any]:
    """A point whose union member holds arbitrary JSON, so decoding goes deep before failing."""
    key = "rollupDataPoints" if dtype.rollup_only else "dataPoints"
    return {key: [{dtype.camel: payload, "dataSource": payload}]}


def _check(dtype: catalog.DataType, body: bytes) -> None:
    """Either a DataError, or rows in exactly the vault's schema (nothing else escapes)."""
    try:
        batch = normalise(dtype, body)
    except DataError:
        return
    for table in dtype.tables:
        if table.name in batch.tables:
            assert batch.tables[table.name].schema == table.schema


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(TYPES), JSONISH)
def test_any_json_in_a_point_is_rows_or_a_data_error(dtype: catalog.DataType, payload: Any) -> None:
    """Wrong types, missing members and odd numbers inside a point never escape as another
    exception."""
    _check(dtype, json.dumps(_point_like(dtype, payload), allow_nan=True).encode())


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(TYPES), JSONISH)
def test_any_json_document_is_rows_or_a_data_error(dtype: catalog.DataType, doc: Any) -> None:
    """Whole documents of the wrong shape (a list, a number, a page of strings)."""
    _check(dtype, json.dumps(doc, allow_nan=True).encode())


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(TYPES), st.binary(max_size=200))
def test_any_bytes_are_rows_or_a_data_error(dtype: catalog.DataType, body: bytes) -> None:
    """Truncated, binary or non-UTF-8 bodies."""
    _check(dtype, body)

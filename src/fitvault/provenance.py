"""Which source's row stands for a reading several sources saw (design decision 4) — a proposal.

The rule: sources are ranked, not last-writer-wins, so import order never matters.

1. ``google-health-api`` — the system of record: it carries the device and platform, and later
   syncs revise it;
2. ``fitbit-legacy-api`` — same data, older shapes, being retired;
3. ``takeout`` — a snapshot; its JSON families name no device, and some values are rounded
   or truncated by the export (weight in display-unit tenths).

A reading is "the same" when its natural key matches with a missing device matching any device
(the export's rows have none), and for sessions (sleep, exercise) when the intervals overlap
by at least half of the shorter one — never by exact start. Of each such group the
best-ranked source's row is kept and ``seen_by`` lists every source that saw it. Pure
functions on Arrow tables, so the store can apply them on read (a frame) or at merge.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

RANK = {"google-health-api": 0, "fitbit-legacy-api": 1, "takeout": 2}
UNRANKED = len(RANK)


def _ranks(rows: pa.Table) -> list[int]:
    return [RANK.get(s, UNRANKED) for s in rows.column("source").to_pylist()]


def _keep(rows: pa.Table, groups: list[int]) -> pa.Table:
    """Per group (an id per row), the best-ranked row, with every source of the group."""
    ranks = _ranks(rows)
    sources = rows.column("source").to_pylist()
    best: dict[int, int] = {}
    seen: dict[int, set[str]] = {}
    for i, g in enumerate(groups):
        seen.setdefault(g, set()).add(sources[i])
        if g not in best or ranks[i] < ranks[best[g]]:
            best[g] = i
    order = sorted(best.values())
    out = rows.take(pa.array(order, pa.int64()))
    seen_by = [sorted(seen[groups[i]], key=lambda s: (RANK.get(s, UNRANKED), s)) for i in order]
    return out.append_column("seen_by", pa.array(seen_by, pa.list_(pa.string())))


def prefer(rows: pa.Table, key: Sequence[str], *, wildcard: str = "device") -> pa.Table:
    """Rows of one table from several sources → one row per reading (see the module doc).

    ``key`` is the table's natural key; a null ``wildcard`` column matches any value of it
    when the rest of the key is equal and only one non-null value exists for it.
    """
    rest = [k for k in key if k != wildcard]
    cols = [rows.column(k).to_pylist() for k in rest]
    wild = rows.column(wildcard).to_pylist() if wildcard in key else [None] * rows.num_rows
    ids: dict[tuple[object, ...], int] = {}
    named: dict[tuple[object, ...], set[object]] = {}
    for i in range(rows.num_rows):
        named.setdefault(tuple(c[i] for c in cols), set()).add(wild[i])
    groups = []
    for i in range(rows.num_rows):
        base = tuple(c[i] for c in cols)
        devices = named[base] - {None}
        device = wild[i] if wild[i] is not None or len(devices) != 1 else next(iter(devices))
        groups.append(ids.setdefault((*base, device), len(ids)))
    return _keep(rows, groups)


def prefer_sessions(rows: pa.Table, *, min_overlap: float = 0.5) -> pa.Table:
    """Sessions (``start_time``, ``end_time``) from several sources → one per session: two
    sessions are the same when they overlap by ``min_overlap`` of the shorter one."""
    if rows.num_rows == 0:
        return rows.append_column("seen_by", pa.array([], pa.list_(pa.string())))
    order = pc.sort_indices(rows, [("start_time", "ascending")]).to_pylist()
    start = [t.timestamp() for t in rows.column("start_time").to_pylist()]
    end = [t.timestamp() for t in rows.column("end_time").to_pylist()]
    groups = [0] * rows.num_rows
    current, g_start, g_end = -1, 0.0, 0.0
    for i in order:
        shared = min(end[i], g_end) - max(start[i], g_start)
        shorter = max(min(end[i] - start[i], g_end - g_start), 1.0)
        if current < 0 or shared < min_overlap * shorter:
            current, g_start, g_end = current + 1, start[i], end[i]
        groups[i] = current
    return _keep(rows, groups)

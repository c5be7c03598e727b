"""One row per reading, whichever sources saw it and in whatever order (design decision 4).

Sources are ranked, never last-writer-wins, so the order of syncs and imports does not matter:

1. ``google-health-api`` — the system of record: it names the device and platform, and later
   syncs revise it;
2. ``fitbit-legacy`` — the same data from the retired API: no device, 1-second or 1-minute
   resolution, times in the profile's zone;
3. ``takeout`` — a snapshot: its files name no device, and some values are rounded by the
   export (weight in tenths of the display unit).

A vault table holds one row per reading: the best-ranked source's. Every other source's row for
that reading is kept in ``_others_<table>`` (same columns), so that when the winner goes — a
later read of its source no longer has it — the next-best row comes back, and so that
``seen_by`` can list every source that saw a reading. A row that a later read of the *same*
source changes or drops is copied to ``_revisions`` (old and new as JSON) before it is replaced.

"The same reading": samples, intervals and daily rows match on their natural key, a missing
device matching any device (export and legacy rows name none); sessions (sleep, exercise, …)
match when they overlap by at least half of the shorter one — never by exact start; and an
interval over an hour long (a day's total) is one reading with the finer intervals of the same
day inside it, so a daily sum never counts both.

While a table holds rows of one source only (``_sources`` says which), a merge takes the fast
path: the rows are replaced in place, nothing to rank.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fitvault.catalog import DataType, RecordKind, Table

RANK = {"google-health-api": 0, "fitbit-legacy": 1, "takeout": 2}
MIN_OVERLAP = 0.5  # of the shorter session
WINNERS_DROPPED = "r._in = 't'"  # rows of _m_old that stood in the table
COARSE = "1 HOUR"  # an interval longer than this is a total that finer rows may spell out
NEAR_INTERVAL = dt.timedelta(days=3)  # Shape.near: intervals of one local date start closer
DDL = """
CREATE TABLE IF NOT EXISTS _sources (table_name VARCHAR, source VARCHAR,
    PRIMARY KEY (table_name, source));
CREATE TABLE IF NOT EXISTS _revisions (table_name VARCHAR, source VARCHAR,
    revised_at TIMESTAMPTZ, change VARCHAR, old JSON, new JSON);
"""


def rank(source: str) -> tuple[int, str]:
    """Sort key: better sources first; unknown ones after, by name (a total order)."""
    return (RANK.get(source, len(RANK)), source)


def others(table: str) -> str:
    """The table holding every other source's row of a reading."""
    return f"_others_{table}"


def _sql_value(value: object) -> str:
    """A key bound as a SQL literal (a constant, so DuckDB can skip row groups with it)."""
    if isinstance(value, dt.datetime):
        return f"TIMESTAMPTZ '{value.isoformat()}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    raise TypeError(f"no SQL literal for a key of type {type(value).__name__}")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _rank_sql(column: str) -> str:
    whens = " ".join(f"WHEN '{s}' THEN {r}" for s, r in RANK.items())
    return f"(CASE {column} {whens} ELSE {len(RANK)} END)"


@dataclass(frozen=True)
class Shape:
    """How the rows of one top-level table match across sources."""

    table: Table
    children: tuple[Table, ...]
    sessions: bool
    intervals: bool = False

    @classmethod
    def of(cls, dtype: DataType, table: Table) -> Shape:
        children = tuple(t for t in dtype.tables if t.parent == table.name)
        main = table is dtype.tables[0]
        sessions = dtype.record_kind is RecordKind.SESSION and main
        intervals = (
            dtype.record_kind is RecordKind.INTERVAL
            and main
            and {"start_time", "end_time", "local_date"} <= set(table.column_names)
        )
        return cls(table, children, sessions, intervals)

    @property
    def name(self) -> str:
        return self.table.name

    def exact(self, a: str, b: str) -> str:
        """Same natural key (rows of one source)."""
        return " AND ".join(f'{a}."{k}" IS NOT DISTINCT FROM {b}."{k}"' for k in self.table.key)

    def same(self, a: str, b: str) -> str:
        """The same reading seen by two sources (see the module doc)."""
        skip = {"device", "start_time"} if self.sessions else {"device"}
        parts = [
            f'{a}."{k}" IS NOT DISTINCT FROM {b}."{k}"' for k in self.table.key if k not in skip
        ]
        if "device" in self.table.key:
            parts.append(f"({a}.device IS NULL OR {b}.device IS NULL OR {a}.device = {b}.device)")
        if self.sessions:
            s = (
                f"epoch(least({a}.end_time, {b}.end_time)) - "
                f"epoch(greatest({a}.start_time, {b}.start_time))"
            )
            shorter = (
                f"greatest(least(epoch({a}.end_time) - epoch({a}.start_time), "
                f"epoch({b}.end_time) - epoch({b}.start_time)), 1)"
            )
            parts += [
                f"{a}.start_time < {b}.end_time AND {b}.start_time < {a}.end_time",
                f"{s} >= {MIN_OVERLAP} * {shorter}",
            ]
        return " AND ".join(parts)

    def covers(self, a: str, b: str) -> str:
        """Interval ``a`` is a coarse total (over an hour: a day's steps from the legacy API)
        holding the finer interval ``b`` of the same day: one count told twice."""
        extra = [
            f'{a}."{k}" IS NOT DISTINCT FROM {b}."{k}"'
            for k in self.table.key
            if k not in ("start_time", "device")
        ]
        return " AND ".join([
            f"{a}.local_date = {b}.local_date",
            f"{a}.end_time - {a}.start_time > INTERVAL {COARSE}",
            f"{b}.end_time - {b}.start_time < {a}.end_time - {a}.start_time",
            f"{a}.start_time <= {b}.start_time AND {b}.end_time <= {a}.end_time",
            f"({a}.device IS NULL OR {b}.device IS NULL OR {a}.device = {b}.device)",
            *extra,
        ])  # fmt: skip

    def relations(self, a: str, b: str) -> list[str]:
        """Each way rows ``a`` and ``b`` can be one reading (checked one join at a time)."""
        if self.intervals:
            return [self.same(a, b), self.covers(a, b), self.covers(b, a)]
        return [self.same(a, b)]

    def near(self, alias: str, keys: tuple[object, object] | None, hops: int = 1) -> str:
        """A predicate every row of ``alias`` meets that can be the same reading as a row whose
        first key lies in ``keys`` (``hops`` relations away): one range on that column, which
        DuckDB answers from row-group statistics, so a merge into a long history reads only the
        batch's stretch of it instead of the whole table. Samples and daily rows match on the
        key itself; an interval also matches a coarse one of the same local date, which starts
        at most ~50 h apart; sessions match by overlap, of any length, and are not narrowed."""
        if keys is None or self.sessions:
            return "TRUE"
        lo, hi = keys
        if self.intervals:
            lo, hi = lo - hops * NEAR_INTERVAL, hi + hops * NEAR_INTERVAL  # type: ignore[operator]
        return f'{alias}."{self.table.key[0]}" BETWEEN {_sql_value(lo)} AND {_sql_value(hi)}'

    def exists(self, table: str, alias: str, other: str, where: str = "TRUE") -> str:
        """Some row of ``table`` (as ``alias``, filtered by ``where``) is ``other``'s reading."""
        return (
            "("
            + " OR ".join(
                f"EXISTS (SELECT 1 FROM {table} {alias} WHERE {where} AND {rel})"
                for rel in self.relations(alias, other)
            )
            + ")"
        )

    def struct(self, alias: str) -> str:
        return (
            "struct_pack("
            + ", ".join(f'"{c}" := {alias}."{c}"' for c in self.table.column_names)
            + ")"
        )


class Merger:
    """The merge of one batch of one source into one table and its children (the caller holds
    the transaction). Working sets live in temporary tables named ``_m_*``."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        revisions: bool = True,
        known: dict[str, set[str]] | None = None,
    ) -> None:
        """``known`` caches ``_sources`` for as long as the caller holds the file (no other
        process can write meanwhile); the caller drops it when it lets go or rolls back."""
        self.con = con
        self.revisions = revisions
        self.known = known if known is not None else {}
        self._batch_rows = 0
        self._key_range: tuple[object, object] = (None, None)
        self._near_keys: tuple[object, object] | None = None  # Shape.near's, for this batch

    def sources(self, table: str) -> set[str]:
        if table not in self.known:
            rows = self.con.execute(
                "SELECT source FROM _sources WHERE table_name = ?", [table]
            ).fetchall()
            self.known[table] = {r[0] for r in rows}
        return self.known[table]

    def merge(
        self,
        shape: Shape,
        rows: pa.Table | None,
        children: dict[str, pa.Table],
        source: str,
        spans: Sequence[tuple[object, object]],
    ) -> None:
        """Replace ``source``'s rows in ``spans`` and at the batch's keys with the batch, keeping
        one row per reading across sources (see the module doc)."""
        batch = rows if rows is not None else shape.table.schema.empty_table()
        batch = self._dedupe(shape.table.key, batch)
        children = {
            c.name: self._dedupe(c.key, children[c.name])
            for c in shape.children
            if c.name in children
        }
        self.con.register("_m_batch", batch)
        try:
            self._batch_rows = batch.num_rows
            self._near_keys = None
            if batch.num_rows:
                keys = batch.column(shape.table.key[0])
                mm = pc.min_max(keys)
                self._key_range = (mm["min"].as_py(), mm["max"].as_py())
                if not keys.null_count:  # a null key matches a null one, which no range holds
                    self._near_keys = self._key_range
            present = self.sources(shape.name)
            mixed = bool(present - {source})
            old = self._drop_old(shape, source, spans, mixed)
            if mixed:
                if old is not None:
                    self._promote(shape, source, present, old)
                self._place(shape, source, children)
            else:
                self._insert_all(shape, children)
            if batch.num_rows and source not in present:
                self.con.execute("INSERT INTO _sources VALUES (?, ?)", [shape.name, source])
                self.known[shape.name] = present | {source}
        finally:
            self.con.unregister("_m_batch")
            self.con.unregister("_m_old")

    # --- steps --------------------------------------------------------------------------------

    def _dedupe(self, key: Sequence[str], batch: pa.Table) -> pa.Table:
        """A key repeated in the batch (pages overlapping at their edges) keeps the later row."""
        if batch.num_rows < 2 or not _repeats_a_key(batch, key):
            return batch
        keys = ", ".join(f'"{k}"' for k in key)
        numbered = batch.append_column("_n", pa.array(range(batch.num_rows), pa.int64()))
        self.con.register("_m_in", numbered)
        try:
            return self.con.sql(
                "SELECT * EXCLUDE (_n) FROM _m_in "
                f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY _n DESC) = 1"
            ).to_arrow_table()
        finally:
            self.con.unregister("_m_in")

    def _drop_old(
        self, shape: Shape, source: str, spans: Sequence[tuple[object, object]], mixed: bool
    ) -> pa.Table | None:
        """Delete the source's rows the batch answers for: those in its spans and those at its
        keys, wherever they stand; a changed or dropped row goes to the revision history."""
        rc, key0 = shape.table.range_column, shape.table.key[0]
        # One simple range predicate per select, so DuckDB skips the row groups outside it.
        wheres: list[tuple[str, list[object]]] = [
            (f'x.source = ? AND x."{rc}" >= ? AND x."{rc}" < ?', [source, lo, hi])
            for lo, hi in spans
        ]
        if self._batch_rows and not _within(self._key_range, spans if rc == key0 else ()):
            lo, hi = self._key_range
            wheres.append(
                (
                    f'x.source = ? AND x."{key0}" BETWEEN ? AND ? AND EXISTS '
                    f"(SELECT 1 FROM _m_batch b WHERE {shape.exact('x', 'b')})",
                    [source, lo, hi],
                )
            )
        parts = []
        tables = [(shape.name, "t")] + ([(others(shape.name), "o")] if mixed else [])
        for name, tag in tables:
            for where, values in wheres:
                gone = self.con.sql(
                    f"DELETE FROM {name} x WHERE {where} RETURNING *", params=values
                ).to_arrow_table()
                if gone.num_rows:
                    gone = gone.select(shape.table.column_names)
                    parts.append(gone.append_column("_in", pa.array([tag] * gone.num_rows)))
        if not parts:
            return None
        old = pa.concat_tables(parts)
        self.con.register("_m_old", old)
        if self.revisions:
            self._record_revisions(shape, source)
        for child in shape.children:
            for name in (child.name, others(child.name)):
                self.con.execute(
                    f"DELETE FROM {name} WHERE source = ? AND {child.parent_key} IN "
                    f"(SELECT {shape.table.key[0]} FROM _m_old)",
                    [source],
                )
        return old

    def _record_revisions(self, shape: Shape, source: str) -> None:
        key0 = shape.table.key[0]
        values = [c for c in shape.table.column_names if c not in shape.table.key]
        changed = " OR ".join(f'o."{c}" IS DISTINCT FROM b."{c}"' for c in values) or "FALSE"
        self.con.execute(
            "INSERT INTO _revisions SELECT ?, ?, now(), "
            f"CASE WHEN b.\"{key0}\" IS NULL THEN 'removed' ELSE 'changed' END, "
            f"to_json({shape.struct('o')}), "
            f'CASE WHEN b."{key0}" IS NULL THEN NULL ELSE to_json({shape.struct("b")}) END '
            f"FROM _m_old o LEFT JOIN _m_batch b ON {shape.exact('o', 'b')} "
            f'WHERE b."{key0}" IS NULL OR {changed}',
            [shape.name, source],
        )

    def _promote(self, shape: Shape, source: str, present: set[str], old: pa.Table) -> None:
        """Where a dropped winner shadowed other sources' rows, the best of them comes back."""
        keys = _key_range(old, shape)
        near_o, near_t = shape.near("o", keys), shape.near("t", keys, hops=2)
        for other in sorted(present - {source}, key=rank):
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE _m_move AS "
                f"SELECT o.rowid AS _rid, o.* FROM {others(shape.name)} o WHERE {near_o} "
                f"AND o.source = ? AND {shape.exists('_m_old', 'r', 'o', WINNERS_DROPPED)} "
                f"AND NOT {shape.exists(shape.name, 't', 'o', near_t)}",
                [other],
            )
            self._move(shape, from_others=True, near=shape.near("t", keys))

    def _place(self, shape: Shape, source: str, children: dict[str, pa.Table]) -> None:
        """Batch rows that a better source already holds go to the others; the rest replace
        the worse sources' rows, which go to the others."""
        r, level, lit = _rank_sql("t.source"), rank(source)[0], _literal(source)
        better = f"t.source <> {lit} AND ({r} < {level} OR ({r} = {level} AND t.source < {lit}))"
        near = shape.near("t", self._near_keys)
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE _m_lose AS SELECT b.* FROM _m_batch b WHERE "
            + shape.exists(shape.name, "t", "b", f"{near} AND {better}")
        )
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE _m_win AS SELECT b.* FROM _m_batch b WHERE NOT EXISTS "
            f"(SELECT 1 FROM _m_lose l WHERE {shape.exact('l', 'b')})"
        )
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE _m_move AS "
            f"SELECT t.rowid AS _rid, t.* FROM {shape.name} t WHERE {near} AND t.source <> ? "
            f"AND {shape.exists('_m_win', 'b', 't')}",
            [source],
        )
        self._move(shape, from_others=False, near=near)
        self.con.execute(f"INSERT INTO {shape.name} BY NAME SELECT * FROM _m_win")
        self.con.execute(f"INSERT INTO {others(shape.name)} BY NAME SELECT * FROM _m_lose")
        key0 = shape.table.key[0]
        for child in shape.children:
            rows = children.get(child.name)
            if rows is None or not rows.num_rows:
                continue
            self.con.register("_m_child", rows)
            try:
                for target, parents in ((child.name, "_m_win"), (others(child.name), "_m_lose")):
                    self.con.execute(
                        f"INSERT INTO {target} BY NAME SELECT * FROM _m_child WHERE "
                        f"{child.parent_key} IN (SELECT {key0} FROM {parents})"
                    )
            finally:
                self.con.unregister("_m_child")

    def _insert_all(self, shape: Shape, children: dict[str, pa.Table]) -> None:
        self.con.execute(f"INSERT INTO {shape.name} BY NAME SELECT * FROM _m_batch")
        for child in shape.children:
            rows = children.get(child.name)
            if rows is not None and rows.num_rows:
                self.con.register("_m_child", rows)
                try:
                    self.con.execute(f"INSERT INTO {child.name} BY NAME SELECT * FROM _m_child")
                finally:
                    self.con.unregister("_m_child")

    def _move(self, shape: Shape, *, from_others: bool, near: str = "TRUE") -> None:
        """Move the rows in ``_m_move`` (with their children) between a table and its others;
        ``near`` (on alias ``t``) holds for every row moved."""
        src, dst = shape.name, others(shape.name)
        if from_others:
            src, dst = dst, src
        self.con.execute(f"INSERT INTO {dst} BY NAME SELECT * EXCLUDE (_rid) FROM _m_move")
        self.con.execute(
            f"DELETE FROM {src} t WHERE {near} AND t.rowid IN (SELECT _rid FROM _m_move)"
        )
        key0 = shape.table.key[0]
        for child in shape.children:
            csrc, cdst = child.name, others(child.name)
            if from_others:
                csrc, cdst = cdst, csrc
            match = (
                f"EXISTS (SELECT 1 FROM _m_move m WHERE m.{key0} = c.{child.parent_key} "
                "AND m.source = c.source)"
            )
            self.con.execute(f"INSERT INTO {cdst} BY NAME SELECT c.* FROM {csrc} c WHERE {match}")
            self.con.execute(f"DELETE FROM {csrc} c WHERE {match}")

    # --- whole tables -------------------------------------------------------------------------

    def resolve(self, shape: Shape) -> None:
        """Bring a table written by last-writer-wins (schema ≤ 2) to one row per reading: from
        the second-best source down, rows a better remaining row stands for go to the others."""
        present = sorted(self.sources(shape.name), key=rank)
        for i, source in enumerate(present[1:], 1):
            better = ", ".join(_literal(s) for s in present[:i])
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE _m_move AS "
                f"SELECT o.rowid AS _rid, o.* FROM {shape.name} o WHERE o.source = ? AND "
                + shape.exists(shape.name, "t", "o", f"t.source IN ({better})"),
                [source],
            )
            self._move(shape, from_others=False)


def shapes(types: Iterable[DataType]) -> list[Shape]:
    """The top-level tables of these types with their children."""
    return [Shape.of(d, t) for d in types for t in d.tables if t.parent is None]


def seen_by_sql(shape: Shape, where: str = "TRUE") -> str:
    """The table's rows with ``seen_by``: every source that saw the reading, best first."""
    found = (
        f"SELECT DISTINCT o.source AS s, {_rank_sql('o.source')} AS r FROM {others(shape.name)} o "
        f"WHERE o.source <> t.source AND ({' OR '.join(shape.relations('t', 'o'))})"
    )
    return (
        f"SELECT t.*, list_prepend(t.source, coalesce((SELECT list(s ORDER BY r, s) FROM "
        f"({found})), [])) AS seen_by FROM {shape.name} t WHERE {where}"
    )


def _key_range(rows: pa.Table, shape: Shape) -> tuple[object, object] | None:
    """The least and greatest first key of ``rows``; None when a key is missing (a null key
    matches a null one, which no range holds) or there are no rows."""
    column = rows.column(shape.table.key[0])
    if not rows.num_rows or column.null_count:
        return None
    mm = pc.min_max(column)
    return (mm["min"].as_py(), mm["max"].as_py())


def _repeats_a_key(rows: pa.Table, key: Sequence[str]) -> bool:
    if _climbs(rows.column(key[0])):
        return False  # readings in time order: a leading key that only climbs repeats nothing
    if pc.count_distinct(rows.column(key[0])).as_py() == rows.num_rows:
        return False  # the leading key column alone tells the rows apart
    if len(key) == 1:
        return True
    return bool(rows.group_by(list(key)).aggregate([]).num_rows < rows.num_rows)


def _within(key_range: tuple[object, object], spans: Sequence[tuple[object, object]]) -> bool:
    """Whether one span holds every key of the batch (then the span's rows include them)."""
    lo, hi = key_range
    try:
        return any(a <= lo and hi < b for a, b in spans)  # type: ignore[operator]
    except TypeError:
        return False


def _climbs(column: pa.ChunkedArray) -> bool:
    """Whether a numeric or time column has no nulls and strictly increases: a check that costs
    a fraction of counting distinct values (a million heart-rate readings per import batch)."""
    kind = column.type
    if column.null_count or not (pa.types.is_integer(kind) or pa.types.is_temporal(kind)):
        return False
    values = column.to_numpy()
    return bool(np.all(values[1:] > values[:-1]))

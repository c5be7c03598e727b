"""``fitvault import`` of saved legacy Fitbit Web API responses, beside Takeout archives.

The importer hands every member no Takeout family reads to ``import_member``: a file a
tutorial's script wrote (``json.dump`` of a response, or its ``*.csv`` / ``*.xlsx`` table of
intraday heart rate) is recognised by its shape (``normalise.fitbit_legacy.saved``), its rows
committed per data type it fills with the span each answers for, and its body kept once as a
raw page with ``source="fitbit-legacy"`` (as the live legacy sync keeps its answers), so
``fitvault rebuild`` replays it into every type through the same normalisers (``replay``). A
file that is not one is reported as unknown with the reason; a damaged one as failed; nothing
of it is written, and the other files go on.

Units: the saved bodies do not say which ``Accept-Language`` fetched them. python-fitbit, the
library the tutorials use, sends ``en_US`` unless told otherwise, so distance, elevation and
weight are read as miles, feet and pounds (``DEFAULT_UNITS``; the request records it).

A day's activity total (a time series) and that day's intraday intervals of the same table
are alternatives, not addends: a total is dropped where the vault already holds the day's
finer rows (from any source), and an intraday body replaces the total of its day (its span is
the day).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from fitvault import catalog
from fitvault._errors import DataError
from fitvault.catalog import DataType, RecordKind
from fitvault.normalise import fitbit_legacy as legacy
from fitvault.normalise.fitbit_legacy import saved
from fitvault.sources.takeout import Member, MemberError
from fitvault.store import RawPage, Store

if TYPE_CHECKING:
    from fitvault.importer import ImportSummary

SOURCE = legacy.SOURCE
Span = tuple[int, int]
DEFAULT_UNITS = "en_US"
# Members worth opening: what the tutorials wrote (JSON, sometimes with a .txt/.log name).
_SUFFIXES = (".json", ".txt", ".log", ".csv", ".xlsx")
_PROFILE_LIMIT = 1 << 20


def candidate(path: str) -> bool:
    return path.lower().endswith(_SUFFIXES)


def profile_zone(members: Sequence[Member]) -> str | None:
    """The zone of a saved ``profile.json`` among the members, if there is one."""
    for member in members:
        if "profile" in member.path.lower() and member.path.lower().endswith(".json"):
            try:
                zone = legacy.profile_zone(member.read(_PROFILE_LIMIT))
            except MemberError:
                continue
            if zone:
                return zone
    return None


def import_member(
    store: Store | None,
    member: Member,
    zone: str,
    summary: ImportSummary,
    *,
    fetched_at: dt.datetime,
    limit: int,
    dry_run: bool = False,
    units: str = DEFAULT_UNITS,
) -> None:
    """Recognise one member and commit its rows (see the module doc); the outcome goes into
    ``summary``: imported, skipped (a known shape with no table), failed or unknown."""
    name = f"{member.archive}:{member.path}"
    try:
        body = member.read(limit)
        found = saved.read(member.path, body, zone, units=units)
    except (MemberError, DataError) as exc:
        summary.errors.append((name, str(exc)))
        return
    if found is None:
        summary.unknown.append(f"{name} ({saved.why_unknown(member.path, body)})")
        return
    if isinstance(found, str):
        summary.skipped.append((name, found))
        return
    batches = [b for b in found.batches() if _rows(b[1], b[0])]
    if not batches:
        summary.imported.append((name, found.kind, 0))
        return
    if not dry_run and store is not None:
        request = {"archive": member.archive, "file": member.path, "zone": zone,
                   "units": units, "kind": found.kind}  # fmt: skip
        raw: RawPage | None = RawPage(batches[0][0].name, SOURCE, request, body, fetched_at)
        for dtype, tables, span in batches:  # the body is kept once: rebuild fills every type
            _commit(store, dtype, tables, span, raw)
            raw = None
    dtype, tables, _ = batches[0]
    summary.imported.append((name, dtype.name, 0 if dry_run else _rows(tables, dtype)))


def _rows(tables: dict[str, pa.Table], dtype: DataType) -> int:
    main = catalog.table_of(dtype).name
    return int(tables[main].num_rows) if main in tables else 0


def _commit(
    store: Store,
    dtype: DataType,
    tables: dict[str, pa.Table],
    span: Span | None,
    raw: RawPage | None,
) -> None:
    if span is None:
        tables = drop_covered_days(store, dtype, tables)
    store.commit(
        dtype, tables, source=SOURCE, replaces=[span] if span else [], covered=None,
        raws=[(raw, span)] if raw else [],
    )  # fmt: skip


def drop_covered_days(
    store: Store, dtype: DataType, tables: dict[str, pa.Table]
) -> dict[str, pa.Table]:
    """Day totals of an interval table without the days that already hold finer rows (of any
    source: the API's or an export's minutes of the day make its total redundant)."""
    if dtype.record_kind is not RecordKind.INTERVAL:
        return tables
    spec = catalog.table_of(dtype)
    rows = tables.get(spec.name)
    if rows is None or rows.num_rows == 0:
        return tables
    days = rows.column("local_date")
    finer = store.df(
        f"SELECT DISTINCT local_date FROM {spec.name} WHERE local_date BETWEEN ? AND ? "
        "AND end_time - start_time < INTERVAL 1 DAY",
        [pc.min(days).as_py(), pc.max(days).as_py()],
    )
    if finer.empty:
        return tables
    covered = pa.array([d.date() if hasattr(d, "date") else d for d in finer["local_date"]])
    keep = pc.invert(pc.is_in(days, value_set=covered.cast(pa.date32())))
    return {**tables, spec.name: rows.filter(keep)}


def replay(
    page: RawPage, store: Store | None = None, replaces: Sequence[Span] = ()
) -> list[tuple[DataType, dict[str, pa.Table], list[Span]]]:
    """A kept legacy raw page → the rows of every data type its body fills, each with what it
    replaces (``fitvault rebuild``). The page's own type replaces the span kept with it; the
    others their normaliser's span. A day total gives way to finer rows already rebuilt.

    Pages of saved files name the ``file`` (its name tells a table from JSON); pages of the
    live sync are the response body and name the request ``path`` (whose date stands in for
    a body without one). Both record the ``zone`` they were read in, and ``units`` (metric
    when absent) and ``utc`` (``timezone=UTC``) where they apply.
    """
    req: dict[str, Any] = page.request
    zone = str(req.get("zone") or "UTC")
    units = str(req.get("units") or "METRIC")
    if req.get("file"):
        found = saved.read(str(req["file"]), page.body, zone, units=units)
        if not isinstance(found, legacy.Parsed):
            raise DataError(f"no legacy parser reads {req['file']!r} any more")
    else:
        day = saved.date_in_name(str(req.get("day") or req.get("path") or ""))
        found = legacy.parse(page.body, zone, units=units, day=day, utc=bool(req.get("utc")))
    out = []
    for dtype, tables, span in found.batches():
        own = dtype.name == page.data_type
        spans = list(replaces) if own else [span] if span else []
        if store is not None and span is None:
            tables = drop_covered_days(store, dtype, tables)
        out.append((dtype, tables, spans))
    return out

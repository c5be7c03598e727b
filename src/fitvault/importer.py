"""Import a Google Takeout / Fitbit export into the vault through the sync's loader.

Each member a parser reads becomes one raw page (``source="takeout"``, the request naming the
archive, the member and the zone it was read with) committed with its rows and its coverage
(``Store.commit``), several members of one type to a transaction: a damaged member is never
added, so it leaves nothing behind and the rest is imported; importing the same export again
replaces its own rows and raw pages (each member's span is answered for again), so twice is
once. The page is kept by reference — the archive's absolute path, the member's name, size and
SHA-256 — not as a second copy: the export is already on the user's disk, and compressing a
5-year export into the vault cost a fifth of the import. ``fitvault rebuild`` replays the pages
with ``replay``, which re-reads the member and says so plainly when the archive moved, went or
changed. Every member ends up in the summary: imported, skipped with a reason, or unknown.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from fitvault import legacy_import
from fitvault._errors import DataError
from fitvault.normalise import takeout as parsers
from fitvault.normalise.takeout._common import Context, csv_rows
from fitvault.sources.takeout import (
    MAX_MEMBER_BYTES,
    MAX_TOTAL_BYTES,
    Member,
    MemberError,
    inventory,
    read_reference,
)
from fitvault.store import MEMORY_LIMIT as STORE_MEMORY
from fitvault.store import RawPage, Store
from fitvault.sync import release_freed_memory

log = logging.getLogger(__name__)

SOURCE = parsers.SOURCE
PROFILES = ("Your Profile/Profile.csv", "Personal & Account/Profile.csv", "Profile.csv")
Progress = Callable[[int, int, str], None]
BATCH_ROWS = 1 << 19  # rows per transaction: ~30 days of 5 s heart rate, ~25 MB of Arrow
GAP_US = 2 * 86_400_000_000  # members further apart than this are not batched together
READ_AHEAD = 2
# DuckDB's buffer while importing: the import appends whole row groups and reads back only the
# span it replaces, so the cache buys little; 64 MB once failed a commit ("failed to pin block").
IMPORT_MEMORY = "128MB"


@dataclass(frozen=True)
class Limits:
    member_bytes: int = MAX_MEMBER_BYTES
    total_bytes: int = MAX_TOTAL_BYTES


@dataclass
class ImportSummary:
    """What happened to every member of the export."""

    zone: str
    zone_from: str  # "option" | "profile" | "vault" | "default"
    imported: list[tuple[str, str, int]] = field(default_factory=list)  # (member, type, rows)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (member, reason)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (member, what went wrong)
    unknown: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def rows(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for _, dtype, n in self.imported:
            out[dtype] = out.get(dtype, 0) + n
        return dict(sorted(out.items()))

    def lines(self) -> list[str]:
        verb = "to import" if self.dry_run else "imported"
        out = [f"time zone {self.zone} (from {self.zone_from})"]
        out += [f"{verb} {n} {dtype} rows" if not self.dry_run else f"would import {dtype}"
                for dtype, n in self.rows.items()]  # fmt: skip
        out.append(
            f"{len(self.imported)} files {verb}, {len(self.errors)} failed, "
            f"{len(self.skipped)} skipped, {len(self.unknown)} unknown"
        )
        out += [f"failed: {m}: {why}" for m, why in self.errors]
        out += [f"skipped: {m}: {why}" for m, why in self.skipped]
        out += [f"unknown: {m}" for m in self.unknown]
        return out


def import_archive(
    store: Store | None,
    paths: Sequence[str | Path],
    *,
    zone: str | None = None,
    fallback_zone: str | None = None,
    weight_unit: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    limits: Limits = Limits(),
    now: dt.datetime | None = None,
) -> ImportSummary:
    """Import zips / folders of one export (the parts of a multi-part export together).

    The zone for local times is ``zone`` if given, else the export's ``Profile.csv``, else
    ``fallback_zone`` (the vault's, from a sync), else UTC. ``store`` may be None for a dry run.
    ``progress(done, total, member)`` counts uncompressed bytes across all parts.
    """
    with inventory(paths) as inv:
        ctx, zone_from = _context(inv.members, zone, fallback_zone, weight_unit)
        if zone_from in ("vault", "default") and (saved := legacy_import.profile_zone(inv.members)):
            ctx, zone_from = Context(saved, ctx.weight_unit), "profile"
        summary = ImportSummary(ctx.zone, zone_from, dry_run=dry_run)
        summary.errors += [(name, why) for name, why in inv.refused]
        summary.skipped += [(name, "the same file was read from an earlier part or folder")
                            for name in inv.duplicates]  # fmt: skip
        legacy: list[Member] = []  # saved legacy API responses, read by legacy_import
        plan = _plan(inv.members, limits, summary, dry_run or store is None, legacy)
        if plan and store is not None:
            batch = _Batch(store, summary, now or dt.datetime.now(dt.UTC))
            with _buffer_limit(store, IMPORT_MEMORY):
                _run(plan, ctx, limits, batch, progress)
        for member in legacy:
            legacy_import.import_member(
                store, member, ctx.zone, summary, fetched_at=now or dt.datetime.now(dt.UTC),
                limit=limits.member_bytes, dry_run=dry_run,
            )  # fmt: skip
    return summary


@contextlib.contextmanager
def _buffer_limit(store: Store, limit: str) -> Iterator[None]:
    """DuckDB's buffer for the import only: the import appends and never reads back, so a
    small buffer costs nothing, and at the store's 1 GB the cached blocks of a growing
    heart-rate table made peak memory grow with the export."""
    store.con.execute(f"SET memory_limit = '{limit}'")
    try:
        yield
        store.con.execute("CHECKPOINT")  # within the limit, not at close under the store's
    finally:
        store.con.execute(f"SET memory_limit = '{STORE_MEMORY}'")


def _plan(
    members: Sequence[Member],
    limits: Limits,
    summary: ImportSummary,
    dry_run: bool,
    legacy: list[Member],
) -> list[tuple[Member, parsers.Family]]:
    """The members a family reads, in order; saved legacy API responses go to ``legacy``; the
    rest go straight into the summary."""
    plan, total = [], 0
    for member in members:
        name = f"{member.archive}:{member.path}"
        fam = parsers.classify(member.path)
        if fam is None and legacy_import.candidate(member.path):
            legacy.append(member)
        elif fam is None:
            summary.unknown.append(name)
        elif isinstance(fam, str):
            summary.skipped.append((name, fam))
        elif dry_run:
            summary.imported.append((name, fam.data_type, 0))
        elif refusal := _refusal(member, limits, total):
            summary.errors.append((name, refusal))
        else:
            total += member.size
            plan.append((member, fam))
    return plan


def _run(
    plan: Sequence[tuple[Member, parsers.Family]],
    ctx: Context,
    limits: Limits,
    batch: _Batch,
    progress: Progress | None,
) -> None:
    """Read members one ahead on a thread (inflating releases the GIL, so reading the next
    member overlaps parsing and storing this one), parse, and commit in batches."""
    total, done = sum(m.size for m, _ in plan), 0
    with ThreadPoolExecutor(1, thread_name_prefix="fitvault-read") as pool:
        ahead = [pool.submit(_read, m, limits) for m, _ in plan[:READ_AHEAD]]
        for i, (member, fam) in enumerate(plan):
            if i + READ_AHEAD < len(plan):
                ahead.append(pool.submit(_read, plan[i + READ_AHEAD][0], limits))
            body_or_error = ahead[i].result()
            ahead[i] = None  # type: ignore[call-overload]  # let the body go once used
            _one(member, fam, body_or_error, ctx, batch)
            done += member.size
            if progress:
                progress(done, total, member.path)
    batch.flush()


Read = tuple[bytes, dict[str, object]] | MemberError


def _read(member: Member, limits: Limits) -> Read:
    """The body and its reference (hashed here, on the reading thread: hashlib lets go of the
    GIL, so the SHA-256 overlaps the parsing of the member before)."""
    try:
        body = member.read(limits.member_bytes)
    except MemberError as exc:
        return exc
    return body, member.reference(body)


def _refusal(member: Member, limits: Limits, total: int) -> str | None:
    """Why the listing alone rules the member out (a bomb, encrypted, over a limit)."""
    try:
        member.check(limits.member_bytes)
    except MemberError as exc:
        return str(exc)
    if total + member.size > limits.total_bytes:
        return f"over the {limits.total_bytes}-byte import limit"
    return None


def _one(
    member: Member,
    fam: parsers.Family,
    read: Read,
    ctx: Context,
    batch: _Batch,
) -> None:
    name = f"{member.archive}:{member.path}"
    try:
        if isinstance(read, MemberError):
            raise read
        body, ref = read
        parsed = parsers.parse(fam, body, ctx)
    except (MemberError, DataError) as exc:
        batch.summary.errors.append((name, str(exc)))
        return
    if parsed.span is None:
        batch.summary.imported.append((name, fam.data_type, 0))
        return
    request = {"archive": member.archive, "member": member.path, "zone": ctx.zone,
               "weight_unit": ctx.weight_unit, **ref}  # fmt: skip
    raw = RawPage(fam.data_type, SOURCE, request, b"", batch.fetched_at, reference=True)
    batch.add(name, fam, raw, parsed)


@dataclass
class _Batch:
    """Parsed members of one data type waiting for one transaction.

    One commit per member made a 30 000-file export 30 000 transactions; batching by type
    keeps per-member atomicity where it matters (a member that fails to read or parse is never
    added) and "import twice = import once" (each member still replaces its own span and keeps
    its own raw page). A batch holds at most about ``BATCH_ROWS`` parsed rows (the bodies are
    not held: raw pages are references), so memory does not grow with the export, and only
    members whose spans follow each other, so the coverage it records (the spans' hull) claims
    no period the export does not answer for. Large transactions let DuckDB write whole row
    groups straight to the file instead of through the WAL.
    """

    store: Store
    summary: ImportSummary
    fetched_at: dt.datetime
    family: parsers.Family | None = None
    names: list[tuple[str, int]] = field(default_factory=list)
    raws: list[tuple[RawPage, tuple[int, int]]] = field(default_factory=list)
    tables: dict[str, list[pa.Table]] = field(default_factory=dict)
    nrows: int = 0
    hull: tuple[int, int] | None = None

    def add(self, name: str, fam: parsers.Family, raw: RawPage, parsed: parsers.Parsed) -> None:
        span = parsed.span
        assert span is not None
        if self.family is not None and (
            fam.dtype is not self.family.dtype or not self._follows(span)
        ):
            self.flush()
        self.family = fam
        self.names.append((name, parsed.rows))
        self.raws.append((raw, span))
        for table_name, rows in parsed.tables.items():
            self.tables.setdefault(table_name, []).append(rows)
        self.nrows += parsed.rows
        self.hull = span if self.hull is None else (min(self.hull[0], span[0]),
                                                     max(self.hull[1], span[1]))  # fmt: skip
        if self.nrows >= BATCH_ROWS:
            self.flush()

    def _follows(self, span: tuple[int, int]) -> bool:
        assert self.hull is not None
        return self.hull[0] - GAP_US <= span[0] <= self.hull[1] + GAP_US

    def flush(self) -> None:
        if self.family is None:
            return
        fam, hull = self.family, self.hull
        # One chunk per column: DuckDB scans an Arrow table of a day-file chunk each ~50 %
        # slower than the same rows in one piece (vectors cut at every chunk edge).
        tables = {name: pa.concat_tables(parts).combine_chunks()
                  for name, parts in self.tables.items()}  # fmt: skip
        self.tables = {}
        spans = [span for _, span in self.raws]
        self.store.commit(fam.dtype, tables, source=SOURCE, replaces=spans, covered=hull,
                          raws=self.raws)  # fmt: skip
        self.summary.imported += [(name, fam.data_type, rows) for name, rows in self.names]
        release_freed_memory()  # the batch's Arrow buffers and DuckDB's scratch, back to the OS
        self.family, self.hull, self.nrows = None, None, 0
        self.names, self.raws, self.tables = [], [], {}


def replay(page: RawPage) -> dict[str, pa.Table]:
    """A kept Takeout raw page → rows again (``fitvault rebuild``): the member path picks the
    parser, the request the zone and unit it was read with; a page kept by reference re-reads
    the member from the export (``DataError`` naming it when the export is gone)."""
    member = str(page.request.get("member", ""))
    fam = parsers.classify(member)
    if not isinstance(fam, parsers.Family):
        raise DataError(f"no Takeout parser reads {member!r} any more")
    ctx = Context(
        str(page.request.get("zone") or "UTC"), str(page.request.get("weight_unit") or "lb")
    )
    body = page.body
    if page.reference:
        try:
            body = read_reference(page.request)
        except MemberError as exc:
            raise DataError(
                f"cannot rebuild {member} from the Takeout export it was imported from: {exc}. "
                "Put the export back at that path, or import it again from where it is now "
                "(`fitvault import PATH`), then run `fitvault rebuild` again."
            ) from exc
    return parsers.parse(fam, body, ctx).tables


def _context(
    members: Sequence[Member], zone: str | None, fallback: str | None, weight_unit: str | None
) -> tuple[Context, str]:
    profile = _profile(members)
    unit = weight_unit or _weight_unit(profile.get("weight_unit", "")) or "lb"
    from_profile = profile.get("timezone") or profile.get("time_zone")
    for candidate, origin in ((zone, "option"), (from_profile, "profile"), (fallback, "vault")):
        if candidate and _known_zone(candidate):
            return Context(candidate, unit), origin
    return Context("UTC", unit), "default"


def _profile(members: Sequence[Member]) -> dict[str, str]:
    for member in members:
        if member.path in PROFILES:
            try:
                rows = csv_rows(member.read(1 << 20))
            except (MemberError, DataError) as exc:
                log.warning("cannot read %s: %s", member.path, exc)
                return {}
            if rows:
                return {k.strip().lower().replace(" ", "_"): (v or "").strip()
                        for k, v in rows[0].items() if k}  # fmt: skip
    return {}


def _weight_unit(value: str) -> str | None:
    v = value.upper()
    if not v:
        return None
    return "kg" if any(s in v for s in ("KG", "KILO", "METRIC")) else "lb"


def _known_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r", name)
        return False
    return True

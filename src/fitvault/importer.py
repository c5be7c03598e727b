"""Import a Google Takeout / Fitbit export into the vault through the sync's loader.

Each member a parser reads becomes one raw page (``source="takeout"``, the request naming the
archive, the member and the zone it was read with) committed with its rows and its coverage
in one transaction (``Store.commit``): a damaged member leaves nothing behind and the rest is
imported; importing the same export again replaces its own rows and raw pages (the member's
span is answered for again), so twice is once. ``fitvault rebuild`` replays the pages with
``replay``. Every member ends up in the summary: imported, skipped with a reason, or unknown.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Callable, Sequence
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
)
from fitvault.store import RawPage, Store

log = logging.getLogger(__name__)

SOURCE = parsers.SOURCE
PROFILES = ("Your Profile/Profile.csv", "Personal & Account/Profile.csv", "Profile.csv")
Progress = Callable[[int, int, str], None]


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
    """
    with inventory(paths) as inv:
        ctx, zone_from = _context(inv.members, zone, fallback_zone, weight_unit)
        if zone_from in ("vault", "default") and (saved := legacy_import.profile_zone(inv.members)):
            ctx, zone_from = Context(saved, ctx.weight_unit), "profile"
        summary = ImportSummary(ctx.zone, zone_from, dry_run=dry_run)
        summary.errors += [(name, why) for name, why in inv.refused]
        summary.skipped += [(name, "the same file was read from an earlier part or folder")
                            for name in inv.duplicates]  # fmt: skip
        fetched_at = now or dt.datetime.now(dt.UTC)
        total = 0
        for n, member in enumerate(inv.members, 1):
            name = f"{member.archive}:{member.path}"
            fam = parsers.classify(member.path)
            if fam is None and legacy_import.candidate(member.path):  # a saved API response?
                legacy_import.import_member(
                    store, member, ctx.zone, summary, fetched_at=fetched_at,
                    limit=limits.member_bytes, dry_run=dry_run,
                )  # fmt: skip
            elif fam is None:
                summary.unknown.append(name)
            elif isinstance(fam, str):
                summary.skipped.append((name, fam))
            elif dry_run or store is None:
                summary.imported.append((name, fam.data_type, 0))
            elif refusal := _refusal(member, limits, total):
                summary.errors.append((name, refusal))
            else:
                total += member.size
                _one(store, member, fam, ctx, fetched_at, limits, summary)
            if progress:
                progress(n, len(inv.members), member.path)
    return summary


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
    store: Store,
    member: Member,
    fam: parsers.Family,
    ctx: Context,
    fetched_at: dt.datetime,
    limits: Limits,
    summary: ImportSummary,
) -> None:
    name = f"{member.archive}:{member.path}"
    try:
        body = member.read(limits.member_bytes)
        parsed = parsers.parse(fam, body, ctx)
    except (MemberError, DataError) as exc:
        summary.errors.append((name, str(exc)))
        return
    if parsed.span is None:
        summary.imported.append((name, fam.data_type, 0))
        return
    request = {"archive": member.archive, "member": member.path, "zone": ctx.zone,
               "weight_unit": ctx.weight_unit}  # fmt: skip
    raw = RawPage(fam.data_type, SOURCE, request, body, fetched_at)
    store.commit(
        fam.dtype,
        parsed.tables,
        source=SOURCE,
        replaces=[parsed.span],
        covered=parsed.span,
        raws=[(raw, parsed.span)],
    )
    summary.imported.append((name, fam.data_type, parsed.rows))


def replay(page: RawPage) -> dict[str, pa.Table]:
    """A kept Takeout raw page → rows again (``fitvault rebuild``): the member path picks the
    parser, the request the zone and unit it was read with."""
    member = str(page.request.get("member", ""))
    fam = parsers.classify(member)
    if not isinstance(fam, parsers.Family):
        raise DataError(f"no Takeout parser reads {member!r} any more")
    ctx = Context(
        str(page.request.get("zone") or "UTC"), str(page.request.get("weight_unit") or "lb")
    )
    return parsers.parse(fam, page.body, ctx).tables


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

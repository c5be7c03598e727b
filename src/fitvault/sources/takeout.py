"""Walk Google Takeout / Fitbit export archives: zip files read in place, extracted folders,
multi-part archives (``takeout-…-001.zip``, ``-002.zip``) as one inventory.

I/O only: members are listed with the path below the export's root folder and read on demand
into bytes, with limits that refuse hostile archives member by member (zip-slip names,
encrypted members, zip bombs by ratio and by total size, members that fail their CRC). Parsing
happens in ``fitvault.normalise.takeout``.

Roots recognised, oldest first (spec B1): ``MyFitbitData/<Name>/`` (with or without
``user-site-export/``), ``Takeout/Fitbit/``, ``Takeout/Google Health/``; a folder or zip that
is already the root (``Fitbit/…``, ``Global Export Data/…``) works too.
"""

from __future__ import annotations

import functools
import hashlib
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

# One file uncompressed. Parsers need a member whole in memory, so this bounds the import's
# memory: a day of 1 s heart rate is ~5 MB, the largest known file a family reads (PMData's
# concatenated heart_rate.json) ~120 MB; a 2 GB member is refused from the listing, unread.
MAX_MEMBER_BYTES = 512 << 20
MAX_TOTAL_BYTES = 256 << 30  # everything read from one import
MAX_RATIO = 200  # uncompressed / compressed; pretty-printed JSON stays near 20
RATIO_FLOOR = 1 << 20  # members smaller than this are never called bombs

_ROOT = re.compile(
    r"^(?:.*?/)?(?:Takeout/(?:Fitbit|Google Health)|MyFitbitData/[^/]+|Fitbit|Google Health)/"
)
_PART = re.compile(r"^(?P<stem>.+)-(?P<part>\d{3})\.zip$", re.IGNORECASE)


class MemberError(Exception):
    """A member that cannot be read safely (the reason is the message)."""


@dataclass(frozen=True)
class Member:
    """One file of an export, named by its path below the export's root."""

    archive: str  # the zip's or folder's name, for messages and raw-page provenance
    path: str  # below the root, "/"-separated: "Global Export Data/steps-2026-03-18.json"
    size: int  # uncompressed bytes (as declared, for zips)
    compressed: int
    _source: Path = field(repr=False)
    _name: str = field(repr=False)  # the zip member name or the file path
    encrypted: bool = False
    _zip: zipfile.ZipFile | None = field(default=None, repr=False, compare=False)

    def read(self, limit: int = MAX_MEMBER_BYTES) -> bytes:
        """The member's bytes; ``MemberError`` when it is unsafe or damaged."""
        self.check(limit)
        if self._zip is None:
            return (self._source / self._name).read_bytes()
        try:
            with self._zip.open(self._name) as fh:
                data = fh.read(self.size + 1)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as exc:
            raise MemberError(f"damaged: {exc}") from exc
        if len(data) != self.size:
            raise MemberError(f"declares {self.size} bytes but holds {len(data)}")
        return data

    def reference(self, body: bytes) -> dict[str, object]:
        """Where these bytes can be read again (``read_reference``): the archive or folder by
        absolute path, the member's own name in it, its size and SHA-256. The export is the
        user's file, so the vault keeps this instead of a second, compressed copy."""
        return {"path": str(self._source.resolve()), "name": self._name, "size": len(body),
                "sha256": hashlib.sha256(body).hexdigest()}  # fmt: skip

    def check(self, limit: int = MAX_MEMBER_BYTES) -> None:
        """Refuse, from the listing alone, what must not be read."""
        if self.encrypted:
            raise MemberError("encrypted (password-protected) member")
        if self.size > RATIO_FLOOR and self.size > MAX_RATIO * max(self.compressed, 1):
            ratio = self.size // max(self.compressed, 1)
            raise MemberError(f"compression ratio {ratio}:1 looks like a zip bomb")
        if self.size > limit:
            raise MemberError(
                f"{self.size} bytes is more than the {limit}-byte limit for one file; not read"
            )


@dataclass
class Inventory:
    """Every member of one import (all parts), and what could not even be listed. Holds the
    zips open (their central directories read once) until closed."""

    members: list[Member] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    duplicates: list[str] = field(default_factory=list)  # names of members seen in a part before
    zips: list[zipfile.ZipFile] = field(default_factory=list)

    def __enter__(self) -> Inventory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for zf in self.zips:
            zf.close()
        self.zips.clear()


def inventory(paths: Sequence[str | Path]) -> Inventory:
    """List the members of zips and folders; parts of one multi-part export are merged, and a
    path seen twice (in two parts, or in a zip and its extracted folder) is listed once."""
    inv = Inventory()
    seen: set[str] = set()
    for source in sorted((Path(p) for p in paths), key=_part_order):
        for member in _walk(source, inv):
            if member.path in seen:
                inv.duplicates.append(f"{member.archive}:{member.path}")
                continue
            seen.add(member.path)
            inv.members.append(member)
    return inv


def _part_order(path: Path) -> tuple[str, int]:
    m = _PART.match(path.name)
    return (m["stem"], int(m["part"])) if m else (path.name, 0)


def below_root(name: str) -> str:
    """The path below the export's root folder (the name itself when there is no root)."""
    m = _ROOT.match(name)
    return name[m.end() :] if m else name


def _unsafe(name: str) -> str | None:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or re.match(r"^[A-Za-z]:", name):
        return "absolute path in the archive"
    if ".." in p.parts:
        return "path leaves the archive (../)"
    return None


def _walk(source: Path, inv: Inventory) -> Iterator[Member]:
    if source.is_dir():
        for file in sorted(source.rglob("*")):
            if file.is_file() and not file.is_symlink():
                rel = file.relative_to(source).as_posix()
                size = file.stat().st_size
                yield Member(source.name, below_root(rel), size, size, source, rel)
        return
    if source.is_file() and source.suffix.lower() != ".zip" and not zipfile.is_zipfile(source):
        size = source.stat().st_size  # one loose file (a saved API response)
        yield Member(source.parent.name, source.name, size, size, source.parent, source.name)
        return
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        inv.refused.append((source.name, f"not a readable zip archive ({exc})"))
        return
    inv.zips.append(zf)
    infos = zf.infolist()
    for info in infos:
        if info.is_dir():
            continue
        if reason := _unsafe(info.filename):
            inv.refused.append((f"{source.name}:{info.filename}", reason))
            continue
        yield Member(
            source.name,
            below_root(info.filename),
            info.file_size,
            info.compress_size,
            source,
            info.filename,
            encrypted=bool(info.flag_bits & 0x1),
            _zip=zf,
        )


def read_reference(ref: Mapping[str, object], limit: int = MAX_MEMBER_BYTES) -> bytes:
    """The bytes a ``Member.reference`` names, checked against its size and SHA-256;
    ``MemberError`` saying what is wrong when the export moved, went or changed."""
    path, name = Path(str(ref.get("path", ""))), str(ref.get("name", ""))
    if reason := _unsafe(name):
        raise MemberError(f"{name}: {reason}")
    if path.is_dir():
        file = path / name
        if not file.is_file():
            raise MemberError(f"{file} is gone (moved or deleted)")
        size = file.stat().st_size
        data = Member(path.name, below_root(name), size, size, path, name).read(limit)
    elif path.is_file():
        data = _zip_member(path, name).read(limit)
    else:
        raise MemberError(f"{path} is gone (moved or deleted)")
    if len(data) != ref.get("size") or hashlib.sha256(data).hexdigest() != ref.get("sha256"):
        raise MemberError(f"{path}: {name} is not the file that was imported (it changed)")
    return data


def _zip_member(path: Path, name: str) -> Member:
    try:
        zf = _open_zip(str(path), path.stat().st_mtime_ns)
        info = zf.getinfo(name)
    except (zipfile.BadZipFile, OSError) as exc:
        raise MemberError(f"{path} is not a readable zip archive ({exc})") from exc
    except KeyError:
        raise MemberError(f"{path} holds no {name} (not the archive that was imported)") from None
    return Member(path.name, below_root(name), info.file_size, info.compress_size, path, name,
                  encrypted=bool(info.flag_bits & 0x1), _zip=zf)  # fmt: skip


@functools.lru_cache(maxsize=2)
def _open_zip(path: str, mtime_ns: int) -> zipfile.ZipFile:
    """A rebuild re-reads hundreds of members of one or two archives in turn: their central
    directories are read once (the two most recent stay open; a changed file is a new key)."""
    return zipfile.ZipFile(path)

"""Hostile or damaged archives: the bad member is named with a reason, nothing of it is
written, the rest is imported."""

from __future__ import annotations

import zipfile
from pathlib import Path

from fitvault.importer import Limits, import_archive
from fitvault.sources.takeout import inventory
from fitvault.store import Store
from tests.takeout.conftest import make_zip

GED = "Takeout/Fitbit/Global Export Data/"
HR = b'[{\n  "dateTime" : "04/08/26 04:00:01",\n  "value" : {\n    "bpm" : 61,\n    "confidence" : 2\n  }\n}]'
STEPS = b'[{\n  "dateTime" : "04/02/26 17:17:00",\n  "value" : "7"\n}]'


def _import(tmp_path: Path, *paths: Path, limits: Limits | None = None):  # type: ignore[no-untyped-def]
    with Store(tmp_path / "vault") as store:
        summary = import_archive(
            store, list(paths), zone="America/New_York", limits=limits or Limits()
        )
        counts = {t: store.count(t) for t in ("heart_rate", "steps", "_raw_pages")}
    return summary, counts


def _errors(summary) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {name.rpartition(":")[2] if ":" in name else name: why for name, why in summary.errors}


def test_malformed_and_non_utf8_members_are_named_and_the_rest_imported(tmp_path: Path) -> None:
    """Truncated JSON and Latin-1 CSV fail alone; the good steps file lands."""
    z = make_zip(tmp_path / "t.zip", {
        GED + "heart_rate-2026-04-08.json": HR[:40],
        GED + "steps-2026-04-01.json": STEPS,
        "Takeout/Fitbit/Heart Rate Variability/Heart Rate Variability Details - 2026-04-08.csv":
            "timestamp,rmssd\n2026-04-08T04:35:00,21.6 \xb5s\n".encode("latin-1"),
    })  # fmt: skip
    summary, counts = _import(tmp_path, z)
    errors = _errors(summary)
    assert "not valid JSON" in errors["Global Export Data/heart_rate-2026-04-08.json"]
    details = "Heart Rate Variability/Heart Rate Variability Details - 2026-04-08.csv"
    assert "not UTF-8" in errors[details]
    assert counts == {"heart_rate": 0, "steps": 1, "_raw_pages": 1}


def test_crc_damage_is_reported(tmp_path: Path) -> None:
    """A member whose bytes were damaged in the zip fails its CRC and is skipped."""
    z = make_zip(tmp_path / "t.zip", {GED + "heart_rate-2026-04-08.json": HR,
                                      GED + "steps-2026-04-01.json": STEPS}, stored=True)  # fmt: skip
    data = bytearray(z.read_bytes())
    at = data.index(b'"bpm" : 61')
    data[at + 8 : at + 10] = b"99"
    z.write_bytes(bytes(data))
    summary, counts = _import(tmp_path, z)
    assert "damaged" in _errors(summary)["Global Export Data/heart_rate-2026-04-08.json"]
    assert counts["heart_rate"] == 0
    assert counts["steps"] == 1


def test_zip_slip_names_are_refused(tmp_path: Path) -> None:
    """``../`` and absolute member names are never read (or written anywhere)."""
    z = make_zip(tmp_path / "t.zip", {"../evil/heart_rate-2026-04-08.json": HR,
                                      "/etc/steps-2026-04-01.json": STEPS,
                                      GED + "steps-2026-04-01.json": STEPS})  # fmt: skip
    summary, counts = _import(tmp_path, z)
    reasons = dict(summary.errors)
    assert reasons["t.zip:../evil/heart_rate-2026-04-08.json"] == "path leaves the archive (../)"
    assert reasons["t.zip:/etc/steps-2026-04-01.json"] == "absolute path in the archive"
    assert counts["steps"] == 1


def test_zip_bomb_by_ratio_and_by_total(tmp_path: Path) -> None:
    """A member that inflates 1000:1 is refused; so is what exceeds the import's total limit."""
    z = make_zip(tmp_path / "t.zip", {GED + "heart_rate-2026-04-08.json": b" " * (4 << 20),
                                      GED + "steps-2026-04-01.json": STEPS,
                                      GED + "steps-2026-05-01.json": STEPS})  # fmt: skip
    summary, counts = _import(tmp_path, z, limits=Limits(total_bytes=len(STEPS) + 10))
    errors = _errors(summary)
    assert "looks like a zip bomb" in errors["Global Export Data/heart_rate-2026-04-08.json"]
    assert "import limit" in errors["Global Export Data/steps-2026-05-01.json"]
    assert counts["steps"] == 1


def test_encrypted_member_and_non_zip(tmp_path: Path) -> None:
    """An encrypted member, and a text file named .zip, are reported by name."""
    z = make_zip(tmp_path / "t.zip", {GED + "heart_rate-2026-04-08.json": HR,
                                      GED + "steps-2026-04-01.json": STEPS})  # fmt: skip
    data = bytearray(z.read_bytes())  # zipfile cannot encrypt: set the first member's flag bit
    data[6] |= 0x1  # local header of the first member
    data[data.index(b"PK\x01\x02") + 8] |= 0x1  # its central directory entry
    z.write_bytes(bytes(data))
    fake = tmp_path / "takeout-002.zip"
    fake.write_text("not a zip")
    summary, counts = _import(tmp_path, z, fake)
    errors = _errors(summary)
    assert "encrypted" in errors["Global Export Data/heart_rate-2026-04-08.json"]
    assert "not a readable zip archive" in errors["takeout-002.zip"]
    assert counts["steps"] == 1


def test_unknown_files_are_listed_and_dry_run_writes_nothing(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "t.zip", {GED + "steps-2026-04-01.json": STEPS,
                                      "Takeout/Fitbit/Mystery/thing.bin": b"?"})  # fmt: skip
    summary = import_archive(None, [z], dry_run=True)
    assert summary.unknown == ["t.zip:Mystery/thing.bin"]
    assert summary.imported == [("t.zip:Global Export Data/steps-2026-04-01.json", "steps", 0)]
    assert "1 files to import, 0 failed, 0 skipped, 1 unknown" in summary.lines()
    assert not (tmp_path / "vault").exists()


def test_multi_part_zip_and_folder(tmp_path: Path) -> None:
    """Parts are one inventory; an extracted folder lists the same members."""
    a = make_zip(tmp_path / "takeout-20260401-001.zip", {GED + "steps-2026-04-01.json": STEPS})
    b = make_zip(tmp_path / "takeout-20260401-002.zip", {GED + "heart_rate-2026-04-08.json": HR})
    with inventory([b, a]) as inv:
        assert [(m.archive, m.path) for m in inv.members] == [
            ("takeout-20260401-001.zip", "Global Export Data/steps-2026-04-01.json"),
            ("takeout-20260401-002.zip", "Global Export Data/heart_rate-2026-04-08.json"),
        ]
    folder = tmp_path / "extracted"
    for part in (a, b):
        with zipfile.ZipFile(part) as zf:
            zf.extractall(folder)
    with inventory([folder]) as inv:
        assert sorted(m.path for m in inv.members) == [
            "Global Export Data/heart_rate-2026-04-08.json",
            "Global Export Data/steps-2026-04-01.json",
        ]
    summary, counts = _import(tmp_path, a, b)
    assert counts == {"heart_rate": 1, "steps": 1, "_raw_pages": 2}
    assert not summary.errors
    again = import_archive(None, [a, folder], dry_run=True)  # the zip and its extraction
    assert again.skipped == [("takeout-20260401-001.zip:Global Export Data/steps-2026-04-01.json",
                              "the same file was read from an earlier part or folder")]  # fmt: skip

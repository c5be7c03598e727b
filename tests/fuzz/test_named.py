"""The named hostile inputs, all in one export run through ``fitvault import`` in a child
process: each bad file is named with its reason, nothing of it is written (or extracted
anywhere), the good file is imported, the command prints no traceback, and a 2 GB member is
refused without being read (peak RSS stays far below its size).

Already covered member by member through ``import_archive`` in tests/takeout/test_bad_input.py:
zip-slip names, a bomb by ratio and by total, an encrypted member, a non-zip named ``.zip``,
CRC damage, truncated JSON and Latin-1 CSV. This adds deep nesting, huge numbers, ``NaN`` /
``Infinity`` strings, the 2 GB member, and the command line's behaviour on all of them.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

from fitvault.store import Store

ROOT = "Takeout/Fitbit/"
GED = "Global Export Data/"
GOOD = GED + "steps-2026-04-01.json"
BIG = GED + "heart_rate-2026-04-09.json"
TWO_GB = 2 << 30
WRAPPER = """
import resource, sys
from fitvault.cli import main
try:
    main()
finally:
    print(f"maxrss_kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr)
"""
STEPS = b'[{\n  "dateTime" : "04/02/26 17:17:00",\n  "value" : "7"\n}]'
# member below the root → (body, the reason's words)
HOSTILE: dict[str, tuple[bytes, str]] = {
    GED + "steps-2026-04-02.json": (b"[" * 200_000 + b"]" * 200_000, "not valid JSON"),
    GED + "heart_rate-2026-04-08.json": (
        b'[{"dateTime" : "04/08/26 04:00:01", "value" : {"bpm" : 1' + b"0" * 40 + b"}}]",
        "column bpm"),
    GED + "steps-2026-04-03.json": (b'[{"dateTime" : "04/03/26 00:00:00", "value" : "NaN"}]',
                                    "not a number"),
    GED + "distance-2026-04-03.json": (
        b'[{"dateTime" : "04/03/26 00:00:00", "value" : "Infinity"}]', "unexpected content"),
    "Heart Rate Variability/Heart Rate Variability Details - 2026-04-08.csv": (
        "timestamp,rmssd\n2026-04-08T04:35:00,21.6 \xb5s\n".encode("latin-1"), "not UTF-8"),
    GED + "height-2026-04-01.json": (b" " * (8 << 20), "zip bomb"),
}  # fmt: skip
SLIP = {"../x/steps-2026-04-04.json": "leaves the archive", "/tmp/steps-2026-04-05.json":
        "absolute path"}  # fmt: skip


def _add_sparse_member(path: Path, name: str, size: int) -> None:
    """Append a stored member of ``size`` zero bytes whose data is a hole in the file: the
    zip is honest (sizes and CRC match) yet takes no disk space and no time to write."""
    crc, chunk = 0, bytes(16 << 20)
    for _ in range(size // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    with zipfile.ZipFile(path, "a") as zf:
        info = zipfile.ZipInfo(name, date_time=(2026, 4, 9, 0, 0, 0))
        info.compress_type, info.file_size, info.compress_size, info.CRC = 0, size, size, crc
        assert zf.fp is not None
        zf.fp.seek(zf.start_dir)
        info.header_offset = zf.fp.tell()
        zf.fp.write(info.FileHeader(zip64=False))
        zf.fp.truncate()  # the old central directory must not show through the hole
        zf.fp.seek(size, 1)
        zf.filelist.append(info)
        zf.NameToInfo[name] = info
        zf.start_dir = zf.fp.tell()
        zf._didModify = True  # type: ignore[attr-defined]  # write the central directory


def _archive(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(ROOT + GOOD, STEPS)
        for name, (body, _) in HOSTILE.items():
            zf.writestr(ROOT + name, body)
        for name in SLIP:
            zf.writestr(name, STEPS)
        zf.writestr(ROOT + GED + "weight-2026-04-01.json", b"[]")  # encrypted, below
    data = bytearray(path.read_bytes())  # zipfile cannot encrypt: set the member's flag bit
    for offset in _headers_of(data, ROOT + GED + "weight-2026-04-01.json"):
        data[offset] |= 0x1
    path.write_bytes(bytes(data))
    _add_sparse_member(path, ROOT + BIG, TWO_GB)
    return path


def _headers_of(data: bytearray, name: str) -> list[int]:
    """Offsets of the flag byte in the local and central headers of member ``name``."""
    encoded, out = name.encode(), []
    for sig, flag_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        start = 0
        while (at := data.find(sig, start)) >= 0:
            if data[at + name_at : at + name_at + len(encoded)] == encoded:
                out.append(at + flag_at)
            start = at + 4
    return out


def test_named_hostile_inputs_through_the_command_line(tmp_path: Path) -> None:
    """Every bad file named with its reason, exit 0 for an export whose other files import,
    no traceback, nothing written outside the vault, and the 2 GB member never read."""
    work = tmp_path / "work"
    work.mkdir()
    archive = _archive(work / "takeout-001.zip")
    assert archive.stat().st_size > TWO_GB  # the member is really there
    (work / "takeout-002.zip").write_text("not a zip at all")
    vault = tmp_path / "vault"
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, "import", str(archive), str(work / "takeout-002.zip"),
         "--vault", str(vault), "--tz", "America/New_York"],
        capture_output=True, text=True, cwd=work, timeout=600,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 7, output  # partial: the bad files are listed, the rest imported
    assert "Traceback" not in output
    failed = {line.split(": ")[1].partition(":")[2]: line for line in result.stdout.splitlines()
              if line.startswith("failed: ")}  # fmt: skip
    for name, (_, reason) in HOSTILE.items():
        assert reason in failed[name], (name, failed.get(name))
    for name, reason in SLIP.items():
        assert reason in failed[name], (name, failed.get(name))
    assert "encrypted" in failed[GED + "weight-2026-04-01.json"]
    assert "limit for one file; not read" in failed[BIG]
    assert any("takeout-002.zip" in line and "not a readable zip" in line
               for line in result.stdout.splitlines())  # fmt: skip
    rss_mb = int(result.stderr.rpartition("maxrss_kb=")[2].split()[0]) // 1024
    assert rss_mb < 700, f"peak RSS {rss_mb} MB: the 2 GB member was read"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vault", "work"]
    assert not (tmp_path / "x").exists()
    assert not Path("/tmp/steps-2026-04-05.json").exists()
    with Store(vault) as store:
        counts = store.counts(["steps", "heart_rate", "distance", "height", "weight",
                               "heart_rate_variability", "_raw_pages"])  # fmt: skip
    assert counts == {"steps": 1, "heart_rate": 0, "distance": 0, "height": 0, "weight": 0,
                      "heart_rate_variability": 0, "_raw_pages": 1}  # fmt: skip

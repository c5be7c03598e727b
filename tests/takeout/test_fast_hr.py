"""The heart-rate fast path (bytes scanned with numpy) gives exactly the general parser's table,
and hands every file it is not sure of to the general parser."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from fitvault._errors import DataError
from fitvault.normalise.takeout import fast_hr
from fitvault.normalise.takeout._common import Context
from fitvault.normalise.takeout.global_export import heart_rate, heart_rate_general
from tests.takeout.conftest import SAMPLES

CTX = Context("America/New_York")
REAL = sorted(SAMPLES.glob("*/*__heart_rate-*.json"))
TWO = (b'[{\n  "dateTime" : "03/26/26 17:50:52",\n  "value" : {\n    "bpm" : 70,\n'
       b'    "confidence" : 0\n  }\n},{\n  "dateTime" : "12/31/99 23:59:59",\n  "value" : {\n'
       b'    "bpm" : 105,\n    "confidence" : 3\n  }\n}]')  # fmt: skip


def _same(body: bytes) -> None:
    assert heart_rate(body, CTX)["heart_rate"].equals(heart_rate_general(body, CTX)["heart_rate"])


def test_hand_written_records() -> None:
    """17:50:52 on 2026-03-26 is 1774547452 s; ``99`` is 1999 (strptime's pivot); 105 bpm."""
    fast = fast_hr.heart_rate(TWO)
    assert fast is not None
    seconds, bpm = fast
    assert seconds.tolist() == [1774547452, 946684799]
    assert bpm.tolist() == [70, 105]
    _same(TWO)


@pytest.mark.skipif(not REAL, reason="shared/samples is absent")
@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name.rpartition("__")[2])
def test_real_files_take_the_fast_path_with_the_same_table(path: Path) -> None:
    """Google's own files are in the layout the scan reads, and it reads them identically."""
    body = path.read_bytes()
    assert fast_hr.heart_rate(body) is not None
    _same(body)


def test_synthetic_export_files_agree(world_zip: Path) -> None:
    """Every heart-rate file the simulator writes (a fall-back night included)."""
    with zipfile.ZipFile(world_zip) as zf:
        bodies = [zf.read(n) for n in zf.namelist() if "/heart_rate-" in n]
    assert bodies
    for body in bodies:
        assert fast_hr.heart_rate(body) is not None
        _same(body)


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(json.loads(TWO)).encode(),  # compact: another spacing
        TWO.replace(b'"bpm" : 70', b'"bpm" : 70.0'),  # a float: the general parser's verdict
        TWO.replace(b'"bpm" : 70,\n', b""),  # one record without bpm
        TWO.replace(b"03/26/26", b"02/30/26"),  # no such day
        TWO.replace(b"03/26/26", b"02/29/26"),  # 2026 is no leap year
        TWO.replace(b"03/26/26", b"04/31/26"),  # April has 30 days
    ],
    ids=["compact", "float", "missing", "feb-30", "feb-29", "apr-31"],
)
def test_anything_else_goes_to_the_general_parser(body: bytes) -> None:
    """The scan declines; the file then reads (or fails) exactly as the general parser says."""
    assert fast_hr.heart_rate(body) is None
    try:
        expected = heart_rate_general(body, CTX)["heart_rate"]
    except DataError:
        expected = None
    if expected is None:
        with pytest.raises(DataError):
            heart_rate(body, CTX)
    else:
        assert heart_rate(body, CTX)["heart_rate"].equals(expected)


def test_a_leap_day_takes_the_fast_path() -> None:
    """02/29/24 exists: 2024-02-29 12:00:00Z is 1709208000 s."""
    fast = fast_hr.heart_rate(TWO.replace(b"03/26/26 17:50:52", b"02/29/24 12:00:00"))
    assert fast is not None
    assert fast[0].tolist() == [1709208000, 946684799]


def test_truncated_file_is_an_error() -> None:
    """A body cut inside a record fails the JSON check before any scanning."""
    with pytest.raises(DataError, match="not valid JSON"):
        heart_rate(TWO[:-40], CTX)


def test_a_day_file_holding_a_clock_change_gets_each_readings_offset() -> None:
    """2026-11-01 05:59:59Z is 01:59:59 EDT (-4 h), 06:00:00Z is 01:00:00 EST (-5 h); the
    local dates follow the offsets."""
    seconds = np.array([1793512799, 1793512800, 1793595599], np.int64)
    cols = fast_hr.columns(seconds, CTX.tz)
    assert cols["utc_offset_s"].to_pylist() == [-14400, -18000, -18000]
    days = cols["local_date"].to_pylist()
    assert [str(d) for d in days] == ["2026-11-01", "2026-11-01", "2026-11-01"]

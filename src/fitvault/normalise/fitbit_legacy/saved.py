"""Files people saved with the legacy API tutorials' scripts → ``Parsed``, recognised by shape.

* ``json.dump`` of one response (a day or a range): read by ``parse`` (BOM, log lines before
  the JSON and ``//`` comments tolerated).
* The tutorials' tables of intraday heart rate, ``*.csv`` or ``*.xlsx``: a time column and a
  heart-rate column, the date in the file name (``heart20180512.csv``,
  ``2017-05-01_intradata.csv``) or in a pandas index of full timestamps. Readings a minute
  apart on whole minutes are the API's ``1min`` means (→ ``heart_rate_average``); anything
  finer is ``1sec`` readings (→ ``heart_rate``).
* The sleep tutorial's table of v1 ``minuteData`` (``Time, State, Interpreted`` with 1/2/3)
  → one classic sleep session.

Pure: bytes in, rows out; a file that is not one of these gives the reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from fitvault._errors import DataError
from fitvault.catalog.fitbit_legacy import HEART_RATE_AVERAGE_TABLE
from fitvault.normalise.fitbit_legacy import Kind, Parsed, describe, identify, parse
from fitvault.normalise.fitbit_legacy._common import BOM, Context, decode
from fitvault.normalise.fitbit_legacy.heart import readings_from_clock

_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})(?!\d)")
_HR_COLUMNS = ("heart rate", "heart_rate", "heartrate", "bpm", "hr")
_HR_NAMES = re.compile(r"(?i)heart|(^|[^a-z])hr([^a-z]|$)|intradata")
TABULAR = (".csv", ".xlsx")


def is_tabular(name: str) -> bool:
    return name.lower().endswith(TABULAR)


def read(
    name: str, body: bytes, zone: str = "UTC", *, units: str = "METRIC"
) -> Parsed | str | None:
    """A saved file → ``Parsed``; a reason string for a shape fitvault knows but does not
    store; None when it is not a saved legacy response at all. ``DataError`` for a file that
    is one but is damaged (malformed JSON, a bad value)."""
    if is_tabular(name):
        return _tabular(name, _rows(name, body), Context(zone, units, date_in_name(name)))
    try:
        value = decode(body)
    except DataError:
        if _looks_like_json(body):
            raise
        return None
    found = identify(value)
    if found is None:
        return _collection(value, zone, units, date_in_name(name))
    if isinstance(found, str):
        return found
    return parse(value, zone, units=units, day=date_in_name(name))


def _collection(value: Any, zone: str, units: str, day: dt.date | None) -> Parsed | None:
    """Responses a script gathered before dumping them: a list of bodies, or an object of
    bodies keyed by their date (``{"2024-01-05": {...}, …}``); all must be known shapes."""
    items: list[tuple[Any, dt.date | None]] = []
    if isinstance(value, list):
        items = [(v, day) for v in value]
    elif isinstance(value, dict):
        items = [(v, date_in_name(str(k)) or day) for k, v in value.items()]
    if not items or any(not isinstance(identify(v), Kind) for v, _ in items):
        return None
    parts = [parse(v, zone, units=units, day=d) for v, d in items]
    tables: dict[str, pa.Table] = {}
    spans: dict[str, list[tuple[int, int] | None]] = {}
    for part in parts:
        for table_name, rows in part.tables.items():
            have = tables.get(table_name)
            tables[table_name] = rows if have is None else pa.concat_tables([have, rows])
        for data_type, span in part.spans.items():
            spans.setdefault(data_type, []).append(span)
    joined = {data_type: _joined(each) for data_type, each in spans.items()}
    return Parsed(f"{parts[0].kind} ×{len(parts)}", tables, joined)


def _joined(spans: list[tuple[int, int] | None]) -> tuple[int, int] | None:
    """The parts' spans as one, if they tile one; else None (replace nothing rather than the
    days between the parts, which the file does not hold)."""
    whole: tuple[int, int] | None = None
    for span in sorted(spans, key=lambda s: s or (0, 0)):
        if span is None or (whole is not None and span[0] > whole[1]):
            return None
        whole = span if whole is None else (whole[0], max(whole[1], span[1]))
    return whole


def why_unknown(name: str, body: bytes) -> str:
    """A one-line reason a file was not recognised (for the import summary)."""
    if is_tabular(name):
        return "a table without a time and a heart-rate (or sleep State) column"
    try:
        return f"not a legacy Fitbit API response fitvault knows: {describe(decode(body))}"
    except DataError:
        return "no JSON object or array in it"


def _looks_like_json(body: bytes) -> bool:
    head = body.removeprefix(BOM).lstrip()[:1]
    return head in (b"{", b"[")


def date_in_name(name: str) -> dt.date | None:
    """The last ``YYYY-MM-DD`` / ``YYYYMMDD`` in a file name (folders included)."""
    for m in reversed(list(_DATE_IN_NAME.finditer(name))):
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            continue
    return None


def _rows(name: str, body: bytes) -> list[dict[str, Any]]:
    if name.lower().endswith(".xlsx"):
        return list(_xlsx_rows(body))
    try:
        text = body.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text (byte {exc.start})") from exc
    try:
        return list(csv.DictReader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise DataError(f"bad CSV: {exc}") from exc


def _xlsx_rows(body: bytes) -> Iterator[dict[str, Any]]:
    try:
        import openpyxl
    except ImportError as exc:  # an optional extra
        raise DataError(
            "reading .xlsx needs openpyxl: pip install 'fitvault[export]' (or openpyxl)"
        ) from exc
    try:
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise DataError(f"not a readable .xlsx workbook ({exc})") from exc
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = [str(h) if h is not None else "" for h in next(rows, ())]
        for row in rows:
            yield dict(zip(header, row, strict=False))
    finally:
        book.close()


def _column(rows: list[dict[str, Any]], *names: str) -> str | None:
    if not rows:
        return None
    for key in rows[0]:
        if str(key).strip().lower() in names:
            return str(key)
    return None


def _tabular(name: str, rows: list[dict[str, Any]], ctx: Context) -> Parsed | None:
    time_col = _column(rows, "time", "datetime", "date_time", "timestamp")
    state_col = _column(rows, "state")
    hr_col = _column(rows, *_HR_COLUMNS)
    if hr_col is None and _HR_NAMES.search(name.rsplit("/", 1)[-1]):
        hr_col = _column(rows, "value")
    if time_col is None or (hr_col is None and state_col is None):
        return None
    day, times = _clock(rows, time_col, ctx.day)
    if hr_col is not None:
        return _heart(times, [r[hr_col] for r in rows], day, ctx)
    assert state_col is not None
    return _sleep(times, [r[state_col] for r in rows], day, ctx)


def _clock(
    rows: list[dict[str, Any]], time_col: str, day: dt.date | None
) -> tuple[dt.date, list[str]]:
    """The day and ``HH:MM:SS`` times of a table: full timestamps in the time column or in
    an unnamed pandas index column carry the date; else it comes from the file name."""
    index = next((k for k in rows[0] if not str(k).strip() or str(k) == "None"), None)
    times: list[str] = []
    first: dt.datetime | None = None
    for row in rows:
        stamp = _timestamp(row[time_col]) or (_timestamp(row[index]) if index is not None else None)
        if stamp is not None:
            first = first or stamp
            times.append(stamp.strftime("%H:%M:%S"))
        else:
            value = row[time_col]
            times.append(value.strftime("%H:%M:%S") if isinstance(value, dt.time) else str(value))
    found = first.date() if first is not None else day
    if found is None:
        raise DataError("a table of times without a date: put the date in the file name")
    return found, times


def _timestamp(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    text = str(value or "").strip()
    if len(text) < 16 or not text[:4].isdigit():
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def _heart(times: list[str], values: list[Any], day: dt.date, ctx: Context) -> Parsed:
    try:
        bpm = [round(float(v)) for v in values]
    except (TypeError, ValueError, OverflowError) as exc:  # OverflowError: "inf"
        raise DataError(f"heart rate is not a number: {exc}") from exc
    if _whole_minutes(times):
        body = {
            "activities-heart": [{"dateTime": day.isoformat(), "value": {}}],
            "activities-heart-intraday": {
                "dataset": [{"time": t, "value": v} for t, v in zip(times, bpm, strict=True)],
                "datasetInterval": 1,
                "datasetType": "minute",
            },
        }
        parsed = parse(body, ctx.zone, units=ctx.units)
        table = HEART_RATE_AVERAGE_TABLE.name
        return Parsed(
            "heart_intraday_table",
            {table: parsed.tables[table]},
            {"heart-rate-average": parsed.spans["heart-rate-average"]},
        )
    tables, spans = readings_from_clock(day, times, bpm, ctx)
    return Parsed("heart_intraday_table", tables, spans)


def _whole_minutes(times: list[str]) -> bool:
    """Every time on a whole minute and (with two or more) a minute or more apart."""
    if not times or any(not t.endswith(":00") for t in times):
        return False
    return len(times) < 2 or times[0][:5] != times[1][:5]


def _sleep(times: list[str], states: list[Any], day: dt.date, ctx: Context) -> Parsed:
    """The sleep tutorial's minute table → a v1 sleep log of one session."""
    try:
        first = dt.datetime.combine(day, dt.time.fromisoformat(times[0])) if times else None
    except ValueError as exc:
        raise DataError(f"sleep table: bad time {times[0]!r}") from exc
    if first is None:
        return Parsed("sleep_v1_table", {}, {})
    log = {
        "startTime": first.isoformat(),
        "duration": len(times) * 60_000,
        "minuteData": [
            {"dateTime": t, "value": str(s).strip().split(".")[0]}
            for t, s in zip(times, states, strict=True)
        ],
    }
    parsed = parse({"sleep": [log]}, ctx.zone, units=ctx.units)
    return Parsed("sleep_v1_table", parsed.tables, parsed.spans)

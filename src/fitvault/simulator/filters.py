"""The ``filter`` grammar of ``dataPoints.list`` (an AIP-160 subset), with the API's errors.

``restriction (AND restriction)*``, a restriction being ``<snake_type>.<member> <op> "<literal>"``;
only ``>=`` and ``<``; ``OR`` only between sleep end-time members; physical and civil members
cannot be mixed. Errors carry the measured ``detailedReasons`` and per-restriction
``fieldViolations`` with their column (spec §1.7).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from fitvault import catalog
from fitvault._time import parse_rfc3339
from fitvault.catalog import DataType, RecordKind

_TOKEN = re.compile(r'\s*(?:(?P<str>"[^"]*")|(?P<op>>=|<=|!=|>|<|=)|(?P<word>[A-Za-z0-9_.\-:]+))')
_CIVIL = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class FilterError(Exception):
    reasons: list[str]
    violations: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        return f"Invalid data point filter: {', '.join(self.reasons)}."


@dataclass(frozen=True)
class Bound:
    member: str  # e.g. "sample_time.physical_time"
    op: str  # ">=" or "<"
    value: dt.datetime | dt.date  # aware UTC for physical members, naive for civil, date
    civil: bool


@dataclass(frozen=True)
class Filter:
    """Parsed restrictions; ``any_of`` holds OR-ed groups (only sleep end members)."""

    groups: tuple[tuple[Bound, ...], ...]

    @property
    def civil(self) -> bool:
        return any(b.civil for g in self.groups for b in g)


def allowed_members(dtype: DataType) -> dict[str, str]:
    """member → literal kind ("physical" | "civil" | "date") accepted for this type."""
    if dtype.kind is RecordKind.SAMPLE:
        return {"sample_time.physical_time": "physical", "sample_time.civil_time": "civil"}
    if dtype.kind is RecordKind.DAILY:
        return {"date": "date"}
    if dtype.filter_override:  # sleep: filtered on its end
        return {"interval.end_time": "physical", "interval.civil_end_time": "civil"}
    if dtype.lower_bound_only:  # ECG: only `interval.start_time >=`
        return {"interval.start_time": "physical"}
    if dtype.kind is RecordKind.SESSION:
        return {"interval.civil_start_time": "civil"}
    return {"interval.start_time": "physical", "interval.civil_start_time": "civil"}


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise FilterError(
                ["INVALID_DATA_POINT_FILTER_SYNTAX"],
                [f"Unexpected character. (at line 1, column {pos + 1})"],
            )
        kind = m.lastgroup or "word"
        start = m.start(kind)
        out.append((kind, m.group(kind), start + 1))
        pos = m.end()
    return out


def parse(text: str, dtype: DataType) -> Filter:
    """Parse and validate a filter for ``dtype``; raises FilterError like the API does."""
    toks = _tokens(text)
    groups: list[list[Bound]] = [[]]
    reasons: list[str] = []
    violations: list[str] = []
    connectives: list[str] = []
    i = 0
    while i < len(toks):
        if len(toks) - i < 3:
            raise FilterError(
                ["INVALID_DATA_POINT_FILTER_UNEXPECTED_END_OF_INPUT"],
                [f"Unexpected end of input. (at line 1, column {toks[i][2]})"],
            )
        (k1, member, col), (k2, op, _), (k3, lit, _) = toks[i : i + 3]
        if k1 != "word" or k2 != "op" or k3 != "str":
            raise FilterError(
                ["INVALID_DATA_POINT_FILTER_UNEXPECTED_TOKEN"],
                [f"Unexpected token. (at line 1, column {col})"],
            )
        bound = _restriction(member, op, lit[1:-1], col, dtype, reasons, violations)
        if bound is not None:
            groups[-1].append(bound)
        i += 3
        if i < len(toks):
            kind, word, col = toks[i]
            if kind != "word" or word not in ("AND", "OR"):
                raise FilterError(
                    ["INVALID_DATA_POINT_FILTER_UNEXPECTED_TOKEN"],
                    [f"Unexpected token '{word}'. (at line 1, column {col})"],
                )
            connectives.append(word)
            if word == "OR":
                groups.append([])
            i += 1
    if reasons:
        raise FilterError(reasons, violations)
    if "OR" in connectives and dtype.name != "sleep":
        raise FilterError(["INVALID_DATA_POINT_FILTER_EXPRESSION_STRUCTURE"])
    parsed = Filter(tuple(tuple(g) for g in groups))
    _check_consistency(parsed)
    return parsed


def _restriction(
    member: str,
    op: str,
    literal: str,
    col: int,
    dtype: DataType,
    reasons: list[str],
    violations: list[str],
) -> Bound | None:
    prefix, _, rest = member.partition(".")
    if prefix != dtype.snake:
        known = {t.snake for t in catalog.DATA_TYPES.values()}
        reason = (
            "INVALID_DATA_POINT_FILTER_COLLECTION_MISMATCH"
            if prefix in known
            else "INVALID_DATA_POINT_FILTER_DATA_TYPE_RESTRICTION"
        )
        reasons.append(reason)
        violations.append(
            f"Member '{member}' does not match the data type. (at line 1, column {col})"
        )
        return None
    kind = allowed_members(dtype).get(rest)
    if kind is None:
        reasons.append("INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER")
        violations.append(
            f"Member '{member}' is not supported for filtering. (at line 1, column {col})"
        )
        return None
    if op not in (">=", "<") or (dtype.lower_bound_only and op != ">="):
        reasons.append("INVALID_DATA_POINT_FILTER_RESTRICTION_COMPARATOR")
        violations.append(f"Comparator '{op}' is not supported. (at line 1, column {col})")
        return None
    try:
        value = _literal(literal, kind)
    except ValueError:
        reasons.append("INVALID_DATA_POINT_FILTER_RESTRICTION_COMPARABLE")
        violations.append(f"Invalid value '{literal}'. (at line 1, column {col})")
        return None
    return Bound(rest, op, value, kind == "civil")


def _literal(text: str, kind: str) -> dt.datetime | dt.date:
    if kind == "physical":
        if "T" not in text:
            raise ValueError(text)
        return parse_rfc3339(text)
    if kind == "date":
        if not _DATE.match(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    if not _CIVIL.match(text):
        raise ValueError(text)
    return dt.datetime.fromisoformat(text)


def _check_consistency(parsed: Filter) -> None:
    kinds = {b.civil for g in parsed.groups for b in g}
    if len(kinds) > 1:
        raise FilterError(["INVALID_DATA_POINT_FILTER_MIXED_TIME_RESTRICTIONS"])
    for group in parsed.groups:
        lows = [b.value for b in group if b.op == ">="]
        highs = [b.value for b in group if b.op == "<"]
        if lows and highs and max(lows) >= min(highs):
            raise FilterError(["INVALID_TIME_RANGE"])


def bounds(group: tuple[Bound, ...]) -> tuple[object | None, object | None]:
    """The tightest [low, high) of one AND-group (None = open)."""
    lows = [b.value for b in group if b.op == ">="]
    highs = [b.value for b in group if b.op == "<"]
    return (max(lows) if lows else None, min(highs) if highs else None)

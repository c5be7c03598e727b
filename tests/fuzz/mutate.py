"""Hypothesis strategies that turn a well-formed input into a hostile one.

A JSON seed is decoded and damaged in its tree (a value replaced by a hostile one, a key
dropped, a record duplicated, a node wrapped deep), re-encoded (``NaN`` / ``Infinity``
literals allowed, compact or indented), then damaged as bytes (a BOM, CRLF line ends,
non-UTF-8 bytes, truncation). A CSV seed gets the same treatment cell by cell. The hostile
values are the ones real exports and hand-saved files carry: wrong JSON types, nulls, huge and
negative numbers, ``"NaN"`` / ``"Infinity"`` strings, impossible dates and zones.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

HOSTILE_STRINGS = [
    "", " ", "NaN", "nan", "Infinity", "-Infinity", "inf", "1e400", "-1e400", "1e-400",
    "99999999999999999999999", "-1", "0", "0x1F", "1,5", "١٢٣",  # Arabic-Indic digits
    "abc", "null", "true", "\x00", "\ufeff", "💓", "a" * 300,
    "02/30/26 04:00:01", "13/01/26 00:00:00", "04/08/26 25:61:61", "4/8/26 4:00:01",
    "00/00/00 00:00:00", "12/31/69 23:59:59", "01/01/70 00:00:00",
    "2026-02-30T00:00:00", "2026-13-01T00:00:00", "9999-12-31T23:59:59", "0001-01-01T00:00:00",
    "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2026-04-08T04:35:00+99:00",
    "2026-04-08T04:35:00.123456789Z", "2026-04-08", "24:00:00", "23:59:60", "-00:00:01",
    "-14400s", "99999999999s", "1e400s", "NaNs", "s", "-50400s", "86400s",
    "Mars/Olympus_Mons", "../../etc/localtime", "Out of Range",
]  # fmt: skip
HOSTILE_NUMBERS = [
    0, -1, 1, 2**31, -(2**31) - 1, 2**63, -(2**63) - 1, 2**64, 10**30, -(10**30), 10**400,
    0.5, -0.0, 1e308, -1e308, 5e-324, float("nan"), float("inf"), float("-inf"),
]  # fmt: skip

LEAF = (
    st.sampled_from(HOSTILE_STRINGS)
    | st.sampled_from(HOSTILE_NUMBERS)
    | st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
JUNK = st.recursive(
    LEAF,
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every node of a JSON tree, as the keys/indices leading to it (root first)."""
    out = [at]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*at, i))
    return out


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def _set(root: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    _get(root, path[:-1])[path[-1]] = new
    return root


@st.composite
def mutated_tree(draw: st.DrawFn, value: Any) -> Any:
    """``value`` (decoded JSON, copied) with up to four damaged nodes."""
    root = json.loads(json.dumps(value))
    for _ in range(draw(st.integers(0, 4))):
        paths = _paths(root)
        path = draw(st.sampled_from(paths))
        node = _get(root, path) if path else root
        op = draw(st.sampled_from(["leaf", "junk", "drop", "dup", "nest", "deep", "type"]))
        if op == "leaf":
            root = _set(root, path, draw(LEAF))
        elif op == "junk":
            root = _set(root, path, draw(JUNK))
        elif op == "drop" and path:
            parent = _get(root, path[:-1])
            del parent[path[-1]]
        elif op == "dup" and isinstance(node, list) and node:
            node.extend(node[: draw(st.integers(1, 3))] * draw(st.integers(1, 50)))
        elif op == "nest":
            depth = draw(st.sampled_from([2, 30, 200]))
            wrap = draw(st.booleans())
            for _ in range(depth):
                node = [node] if wrap else {"value": node}
            root = _set(root, path, node)
        elif op == "deep":  # deeper than any recursive decoder goes: spliced in as text
            root = _set(root, path, DEEP)
        elif op == "type":  # the same value as another JSON type
            swap = {str: lambda v: float(v) if _floaty(v) else [v], int: str, float: str,
                    bool: int, type(None): lambda v: "", list: lambda v: {"0": v},
                    dict: lambda v: list(v.values())}  # fmt: skip
            root = _set(root, path, swap[type(node)](node))
    return root


def _floaty(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


DEEP = "\x00deep"
DEEP_TEXT = b"[" * 100_000 + b"]" * 100_000


def _encode(value: Any, indent: int | None) -> bytes:
    text = json.dumps(value, indent=indent, allow_nan=True).encode("utf-8", "surrogatepass")
    return text.replace(b'"\\u0000deep"', DEEP_TEXT)


@st.composite
def mutated_bytes(draw: st.DrawFn, body: bytes) -> bytes:
    """Byte-level damage: BOM, CRLF, a non-UTF-8 byte, truncation, junk after the end."""
    if draw(st.booleans()):
        return body
    ops = draw(st.lists(st.sampled_from(["bom", "crlf", "latin1", "cut", "tail", "nul"]),
                        min_size=1, max_size=3))  # fmt: skip
    for op in ops:
        at = draw(st.integers(0, len(body)))
        if op == "bom":
            body = b"\xef\xbb\xbf" + body
        elif op == "crlf":
            body = body.replace(b"\n", b"\r\n")
        elif op == "latin1":
            body = (
                body[:at]
                + draw(st.sampled_from([b"\xb5", b"\xff\xfe", b"\xc3", b"\xed\xa0\x80"]))
                + body[at:]
            )
        elif op == "cut":
            body = body[:at]
        elif op == "tail":
            body = body + draw(st.sampled_from([b" ", b"\n", b"}", b"]", b",", b"\x00", b"[]"]))
        elif op == "nul":
            body = body[:at] + b"\x00" + body[at:]
    return body


@st.composite
def mutated_json(draw: st.DrawFn, seed: bytes) -> bytes:
    tree = draw(mutated_tree(json.loads(seed)))
    indent = draw(st.sampled_from([None, 2]))
    text = _encode(tree, indent)
    if indent == 2 and draw(st.booleans()):
        text = text.replace(b'": ', b'" : ')  # the export's Jackson spacing
    return draw(mutated_bytes(text))


@st.composite
def mutated_csv(draw: st.DrawFn, seed: bytes) -> bytes:
    """Cells replaced by hostile strings, columns or rows dropped or repeated."""
    newline = b"\r\n" if b"\r\n" in seed else b"\n"
    rows = [line.split(b",") for line in seed.rstrip(b"\r\n").split(newline)]
    for _ in range(draw(st.integers(0, 4))):
        r = draw(st.integers(0, len(rows) - 1))
        op = draw(st.sampled_from(["cell", "drop-col", "dup-row", "drop-row", "short", "quote"]))
        if op == "cell" and rows[r]:
            c = draw(st.integers(0, len(rows[r]) - 1))
            cell = draw(st.sampled_from(HOSTILE_STRINGS) | st.text(max_size=10))
            rows[r][c] = cell.replace(",", ";").encode("utf-8", "surrogatepass")
        elif op == "drop-col" and rows[0]:
            c = draw(st.integers(0, len(rows[0]) - 1))
            rows = [row[:c] + row[c + 1 :] for row in rows]
        elif op == "dup-row":
            rows += [rows[r]] * draw(st.integers(1, 30))
        elif op == "drop-row" and len(rows) > 1:
            del rows[r]
        elif op == "short":
            rows[r] = rows[r][: draw(st.integers(0, len(rows[r])))]
        elif op == "quote":
            rows[r] = [b'"' + rows[r][0] if rows[r] else b'"', *rows[r][1:]]
    return draw(mutated_bytes(newline.join(b",".join(row) for row in rows) + newline))


def mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    """Hostile variants of a seed (JSON or CSV by its first byte), and sometimes any bytes."""
    shaped = mutated_json(seed) if seed[:1] in (b"[", b"{") else mutated_csv(seed)
    return st.one_of(shaped, shaped, shaped, st.binary(max_size=64))

"""The vault: one DuckDB file holding typed tables, sync state and the raw pages they came from.

Intraday tables have no index (an ART primary key made heart-rate writes 3× slower and the file
25× larger); a batch is merged on its natural key instead (``fitvault.provenance``):

1. rows of the same source whose range column lies in the span the batch answers for, or that
   have a key of the batch, are replaced (the server's answer for that span replaces what we
   had: revised sleep sessions whose start moved do not linger); a changed or dropped row goes
   to the revision history;
2. across sources, one row per reading: the best-ranked source's row stands in the table, the
   others' rows are kept beside it (``_others_<table>``), whatever the order they came in.

Rows, the raw page and the sync state they imply commit in one transaction, so a killed sync
leaves either all of a page or none of it. A raw page whose span a later page of the same type
answered for again (the lag re-reads) is dropped in that transaction: replaying the later page
deletes everything the earlier one added.

Raw pages are kept in chunk tables (``_raw_pages_0000``, …) behind one ``_raw_pages`` view.
DuckDB rewrites every column of a row group it appended to at each checkpoint, and a row group
holds 122 880 rows — more pages than a vault ever keeps — so with one table every checkpoint
(every commit of a transient store) re-read and re-wrote every body kept so far: a year's
heart-rate backfill peaked at 516 MB and slowed with each year. A full chunk is never appended
to again, so a checkpoint rewrites at most one chunk.

The schema evolves by migrations: ``_meta.schema_version`` is checked on open and the steps up
to ``SCHEMA_VERSION`` run in one transaction (new tables, new columns). The directory is private
(0700) and the file 0600: it holds health data. DuckDB errors are translated here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from fitvault import catalog, provenance, views
from fitvault._errors import VaultError, VaultLocked
from fitvault._time import from_us, us_to_date
from fitvault.catalog import DataType, Table

if TYPE_CHECKING:  # pandas is loaded by the first DataFrame asked for, not by a sync
    import pandas as pd

VAULT_FILE = "vault.duckdb"
SCHEMA_VERSION = 4
CODEC = "zstd"
REFERENCE = "ref"  # the codec of a page kept by reference (``RawPage.reference``): no body
MEMORY_LIMIT = "1GB"  # DuckDB's own buffer; spills to disk beyond it
DUCKDB_HEADERS = 3 * 4096  # the main header and two database headers at the head of the file
LOCK_WAIT_S = 30.0  # how long opening waits for another process to let go of the file
HOLD_S = 0.5  # the longest a transient store (a sync) keeps the file between uses
RAW_CHUNK_PAGES = 128  # a chunk of raw pages is full at this many pages (≈ 6 MB of heart rate)
RAW_CHUNK_BYTES = 256 * 2**20  # … or at this many uncompressed bytes
_RAW_CHUNK = re.compile(r"_raw_pages_(\d{4})")

_META_DDL = """
CREATE TABLE IF NOT EXISTS _meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS _sync_state (
    data_type VARCHAR, source VARCHAR, covered_from TIMESTAMPTZ, covered_to TIMESTAMPTZ,
    updated_at TIMESTAMPTZ);
CREATE SEQUENCE IF NOT EXISTS _raw_pages_id;
"""
_RAW_DDL = """CREATE TABLE IF NOT EXISTS {name} (
    id BIGINT DEFAULT nextval('_raw_pages_id'), data_type VARCHAR, source VARCHAR,
    request VARCHAR, fetched_at TIMESTAMPTZ, replace_from BIGINT, replace_to BIGINT,
    codec VARCHAR, raw_size BIGINT, body BLOB);"""


@dataclass(frozen=True)
class RawPage:
    """A response body as received, with the request that produced it."""

    data_type: str
    source: str
    request: dict[str, Any]
    body: bytes
    fetched_at: dt.datetime
    # Kept by reference: no body stored, the request names where the bytes are (a Takeout
    # member in the user's own archive, with its size and SHA-256) and its reader re-reads them.
    reference: bool = False
    # Packed (``packed()``): ``body`` holds the bytes as the vault keeps them (``CODEC``) and
    # ``size`` the length received.
    compressed: bool = False
    size: int = 0

    def packed(self) -> RawPage:
        """This page with its body compressed as the vault keeps it. A sync packs each page as
        soon as it is parsed: its buffers hold pages until a commit, ≈ 10× smaller so."""
        if self.compressed or self.reference:
            return self
        body = pa.compress(self.body, codec=CODEC, asbytes=True)
        return dataclasses.replace(self, body=body, compressed=True, size=len(self.body))


@dataclass(frozen=True)
class StoredPage:
    id: int
    page: RawPage
    replace: tuple[int, int] | None


def _ddl(table: Table, name: str | None = None) -> str:
    cols = ", ".join(f'"{c.name}" {c.sql}' for c in table.columns)
    return f"CREATE TABLE IF NOT EXISTS {name or table.name} ({cols});"


class Store:
    """An open vault file. Use as a context manager; one writer at a time."""

    def __init__(
        self,
        directory: Path,
        *,
        read_only: bool = False,
        create: bool = True,
        transient: bool = False,
        wait: float = LOCK_WAIT_S,
    ) -> None:
        """Open (or create) the vault in ``directory``.

        ``transient`` keeps the file open only while it is used — for each transaction or
        read — so that readers in other processes (a notebook beside a running sync) get in
        between. Opening waits up to ``wait`` seconds while another process holds the file.
        """
        self.path = Path(directory) / VAULT_FILE
        self.read_only, self.transient, self.wait = read_only, transient, wait
        if not self.path.exists() and (read_only or not create):
            raise VaultError(
                f"No vault at {self.path}; sign in with `fitvault auth --vault {directory}` "
                "and run `fitvault sync` (or try `fitvault demo`)."
            )
        if not read_only:
            _private_dir(self.path.parent)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._opened = 0.0
        self._timer: threading.Timer | None = None
        self._lock = threading.RLock()  # one user of the connection at a time (sync threads)
        # Taken (before ``_lock``) by the idle close and its checkpoint: a sync shares it with
        # its parsing and saving so that the three do not run at once (see Syncer).
        self.quiet: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
        self._depth = 0
        self._coverage: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self._pending_coverage: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self.record_revisions = True  # a rebuild replays history: nothing new to record
        self._known_sources: dict[str, set[str]] = {}  # valid while the file stays open
        self._unsaved: VaultError | None = None  # a checkpoint that could not be written
        with self._translate("opening the vault"):
            if not read_only:
                _private_file(self.path)
                self._ensure_schema()

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._known_sources.clear()
            self._con = _connect(self.path, self.read_only, self.wait)
            self._opened = time.monotonic()
            if not self.read_only:
                _private_file(self.path)
        return self._con

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        self._shut()
        if kind is None:
            self._raise_unsaved()

    def close(self) -> None:
        """Let go of the file; raises if a checkpoint could not be written (a full disk)."""
        self._shut()
        self._raise_unsaved()

    def _shut(self) -> None:
        """Close the connection. A writing store checkpoints first, itself: DuckDB's own
        checkpoint at close drops its errors, so a disk that filled up there went unreported
        (the rows safe in the write-ahead log, the command ending as if all were well). A
        failed checkpoint is kept and raised by the next use or an explicit close."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            con, self._con = self._con, None
            if con is None:
                return
            try:
                if not self.read_only:
                    con.execute("CHECKPOINT")
                    self._unsaved = None
            except duckdb.Error as exc:
                # Anything else (another connection's transaction still open) is left to
                # DuckDB's own checkpoint at close, as before.
                if _disk_full(exc):
                    self._unsaved = _vault_error(self.path, "writing the vault file", exc)
            finally:
                con.close()

    def _raise_unsaved(self) -> None:
        if self._unsaved is not None:
            error, self._unsaved = self._unsaved, None
            raise error

    def _let_go(self) -> None:
        """A transient store keeps the file at most ``HOLD_S`` from opening it: quick
        successive commits share one open, and a reader never waits longer than that."""
        if self._con is None:
            return
        due = self._opened + HOLD_S - time.monotonic()
        if due <= 0:
            self._shut()
        elif self._timer is None:
            self._timer = threading.Timer(due, self._idle_close)
            self._timer.daemon = True
            self._timer.start()

    def _idle_close(self) -> None:
        with self.quiet, self._lock:
            self._timer = None
            if self._depth == 0:
                self._shut()

    def _ensure_schema(self) -> None:
        """Create or migrate the schema, in one transaction."""
        with self.transaction("creating or upgrading the schema"):
            self.con.execute(_META_DDL)
            row = _first(
                self.con.execute("SELECT value FROM _meta WHERE key = 'schema_version'").fetchall()
            )
            version = int(json.loads(row[0])) if row else 0
            if version > SCHEMA_VERSION:
                raise VaultError(
                    f"{self.path} was written by a newer fitvault (schema {version}, this one "
                    f"knows {SCHEMA_VERSION}); upgrade fitvault (pip install -U fitvault)."
                )
            self.con.execute(provenance.DDL)
            self._raw_chunks()
            for table in catalog.TABLES.values():
                for name in (table.name, provenance.others(table.name)):
                    self.con.execute(_ddl(table, name))
                    self._add_missing_columns(table, name)
            if 0 < version < 3:
                self._resolve_sources()
            views.create_views(self.con)
            self.con.execute(
                "INSERT OR REPLACE INTO _meta VALUES ('schema_version', ?)",
                [json.dumps(SCHEMA_VERSION)],
            )

    def _add_missing_columns(self, table: Table, name: str) -> None:
        """Additive migration: columns the catalog declares that an older vault lacks."""
        have = {
            r[0]
            for r in self.con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                "AND schema_name = 'main'",
                [name],
            ).fetchall()
        }
        for col in table.columns:
            if col.name not in have:
                self.con.execute(f'ALTER TABLE {name} ADD COLUMN "{col.name}" {col.sql}')

    def _raw_chunks(self) -> list[str]:
        """The raw-page chunk tables, oldest first; migrates a single ``_raw_pages`` table
        (schema ≤ 3) into the first chunk and keeps the ``_raw_pages`` view over them."""
        kinds = dict(
            self.con.execute(
                "SELECT table_name, table_type FROM information_schema.tables "
                "WHERE table_schema = 'main' AND starts_with(table_name, '_raw_pages')"
            ).fetchall()
        )
        if kinds.get("_raw_pages") == "BASE TABLE":
            self.con.execute(f"ALTER TABLE _raw_pages RENAME TO {_chunk_name(0)}")
            kinds = {**kinds, _chunk_name(0): "BASE TABLE"}
            del kinds["_raw_pages"]
        chunks = sorted(n for n in kinds if _RAW_CHUNK.fullmatch(n))
        if not chunks:
            chunks = [self._new_chunk(0)]
        if "_raw_pages" not in kinds:
            self._raw_view(chunks)
        return chunks

    def _new_chunk(self, n: int) -> str:
        self.con.execute(_RAW_DDL.format(name=_chunk_name(n)))
        return _chunk_name(n)

    def _raw_view(self, chunks: Sequence[str]) -> None:
        union = " UNION ALL ".join(f"SELECT * FROM {c}" for c in chunks)
        self.con.execute(f"CREATE OR REPLACE VIEW _raw_pages AS {union}")

    def _raw_chunk_for_insert(self) -> str:
        """The newest chunk, or a new one when it is full (its DDL joins the caller's
        transaction, so a kill leaves the chunk and its pages together or neither)."""
        chunks = self._raw_chunks()
        pages, size = _first(
            self.con.execute(
                f"SELECT count(*), coalesce(sum(raw_size), 0) FROM {chunks[-1]}"
            ).fetchall()
        )
        if pages < RAW_CHUNK_PAGES and size < RAW_CHUNK_BYTES:
            return chunks[-1]
        chunks.append(self._new_chunk(len(chunks)))
        self._raw_view(chunks)
        return chunks[-1]

    def _resolve_sources(self) -> None:
        """Schema 2 → 3: record which sources each table holds, and bring tables that several
        sources wrote (last writer wins) to one row per reading."""
        merger = provenance.Merger(self.con)
        for shape in provenance.shapes(catalog.VAULT_TYPES):
            self.con.execute(
                f"INSERT OR IGNORE INTO _sources SELECT DISTINCT '{shape.name}', source "
                f"FROM {shape.name} WHERE source IS NOT NULL"
            )
            merger.resolve(shape)

    @property
    def schema_version(self) -> int:
        value = self.get_meta("schema_version")
        return int(value) if value is not None else 0

    @contextlib.contextmanager
    def _translate(self, doing: str) -> Iterator[None]:
        """Translate DuckDB errors; a transient store lets go of the file when done."""
        with self._lock:
            self._depth += 1
            try:
                self._raise_unsaved()
                yield
            except duckdb.Error as exc:
                raise _vault_error(self.path, doing, exc) from exc
            finally:
                self._depth -= 1
                if self._depth == 0 and self.transient:
                    self._let_go()

    @contextlib.contextmanager
    def transaction(self, doing: str) -> Iterator[None]:
        with self._translate(doing):
            self.con.begin()
            try:
                yield
            except BaseException:
                self._pending_coverage.clear()
                self._known_sources.clear()
                self.con.rollback()
                raise
            self.con.commit()
            self._coverage.update(self._pending_coverage)
            self._pending_coverage.clear()

    # --- writing ----------------------------------------------------------------------------

    def commit_page(
        self,
        dtype: DataType,
        tables: dict[str, pa.Table],
        *,
        source: str,
        replace: tuple[int, int] | None,
        covered: tuple[int, int] | None,
        raw: RawPage | None,
    ) -> None:
        """Merge one page's rows, keep its raw body and extend coverage, atomically."""
        self.commit(
            dtype,
            tables,
            source=source,
            replaces=[replace] if replace else [],
            covered=covered,
            raws=[(raw, replace)] if raw else [],
        )

    def commit(
        self,
        dtype: DataType,
        tables: dict[str, pa.Table],
        *,
        source: str,
        replaces: Sequence[tuple[int, int]],
        covered: tuple[int, int] | None,
        raws: Sequence[tuple[RawPage, tuple[int, int] | None]] = (),
    ) -> None:
        """Merge the rows of one or more pages, keep their raw bodies (each with the span it
        answered for, so a rebuild replays exactly) and extend coverage, in one transaction."""
        with self.transaction(f"saving {dtype.name} data"):
            self.merge(dtype, tables, source=source, replaces=replaces)
            if raws:
                newest = self._newest_raw_id()
                self._keep_raw(raws)
                self._prune_raw(dtype.name, source, replaces, upto=newest)
            if covered is not None:
                self._add_coverage(dtype.name, source, covered)

    def merge(
        self,
        dtype: DataType,
        tables: dict[str, pa.Table],
        *,
        source: str,
        replaces: Sequence[tuple[int, int]] = (),
    ) -> None:
        """The merge described in the module docstring (caller holds the transaction)."""
        spans = merge_spans(replaces)
        merger = provenance.Merger(
            self.con, revisions=self.record_revisions, known=self._known_sources
        )
        for shape in provenance.shapes([dtype]):
            bounds = [
                tuple(_bound(shape.table, shape.table.range_column, v) for v in s) for s in spans
            ]
            children = {c.name: tables[c.name] for c in shape.children if c.name in tables}
            merger.merge(shape, tables.get(shape.name), children, source, bounds)

    def _keep_raw(self, raws: Sequence[tuple[RawPage, tuple[int, int] | None]]) -> None:
        def body(r: RawPage) -> bytes | None:
            return None if r.reference else r.packed().body

        def size(r: RawPage) -> int:
            if r.reference:
                return int(r.request.get("size", 0))
            return r.size if r.compressed else len(r.body)

        rows = pa.table(
            {
                "data_type": [r.data_type for r, _ in raws],
                "source": [r.source for r, _ in raws],
                "request": [json.dumps(r.request, sort_keys=True) for r, _ in raws],
                "fetched_at": pa.array(
                    [r.fetched_at for r, _ in raws], pa.timestamp("us", tz="UTC")
                ),
                "replace_from": pa.array(
                    [span[0] if span else None for _, span in raws], pa.int64()
                ),
                "replace_to": pa.array([span[1] if span else None for _, span in raws], pa.int64()),
                "codec": [REFERENCE if r.reference else CODEC for r, _ in raws],
                "raw_size": pa.array([size(r) for r, _ in raws], pa.int64()),
                "body": pa.array([body(r) for r, _ in raws], pa.binary()),
            }
        )
        self.con.register("_raws", rows)
        try:
            chunk = self._raw_chunk_for_insert()
            self.con.execute(f"INSERT INTO {chunk} BY NAME SELECT * FROM _raws")
        finally:
            self.con.unregister("_raws")

    def _newest_raw_id(self) -> int:
        """Ids only grow, so the newest non-empty chunk holds the largest (a commit costs the
        same however many chunks a long history has made)."""
        for chunk in reversed(self._raw_chunks()):
            row = _first(self.con.execute(f"SELECT max(id) FROM {chunk}").fetchall())
            if row and row[0] is not None:
                return int(row[0])
        return 0

    def _prune_raw(
        self, data_type: str, source: str, replaces: Sequence[tuple[int, int]], *, upto: int
    ) -> None:
        """Drop raw pages kept before ``upto`` whose whole span these pages answered for again.

        One read over every chunk finds them (usually none: a backfill answers for new spans);
        only chunks holding some are then written to."""
        spans = merge_spans(replaces)
        if not spans:
            return
        match = " OR ".join("(replace_from >= ? AND replace_to <= ?)" for _ in spans)
        where = f"data_type = ? AND source = ? AND id <= ? AND ({match})"
        values = [data_type, source, upto, *(v for span in spans for v in span)]
        ids = [
            int(r[0])
            for r in self.con.execute(f"SELECT id FROM _raw_pages WHERE {where}", values).fetchall()
        ]
        if not ids:
            return
        for chunk in self._raw_chunks():
            self.con.execute(f"DELETE FROM {chunk} WHERE id IN (SELECT unnest(?))", [ids])

    # --- sync state -----------------------------------------------------------------------

    def coverage(self, data_type: str, source: str) -> list[tuple[int, int]]:
        """Merged, sorted [from, to) spans (µs) of the range axis already stored."""
        cached = self._coverage.get((data_type, source))
        if cached is not None:
            return list(cached)
        with self._translate("reading sync state"):
            rows = self.con.execute(
                "SELECT epoch_us(covered_from), epoch_us(covered_to) FROM _sync_state "
                "WHERE data_type = ? AND "
                "source = ? ORDER BY covered_from",
                [data_type, source],
            ).fetchall()
        spans = [(int(a), int(b)) for a, b in rows]
        self._coverage[(data_type, source)] = spans
        return list(spans)

    def _add_coverage(self, data_type: str, source: str, span: tuple[int, int]) -> None:
        merged = merge_spans([*self.coverage(data_type, source), span])
        self.con.execute(
            "DELETE FROM _sync_state WHERE data_type = ? AND source = ?", [data_type, source]
        )
        values = ", ".join(
            "(?, ?, make_timestamptz(?), make_timestamptz(?), now())" for _ in merged
        )
        params = [v for a, b in merged for v in (data_type, source, a, b)]
        self.con.execute(f"INSERT INTO _sync_state VALUES {values}", params)
        # The cache may only change once the transaction commits; the caller's commit follows.
        self._pending_coverage[(data_type, source)] = merged

    def set_meta(self, key: str, value: Any) -> None:
        with self._translate("saving account details"):
            self.con.execute(
                "INSERT OR REPLACE INTO _meta VALUES (?, ?)",
                [key, json.dumps(value, sort_keys=True)],
            )

    def get_meta(self, key: str) -> Any:
        with self._translate("reading account details"):
            row = _first(
                self.con.execute("SELECT value FROM _meta WHERE key = ?", [key]).fetchall()
            )
        return json.loads(row[0]) if row else None

    # --- reading ----------------------------------------------------------------------------

    def df(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Query → DataFrame via Arrow (dates become datetime64, instants stay UTC-aware)."""
        with self._translate("querying"):
            table = self.con.sql(sql, params=list(params)).to_arrow_table()
        frame: pd.DataFrame = table.to_pandas(date_as_object=False)
        return frame

    @contextlib.contextmanager
    def session(self, doing: str = "reading") -> Iterator[None]:
        """Keep a transient store's file open across several calls (one open, one close)."""
        with self._translate(doing):
            yield

    def counts(self, tables: Sequence[str]) -> dict[str, int]:
        with self.session("counting rows"):
            return {t: self.count(t) for t in tables}

    def count(self, table: str) -> int:
        with self._translate("counting rows"):
            row = _first(self.con.execute(f"SELECT count(*) FROM {table}").fetchall())
        return int(row[0]) if row else 0

    def raw_pages(self) -> Iterator[StoredPage]:
        """Every kept page in the order it was stored."""
        with self._translate("reading raw pages"):
            cur = self.con.cursor().execute(
                "SELECT id, data_type, source, request, epoch_us(fetched_at), replace_from, "
                "replace_to, "
                "codec, raw_size, body FROM _raw_pages ORDER BY id"
            )
            while batch := cur.fetchmany(64):
                for row in batch:
                    ref = row[7] == REFERENCE
                    body = b"" if ref else pa.decompress(
                        row[9], decompressed_size=row[8], codec=row[7], asbytes=True
                    )  # fmt: skip
                    page = RawPage(
                        row[1], row[2], json.loads(row[3]), body, from_us(row[4]), reference=ref
                    )
                    replace = (row[5], row[6]) if row[5] is not None else None
                    yield StoredPage(row[0], page, replace)

    def clear_tables(self) -> None:
        """Empty every table (and the other sources' rows) before a rebuild; the revision
        history stays."""
        for table in catalog.TABLES.values():
            self.con.execute(f"DELETE FROM {table.name}")
            self.con.execute(f"DELETE FROM {provenance.others(table.name)}")
        self.con.execute("DELETE FROM _sources")
        self._known_sources.clear()


def _connect(path: Path, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
    """Open the file, waiting while another process holds it (a sync commits in moments)."""
    deadline = time.monotonic() + wait
    creating = time.monotonic() + min(wait, 2.0)  # a creating writer locks the file at once
    pause = 0.02
    while True:
        existed = path.exists()
        try:
            con = duckdb.connect(
                str(path),
                read_only=read_only,
                # A new file in the format DuckDB 1.x reads too (fitvault.views).
                config={
                    "memory_limit": MEMORY_LIMIT,
                    "storage_compatibility_version": views.STORAGE_VERSION,
                },
            )
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                if read_only and _being_created(path) and time.monotonic() < creating:
                    time.sleep(pause)  # another process made the file and has yet to lock it
                    continue
                if not existed and not read_only:  # a half-made new file refuses later opens
                    _discard(path)
                raise VaultError(_open_failure(path, exc)) from exc
            if time.monotonic() >= deadline:
                raise VaultLocked(_locked_message(path, str(exc), wait)) from None
            time.sleep(pause)
            pause = min(pause * 1.5, 0.5)
            continue
        except duckdb.Error as exc:
            raise VaultError(_open_failure(path, exc)) from exc
        con.execute("SET TimeZone = 'UTC'")
        return con


def _open_failure(path: Path, exc: duckdb.Error) -> str:
    if _disk_full(exc):
        return (
            f"Cannot open {path}: the disk is full; free space, then rerun `fitvault sync` "
            "(or the same import)"
        )
    return f"Cannot open {path}: {exc}"


def _being_created(path: Path) -> bool:
    """A file shorter than DuckDB's headers: a writer has just created it (a reader opening in
    that moment, before the writer's lock, would otherwise call it not a database)."""
    try:
        return path.stat().st_size < DUCKDB_HEADERS
    except FileNotFoundError:
        return False


def _discard(path: Path) -> None:
    """Remove a vault file this very open created (nothing of the user's is in it yet)."""
    for leftover in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def _vault_error(path: Path, doing: str, exc: duckdb.Error) -> VaultError:
    if _disk_full(exc):
        return VaultError(
            f"{path}: the disk is full (while {doing}); what was saved before "
            "is kept: free space, then rerun `fitvault sync` (or the same import)"
        )
    return VaultError(f"{path}: failed while {doing}: {exc}")


def _disk_full(exc: duckdb.Error) -> bool:
    """DuckDB reports a full disk only in its message (ENOSPC's text, or DuckDB's own words)."""
    text = str(exc)
    return "No space left on device" in text or "out of disk space" in text.lower()


def _chunk_name(n: int) -> str:
    return f"_raw_pages_{n:04d}"


def _locked_message(path: Path, error: str, waited: float) -> str:
    """Who holds the vault, in words, and what to do (never DuckDB's own advice)."""
    m = re.search(r"PID (\d+)", error)
    holder = "another process"
    if m:
        pid = int(m.group(1))
        holder = f"process {pid}"
        with contextlib.suppress(OSError):
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
            cmd = " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)
            if "fitvault" in cmd and " sync" in cmd:
                holder = f"a running `fitvault sync` (process {pid})"
            elif "fitvault" in cmd:
                holder = f"fitvault (process {pid}: {cmd[:80]})"
            else:
                holder = f"another program (process {pid}: {cmd[:80]}), e.g. a notebook"
    return (
        f"{path} is held by {holder}; waited {waited:.0f} s. Let it finish, or close the "
        "connection that program holds (in a notebook: con.close()), then run the command again."
    )


def _first(rows: list[Any]) -> Any:
    """The first row or None (``fetchone`` would leave the result open, and DuckDB refuses
    other work on the connection until it is drained)."""
    return rows[0] if rows else None


def _bound(table: Table, column: str, value_us: int) -> Any:
    sql_type = table.column(column).sql
    if sql_type == "DATE":
        return us_to_date(value_us)
    if sql_type == "TIMESTAMP":  # local wall-clock time (the civil axis)
        return from_us(value_us).replace(tzinfo=None)
    return from_us(value_us)


def _private_dir(path: Path) -> None:
    """Create the vault directory readable by its owner alone (and tighten an existing one)."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except OSError as exc:
        raise VaultError(f"Cannot create the vault directory {path}: {exc.strerror}") from exc


def _private_file(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            if p.stat().st_mode & 0o077:
                p.chmod(0o600)


def merge_spans(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of half-open spans, sorted, touching spans joined."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out

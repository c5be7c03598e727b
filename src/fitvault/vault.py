"""The Python API: ``vault = fitvault.open()`` then ``vault.sync()``, ``vault.heart_rate()`` …

A ``Vault`` is a directory: ``vault.duckdb`` plus ``account.json`` and ``token.json`` (0600).
It opens the DuckDB file only for the duration of each call, so a notebook holding a ``Vault``
does not lock out ``fitvault sync`` in a terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import threading
from collections.abc import Callable, Coroutine, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx2
import platformdirs

from fitvault import catalog, importer, legacy_import, provenance
from fitvault import export as export_
from fitvault._errors import ConfigError
from fitvault._lock import sync_lock
from fitvault._time import parse_day
from fitvault.auth import (
    Account,
    Opener,
    TokenManager,
    TokenStore,
    account_for,
    authorize,
    browser_opener,
    check_writable,
)
from fitvault.catalog import DataType
from fitvault.http import ApiClient
from fitvault.legacy_sync import LegacyReport
from fitvault.normalise.google_health import normalise
from fitvault.store import Store
from fitvault.sync import ProgressFn, Syncer, SyncReport, TypePlan

if TYPE_CHECKING:  # matplotlib and pandas are imported when a figure or a frame is asked for
    import pandas as pd
    from matplotlib.figure import Figure

    from fitvault import frames

T = TypeVar("T")
ENV_HOME = "FITVAULT_HOME"
GOOGLE_HEALTH = "google-health"
FITBIT_LEGACY = "fitbit-legacy"
SOURCES = (GOOGLE_HEALTH, FITBIT_LEGACY)


def check_source(source: str) -> str:
    if source not in SOURCES:
        raise ConfigError(f"--source {source!r} is not one of {', '.join(SOURCES)}")
    return source


def default_directory() -> Path:
    """``$FITVAULT_HOME`` or the platform's user data directory."""
    return Path(os.environ.get(ENV_HOME) or platformdirs.user_data_dir("fitvault", appauthor=False))


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from synchronous code, also inside a running loop (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def parse_types(names: Sequence[str] | None) -> list[DataType]:
    if not names:
        return list(catalog.STORED_TYPES)
    out = []
    for name in names:
        try:
            dtype = catalog.get(name)
        except KeyError as exc:
            raise ConfigError(str(exc.args[0])) from None
        if not dtype.stored:
            known = ", ".join(t.name for t in catalog.STORED_TYPES)
            why = "it is write-only" if not dtype.readable else "it is reference data"
            raise ConfigError(f"fitvault does not sync {dtype.name} ({why}); it syncs: {known}")
        out.append(dtype)
    return out


class Vault:
    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_directory()
        if self.directory.exists() and not self.directory.is_dir():
            raise ConfigError(f"{self.directory} is a file; a vault is a directory")

    def __repr__(self) -> str:
        return f"Vault({str(self.directory)!r})"

    @contextlib.contextmanager
    def store(
        self, *, read_only: bool = False, create: bool = True, transient: bool = False
    ) -> Iterator[Store]:
        with Store(
            self.directory, read_only=read_only, create=create, transient=transient
        ) as store:
            yield store

    # --- getting data in ----------------------------------------------------------------

    def authorize(
        self,
        *,
        server: str | None = None,
        client_secrets: str | os.PathLike[str] | None = None,
        types: Sequence[str] | None = None,
        open_url: Opener | None = browser_opener,
        show_url: Callable[[str], None] | None = None,
        timeout: float = 300.0,
        transport: httpx2.AsyncBaseTransport | None = None,
        redirect_port: int = 0,
        source: str = GOOGLE_HEALTH,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> dict[str, Any]:
        """Sign in (OAuth 2.0 + PKCE on a loopback port) and keep the tokens in the vault.

        ``source="fitbit-legacy"`` signs in to the legacy Fitbit Web API instead (fitbit.com,
        or ``server``): it needs the app's ``client_id`` and ``client_secret`` unless ``server``
        is given. The vault directory is checked to be writable before anyone is sent to a
        consent page.
        """
        if check_source(source) == FITBIT_LEGACY:
            from fitvault import legacy_auth

            legacy = legacy_auth.account_for(server, client_id, client_secret)
            check_writable(self.directory)
            token = run(
                legacy_auth.authorize(
                    legacy,
                    self.directory,
                    open_url=open_url,
                    show_url=show_url,
                    timeout=timeout,
                    transport=transport,
                    redirect_port=redirect_port,
                )
            )
            return {"scopes": str(token.get("scope", "")).split()}
        scopes = catalog.scopes_for(parse_types(types))
        secrets = Path(client_secrets) if client_secrets else None
        account = account_for(scopes, server=server, client_secrets=secrets)
        check_writable(self.directory)
        coro = authorize(
            account,
            self.directory,
            open_url=open_url,
            show_url=show_url,
            timeout=timeout,
            transport=transport,
            redirect_port=redirect_port,
        )
        token = run(coro)
        return {"scopes": token.get("scope", "").split()}

    def sync(
        self,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        types: Sequence[str] | None = None,
        *,
        progress: ProgressFn | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        per_minute: int | None = 300,
        lag: dt.timedelta | None = None,
        concurrency: int = 4,
        source: str = GOOGLE_HEALTH,
        server: str | None = None,
    ) -> SyncReport:
        """Fetch what the vault is missing (plus the recent days wearables revise).

        Long heart-rate spans are walked in up to ``concurrency`` pieces at once (each piece
        costs at most one extra, partly filled page); ``concurrency=1`` makes strictly the
        fewest requests. ``source="fitbit-legacy"`` syncs from the legacy Fitbit Web API
        (``types`` then names its series, see ``fitvault.sources.fitbit_legacy.SERIES``;
        ``server`` overrides the URL saved by ``authorize``).
        """
        if check_source(source) == FITBIT_LEGACY:
            return run(
                self.async_legacy_sync(
                    since,
                    until,
                    types,
                    progress=progress,
                    transport=transport,
                    lag=lag,
                    server=server,
                )
            )
        return run(
            self.async_sync(
                since,
                until,
                types,
                progress=progress,
                transport=transport,
                per_minute=per_minute,
                lag=lag,
                concurrency=concurrency,
            )
        )

    async def async_sync(
        self,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        types: Sequence[str] | None = None,
        *,
        progress: ProgressFn | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        per_minute: int | None = 300,
        lag: dt.timedelta | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        max_window: dt.timedelta | None = None,
        concurrency: int = 4,
    ) -> SyncReport:
        wanted = parse_types(types)
        first, last = _date(since, "since"), _date(until, "until")
        account = Account.load(self.directory)
        tokens = TokenManager(account, TokenStore(self.directory), transport=transport)
        # One sync per vault at a time: a second one is refused (VaultLocked) at once.
        with sync_lock(self.directory):
            async with ApiClient(
                account.api_base, tokens, transport=transport, per_minute=per_minute
            ) as client:
                # Transient: the file is held only while a batch commits, so notebooks can read.
                with self.store(transient=True) as store:
                    kwargs: dict[str, Any] = {
                        "progress": progress,
                        "max_window": max_window,
                        "concurrency": concurrency,
                    }
                    if lag is not None:
                        kwargs["lag"] = lag
                    if clock is not None:
                        kwargs["clock"] = clock
                    syncer = Syncer(store, client, scopes=tokens.scopes, **kwargs)
                    return await syncer.run(wanted, first, last)

    async def async_legacy_sync(
        self,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        series: Sequence[str] | None = None,
        *,
        progress: ProgressFn | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        lag: dt.timedelta | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Coroutine[Any, Any, None]] | None = None,
        server: str | None = None,
    ) -> LegacyReport:
        """The legacy sync; ``clock`` (epoch seconds) and ``sleep`` run it in simulated time."""
        from fitvault import legacy_sync

        with sync_lock(self.directory), self.store(transient=True) as store:
            return await legacy_sync.sync_vault(
                self.directory,
                store,
                _date(since, "since"),
                _date(until, "until"),
                series,
                progress=progress,
                transport=transport,
                lag=lag,
                clock=clock,
                sleep=sleep,
                server=server,
            )

    def plan(
        self,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        types: Sequence[str] | None = None,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        concurrency: int = 4,
    ) -> list[TypePlan]:
        """Per type: the operation, windows and requests a sync would make (no data requests;
        the account's settings are read to know its time zone)."""
        wanted = parse_types(types)
        first, last = _date(since, "since"), _date(until, "until")

        async def go() -> list[TypePlan]:
            account = Account.load(self.directory)
            tokens = TokenManager(account, TokenStore(self.directory), transport=transport)
            async with ApiClient(account.api_base, tokens, transport=transport) as client:
                with self.store() as store:
                    syncer = Syncer(store, client, scopes=tokens.scopes, concurrency=concurrency)
                    return await syncer.plan(wanted, first, last)

        return run(go())

    def import_archive(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        zone: str | None = None,
        dry_run: bool = False,
        progress: importer.Progress | None = None,
        waiting: Callable[[str], None] | None = None,
    ) -> importer.ImportSummary:
        """Import a Google Takeout / Fitbit export: zips read in place (the parts of a
        multi-part export together) or an extracted folder. See ``fitvault.importer``.

        While another process writes to the vault (a sync) the import waits for it;
        ``waiting`` is told once what it waits for."""
        files = [Path(p) for p in paths]
        missing = [str(p) for p in files if not p.exists()]
        if missing:
            raise ConfigError(f"no such file or folder: {', '.join(missing)}")
        if dry_run:
            return importer.import_archive(None, files, zone=zone, dry_run=True)
        # One writer at a time: an import beside a running sync waits for it to finish.
        writer = sync_lock(self.directory, "import", wait=waiting or _say_waiting)
        with writer, self.store() as store:
            settings = store.get_meta("settings") or {}
            return importer.import_archive(
                store, files, zone=zone, fallback_zone=settings.get("timeZone"), progress=progress
            )

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
        """Rebuild every table from the kept raw pages (no network); returns rows per table."""
        # The store first: a rebuild of no vault says so and creates nothing (not even a lock).
        with self.store(create=False) as store, sync_lock(self.directory, "rebuild"):
            total = store.count("_raw_pages")
            with store.transaction("rebuilding tables from raw pages"):
                store.clear_tables()
                store.record_revisions = False
                for n, stored in enumerate(store.raw_pages(), 1):
                    page = stored.page
                    dtype = catalog.get(page.data_type)
                    replaces = [stored.replace] if stored.replace else []
                    if page.source == legacy_import.SOURCE:  # one body fills several types
                        for each, tables, spans in legacy_import.replay(page, store, replaces):
                            store.merge(each, tables, source=page.source, replaces=spans)
                    else:
                        if page.source == importer.SOURCE:
                            tables = importer.replay(page)
                        else:
                            tables = normalise(dtype, page.body, page.source).tables
                        store.merge(dtype, tables, source=page.source, replaces=replaces)
                    if progress:
                        progress(n, total)
            return {t: store.count(t) for t in catalog.TABLES}

    # --- getting data out ---------------------------------------------------------------

    @property
    def time_zone(self) -> str:
        """The person's IANA time zone from the API's settings (UTC before the first sync)."""
        with self.store(read_only=True) as store:
            settings = store.get_meta("settings") or {}
        return str(settings.get("timeZone") or "UTC")

    def _frame(
        self, fn: Callable[..., pd.DataFrame], *args: Any, tz: str | None = None, **kw: Any
    ) -> pd.DataFrame:
        zone = tz or self.time_zone
        with self.store(read_only=True) as store:
            return fn(store, *args, tz=zone, **kw)

    def frame(
        self,
        data_type: str,
        start: frames.TimeArg = None,
        end: frames.TimeArg = None,
        *,
        reconciled: bool = True,
        tz: str | None = None,
        output: str = "pandas",
    ) -> Any:
        """Any stored type as a DataFrame (``output="arrow"`` for a pyarrow Table, ``"polars"``
        for a polars DataFrame if polars is installed). Names: ``fitvault sync --help``."""
        from fitvault import frames

        dtype = parse_types([data_type])[0]
        df = self._frame(frames.frame, dtype, start, end, tz=tz, reconciled=reconciled)
        return frames.convert(df, output)

    def hrv(self, start: frames.TimeArg = None, end: frames.TimeArg = None) -> pd.DataFrame:
        """Nightly heart-rate variability (RMSSD, ms) per date."""
        return self.frame("daily-heart-rate-variability", start, end)  # type: ignore[no-any-return]

    def spo2(self, start: frames.TimeArg = None, end: frames.TimeArg = None) -> pd.DataFrame:
        """Nightly blood-oxygen saturation (average and range, %) per date."""
        return self.frame("daily-oxygen-saturation", start, end)  # type: ignore[no-any-return]

    def breathing_rate(
        self, start: frames.TimeArg = None, end: frames.TimeArg = None
    ) -> pd.DataFrame:
        """Breaths per minute during the main sleep, per date."""
        return self.frame("daily-respiratory-rate", start, end)  # type: ignore[no-any-return]

    def weight(self, start: frames.TimeArg = None, end: frames.TimeArg = None) -> pd.DataFrame:
        """Weigh-ins: ``grams`` as the API reports, ``kg`` for convenience."""
        df: pd.DataFrame = self.frame("weight", start, end)
        df["kg"] = df["grams"] / 1000.0
        return df

    def vo2_max(self, start: frames.TimeArg = None, end: frames.TimeArg = None) -> pd.DataFrame:
        """Daily cardio-fitness (VO2 max, ml/kg/min) estimates."""
        return self.frame("daily-vo2-max", start, end)  # type: ignore[no-any-return]

    def active_zone_minutes(
        self, start: frames.TimeArg = None, end: frames.TimeArg = None
    ) -> pd.DataFrame:
        """Active zone minutes per local day and zone (as the API counts them)."""
        df: pd.DataFrame = self.frame("active-zone-minutes", start, end)
        if df.empty:  # the same columns and dtypes as with rows
            return df[["local_date", "heart_rate_zone", "minutes"]].rename(
                columns={"local_date": "date"}
            )
        daily = df.groupby(["local_date", "heart_rate_zone"], as_index=False).agg(
            minutes=("minutes", "sum")
        )
        return daily.rename(columns={"local_date": "date"})

    def exercise(self, start: frames.TimeArg = None, end: frames.TimeArg = None) -> pd.DataFrame:
        """One row per workout, with its metrics summary."""
        return self.frame("exercise", start, end)  # type: ignore[no-any-return]

    def wear_time(self, start: frames.TimeArg = None, end: frames.TimeArg = None) -> pd.DataFrame:
        """Minutes worn per local day, from heart-rate presence (derived; see attrs)."""
        from fitvault import derived

        return self._frame(derived.wear_time, start, end)

    def heart_rate_zone_minutes(
        self, start: frames.TimeArg = None, end: frames.TimeArg = None
    ) -> pd.DataFrame:
        """Minutes per heart-rate zone per local day, from intraday heart rate (derived)."""
        from fitvault import derived

        return self._frame(derived.zone_minutes, start, end)

    def heart_rate(
        self, start: frames.TimeArg = None, end: frames.TimeArg = None, *, tz: str | None = None
    ) -> pd.DataFrame:
        from fitvault import frames

        return self._frame(frames.heart_rate, start, end, tz=tz)

    def resting_heart_rate(
        self, start: frames.TimeArg = None, end: frames.TimeArg = None
    ) -> pd.DataFrame:
        from fitvault import frames

        with self.store(read_only=True) as store:
            return frames.resting_heart_rate(store, start, end)

    def steps(
        self,
        freq: str = "D",
        start: frames.TimeArg = None,
        end: frames.TimeArg = None,
        *,
        tz: str | None = None,
    ) -> pd.DataFrame:
        from fitvault import frames

        return self._frame(frames.steps, freq, start, end, tz=tz)

    def sleep(
        self,
        start: frames.TimeArg = None,
        end: frames.TimeArg = None,
        *,
        naps: bool = False,
        tz: str | None = None,
    ) -> pd.DataFrame:
        from fitvault import frames

        return self._frame(frames.sleep, start, end, tz=tz, naps=naps)

    def sleep_stages(
        self, start: frames.TimeArg = None, end: frames.TimeArg = None, *, tz: str | None = None
    ) -> pd.DataFrame:
        from fitvault import frames

        return self._frame(frames.sleep_stages, start, end, tz=tz)

    def latest_full_day(self) -> dt.date | None:
        """The most recent local date with heart-rate readings before the one still in progress."""
        from fitvault import frames

        with self.store(read_only=True) as store:
            days = frames.query(
                store, "SELECT DISTINCT local_date FROM heart_rate ORDER BY 1 DESC LIMIT 2"
            )
        dates: list[dt.date] = days["local_date"].tolist()
        return dates[1] if len(dates) == 2 else (dates[0] if dates else None)

    def plot(self, name: str, *, day: dt.date | str | None = None, days: int = 7) -> Figure:
        """One of ``fitvault.plots.PLOTS`` drawn from this vault.

        ``day`` picks the day for ``hr-day`` and the last day for ``hr-by-hour`` (default: the
        latest complete day); ``days`` is how many days ``hr-by-hour`` averages.
        """
        from fitvault import plots

        spec = plots.PLOTS.get(name)
        if spec is None:
            raise ConfigError(f"unknown plot {name!r}; choose from {', '.join(plots.PLOTS)}")
        if spec.needs == "sleep":
            return spec.make(self.sleep())
        if spec.needs == "resting_heart_rate":
            return spec.make(self.resting_heart_rate())
        last = _date(day, "date") or self.latest_full_day()
        if last is None:
            raise ConfigError("the vault has no heart-rate readings yet; run `fitvault sync`")
        if name == "hr-day":
            return spec.make(self.heart_rate(last, last), last)
        return spec.make(self.heart_rate(last - dt.timedelta(days=days - 1), last), days=days)

    def report(
        self,
        out: str | os.PathLike[str] = "report.html",
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
    ) -> Path:
        """Write the one-file HTML report for ``[since, until]`` (default: everything) to
        ``out``; returns its path. See ``fitvault.report``."""
        from fitvault import report

        target = report.check_out(Path(out))
        html = report.render(self, _date(since, "since"), _date(until, "until"))
        return report.write(html, target)

    def export(
        self,
        out: str | os.PathLike[str],
        *,
        fmt: str = "csv",
        types: Sequence[str] | None = None,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        tidy: bool = False,
        per_day: bool = False,
        partition_by: str | None = None,
        resample: str | None = None,
        sheet_rows: int = export_.EXCEL_MAX_ROWS,
        progress: export_.ProgressFn | None = None,
    ) -> export_.ExportSummary:
        """Write one file per table (csv, xlsx, parquet, json, jsonl) to ``out``; see
        ``fitvault.export``. ``since``/``until`` are local dates, both inclusive."""
        wanted = parse_types(types) if types else list(catalog.VAULT_TYPES)
        first, last = _date(since, "since"), _date(until, "until")
        with self.store(read_only=True) as store:
            return export_.export(
                store,
                Path(out),
                wanted,
                fmt=fmt,
                since=first,
                until=last,
                tidy=tidy,
                per_day=per_day,
                partition_by=partition_by,
                resample=resample,
                sheet_rows=sheet_rows,
                progress=progress,
            )

    def provenance(
        self, data_type: str, since: dt.date | str | None = None, until: dt.date | str | None = None
    ) -> pd.DataFrame:
        """The type's rows with ``seen_by``: every source that saw each reading, best first —
        the row's values are the first one's (precedence: ``fitvault.provenance``)."""
        from fitvault import frames

        dtype = parse_types([data_type])[0]
        shape = provenance.shapes([dtype])[0]
        day = "date" if "date" in shape.table.column_names else "local_date"
        where, params = ["TRUE"], []
        for bound, op, what in ((since, ">=", "since"), (until, "<=", "until")):
            if (value := _date(bound, what)) is not None:
                where.append(f't."{day}" {op} ?')
                params.append(value)
        sql = provenance.seen_by_sql(shape, " AND ".join(where))
        with self.store(read_only=True) as store:
            return frames.query(store, f'{sql} ORDER BY t."{shape.table.key[0]}"', params)

    def revisions(self, data_type: str | None = None) -> pd.DataFrame:
        """Rows that a later read of the same source changed or dropped, oldest first: table,
        source, revised_at, change ("changed" or "removed"), old and new row (dicts)."""
        names = [t.name for t in parse_types([data_type])[0].tables] if data_type else None
        where = "WHERE table_name IN (SELECT unnest(?))" if names else ""
        with self.store(read_only=True) as store:
            df = store.df(
                "SELECT table_name AS table, source, revised_at, change, old::VARCHAR AS old, "
                f"new::VARCHAR AS new FROM _revisions {where} ORDER BY revised_at",
                [names] if names else [],
            )
        for col in ("old", "new"):
            df[col] = [json.loads(v) if isinstance(v, str) else None for v in df[col]]
        return df

    def sql(self, query: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """A read-only SQL query as a DataFrame (writes are refused); ``<table>_local`` views
        show instants as plain UTC and local wall-clock timestamps."""
        from fitvault import sqlshell

        return sqlshell.query(self.directory, query, params)

    def status(self) -> dict[str, Any]:
        """Per type: rows, first and last day, gaps, the last sync's outcome; the sign-in's
        health; the file's size and format. See ``fitvault.status``."""
        from fitvault import status

        return status.status(self.directory)


def _say_waiting(holder: str) -> None:
    """The Python API's word while an import waits for another writer (a notebook shows it)."""
    logging.getLogger("fitvault").warning(
        "%s is writing to the vault; the import waits for it to finish", holder
    )


def _date(value: dt.date | str | None, what: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        day = parse_day(value)
    except ValueError:
        day = None
    if day is None:
        raise ConfigError(f"--{what} {value!r} is not a date; use YYYY-MM-DD")
    return day


def open(directory: str | os.PathLike[str] | None = None) -> Vault:
    """The vault in ``directory`` (default: ``$FITVAULT_HOME`` or the user data directory)."""
    return Vault(directory)

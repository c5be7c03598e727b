"""What a vault holds, how its last sync went, and whether its sign-in still works.

``status(directory)`` returns plain data (the JSON of ``fitvault status --json``)::

    {"types": {"heart-rate": {"rows", "first_day", "last_day", "days_with_data", "gaps",
                              "last_sync", "outcome", "reason", "tables"}, …},
     "token": {"signed_in", "access_token_expires_at", "scopes_missing", "testing_mode", …},
     "vault": {"directory", "file_bytes", "raw_pages", "storage_version", "last_sync", …}}

``render(status)`` explains it in words for someone who has never seen a database. A token is
never read into the result: only its expiry times and scopes.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from fitvault import catalog, provenance
from fitvault._errors import AuthError
from fitvault.auth import ACCOUNT_FILE, Account, TokenStore
from fitvault.catalog import DataType, Table
from fitvault.normalise.google_health import SOURCE
from fitvault.store import VAULT_FILE, Store

TESTING_REFRESH_DAYS = 7  # Google's refresh-token lifetime for apps in 'Testing' status
WARN_DAYS = 2  # warn this many days before a refresh token expires
Clock = Callable[[], float]


# --- per type -------------------------------------------------------------------------------


def day_column(table: Table) -> str:
    return "local_date" if "local_date" in table.column_names else "date"


def gaps(days: Iterable[dt.date]) -> list[dict[str, Any]]:
    """Runs of missing days between sorted days with data: ``{"from", "to", "days"}``."""
    out: list[dict[str, Any]] = []
    previous: dt.date | None = None
    for day in days:
        if previous is not None and (day - previous).days > 1:
            first, last = previous + dt.timedelta(days=1), day - dt.timedelta(days=1)
            out.append(
                {"from": first.isoformat(), "to": last.isoformat(), "days": (last - first).days + 1}
            )
        previous = day
    return out


def _days(store: Store, table: Table) -> list[dt.date]:
    col = day_column(table)
    rows = store.con.execute(
        f'SELECT DISTINCT "{col}" FROM {table.name} WHERE "{col}" IS NOT NULL ORDER BY 1'
    ).fetchall()
    return [r[0] for r in rows]


def _outcome(
    dtype: DataType, last_sync: dict[str, Any] | None, granted: set[str] | None, rows: int
) -> tuple[str, str]:
    """(outcome, reason) of the type's last sync.

    The newer ``last_sync`` records it per type; for the older shape it is inferred: a type
    whose permission was not granted was skipped, one with rows was synced.
    """
    if not last_sync:
        return "never", "no sync has run yet"
    recorded = (last_sync.get("types") or {}).get(dtype.name)
    if isinstance(recorded, dict):
        return str(recorded.get("outcome") or "unknown"), str(recorded.get("reason") or "")
    if granted is not None and dtype.read_scope not in granted:
        family = dtype.scope.replace("_", " ")
        return "skipped", f"the {family} permission was not granted"
    if last_sync.get("types") is not None:
        return "not synced", "the last sync did not include this type"
    return ("complete", "") if rows else ("complete", "no data for this type")


def type_status(
    store: Store,
    dtype: DataType,
    last_sync: dict[str, Any] | None,
    granted: set[str] | None,
) -> dict[str, Any]:
    main = catalog.table_of(dtype)
    days = _days(store, main)
    rows = store.count(main.name)
    outcome, reason = _outcome(dtype, last_sync, granted, rows)
    return {
        "rows": rows,
        "first_day": days[0].isoformat() if days else None,
        "last_day": days[-1].isoformat() if days else None,
        "days_with_data": len(days),
        "gaps": gaps(days),
        "last_sync": (last_sync or {}).get("at"),
        "outcome": outcome,
        "reason": reason,
        "tables": {t.name: store.count(t.name) for t in dtype.tables},
        "sources": _by_source(store, main.name) if rows else {},
        "kept_aside": _by_source(store, provenance.others(main.name)) if rows else {},
    }


def _by_source(store: Store, table: str) -> dict[str, int]:
    """Rows per source: in a table, the readings each source stands for; in its others table,
    the readings a better source also saw (see fitvault.provenance)."""
    rows = store.con.execute(
        f"SELECT source, count(*) FROM {table} GROUP BY source ORDER BY 2 DESC"
    ).fetchall()
    return {str(s): int(n) for s, n in rows}


# --- the file ---------------------------------------------------------------------------------


def vault_info(store: Store, directory: Path) -> dict[str, Any]:
    path = directory / VAULT_FILE
    files = [path, path.with_name(path.name + ".wal")]
    file_bytes = sum(p.stat().st_size for p in files if p.exists())
    raw = store.con.execute(
        "SELECT count(*), coalesce(sum(raw_size), 0), coalesce(sum(octet_length(body)), 0) "
        "FROM _raw_pages"
    ).fetchall()[0]
    tags = store.con.execute(
        "SELECT tags FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    version = (tags[0][0] or {}).get("storage_version") if tags else None
    return {
        "directory": str(directory),
        "file_bytes": file_bytes,
        "raw_pages": {"pages": int(raw[0]), "bytes": int(raw[1]), "stored_bytes": int(raw[2])},
        # The raw pages' share of the file is their compressed bodies; the rest is tables.
        "tables_bytes": max(file_bytes - int(raw[2]), 0),
        "storage_version": version,
        "schema_version": store.schema_version,
        "last_sync": store.get_meta("last_sync"),
        "identity": _identity(store.get_meta("identity")),
        "time_zone": (store.get_meta("settings") or {}).get("timeZone"),
    }


def _identity(identity: Any) -> dict[str, Any] | None:
    if not isinstance(identity, dict):
        return None
    keep = ("email", "healthUserId", "legacyUserId")
    return {k: identity[k] for k in keep if identity.get(k)}


# --- the sign-in -------------------------------------------------------------------------------


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")


def token_status(directory: Path, now: float) -> dict[str, Any]:
    """Expiry, scopes and refresh-token age from ``token.json`` and ``account.json``."""
    try:
        token = TokenStore(directory).load()
        account = Account.load(directory) if (directory / ACCOUNT_FILE).exists() else None
    except AuthError as exc:
        return {"signed_in": False, "problem": str(exc)}
    if token is None:
        return {"signed_in": False, "problem": "not signed in: run `fitvault auth`"}
    granted = set(str(token.get("scope", "")).split())
    needed = set(catalog.scopes_for(list(catalog.STORED_TYPES)))
    access_at = _float(token.get("expires_at"))
    refresh_at = _float(token.get("refresh_token_expires_at"))
    testing = refresh_at is not None
    issued = None
    if refresh_at is not None:
        lifetime = _float(token.get("refresh_token_expires_in")) or TESTING_REFRESH_DAYS * 86_400
        issued = refresh_at - lifetime
    return {
        "signed_in": True,
        "server": account.api_base if account else None,
        "access_token_expires_at": _iso(access_at),
        "access_token_valid": access_at is not None and access_at > now,
        "has_refresh_token": bool(token.get("refresh_token")),
        "refresh_token_expires_at": _iso(refresh_at),
        "refresh_token_expired": refresh_at is not None and refresh_at <= now,
        "refresh_token_age_days": round((now - issued) / 86_400, 1) if issued else None,
        "refresh_token_days_left": round((refresh_at - now) / 86_400, 1) if refresh_at else None,
        "testing_mode": testing,
        "scopes_granted": sorted(granted),
        "scopes_missing": sorted(needed - granted),
    }


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# --- all of it ---------------------------------------------------------------------------------


def status(directory: Path, *, clock: Clock = time.time) -> dict[str, Any]:
    """The whole status of the vault in ``directory`` (read-only; raises VaultError if there
    is no vault file)."""
    directory = Path(directory)
    token = token_status(directory, clock())
    granted = set(token["scopes_granted"]) if token.get("signed_in") else None
    with Store(directory, read_only=True) as store:
        info = vault_info(store, directory)
        last = info["last_sync"] if isinstance(info["last_sync"], dict) else None
        types = {t.name: type_status(store, t, last, granted) for t in catalog.STORED_TYPES}
        for t in catalog.LEGACY_TYPES:  # said only when some import or sync filled them
            if store.count(catalog.table_of(t).name):
                types[t.name] = type_status(store, t, last, granted)
        # The keys of the earlier status(), kept for callers written against it.
        legacy = {
            "directory": str(directory),
            "rows": {t: store.count(t) for t in catalog.TABLES},
            "coverage": {t.name: store.coverage(t.name, SOURCE) for t in catalog.STORED_TYPES},
            "last_sync": info["last_sync"],
            "identity": store.get_meta("identity"),
            "raw_pages": info["raw_pages"]["pages"],
        }
    return {"types": types, "token": token, "vault": info, **legacy}


def as_json(result: dict[str, Any]) -> dict[str, Any]:
    """The documented shape only (``types``, ``token``, ``vault``), for ``--json``."""
    return {k: result[k] for k in ("types", "token", "vault")}


# --- words ---------------------------------------------------------------------------------------


def _day(iso: str | None) -> str:
    return dt.date.fromisoformat(iso).strftime("%-d %b %Y") if iso else "?"


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n = n / 1000  # type: ignore[assignment]
    return str(n)  # pragma: no cover


def _when(iso: str | None) -> str:
    if not iso:
        return "?"
    return dt.datetime.fromisoformat(iso).strftime("%-d %b %Y %H:%M UTC")


def _label(name: str) -> str:
    return name.replace("-", " ")


def _gap_text(gap_list: list[dict[str, Any]]) -> str:
    if not gap_list:
        return ""
    missing = sum(g["days"] for g in gap_list)
    first = gap_list[0]
    span = (
        _day(first["from"]) if first["days"] == 1 else f"{_day(first['from'])}–{_day(first['to'])}"
    )
    more = f" and {len(gap_list) - 1} more" if len(gap_list) > 1 else ""
    return f"; {missing} day{'s' * (missing != 1)} missing ({span}{more})"


def _source_text(t: dict[str, Any]) -> str:
    """Said only when more than the API is involved: which sources the rows come from."""
    sources, kept = t.get("sources", {}), t.get("kept_aside", {})
    if set(sources) | set(kept) <= {SOURCE}:
        return ""
    parts = [f"{n:,} from {s}" for s, n in sources.items()]
    if kept:
        parts.append("also seen by " + ", ".join(f"{s} ({n:,})" for s, n in kept.items()))
    return f" — {'; '.join(parts)}"


def _type_lines(types: dict[str, dict[str, Any]]) -> list[str]:
    lines, empty = [], []
    for name, t in types.items():
        if not t["rows"]:
            if t["outcome"] not in ("skipped", "partial", "failed"):
                empty.append(_label(name))
            continue
        days = t["days_with_data"]
        lines.append(
            f"  {_label(name)}: {t['rows']:,} rows on {days} day{'s' * (days != 1)}, "
            f"{_day(t['first_day'])} to {_day(t['last_day'])}{_gap_text(t['gaps'])}"
            f"{_source_text(t)}"
        )
    if empty:
        lines.append(f"  No data (yet) for: {', '.join(empty)}.")
    return lines


def _sync_lines(result: dict[str, Any]) -> list[str]:
    last = result["vault"]["last_sync"]
    if not last and any(t["rows"] for t in result["types"].values()):
        return [
            "No Google Health sync yet: the rows above came from imports or the legacy API.",
            "Run `fitvault sync` to add what the Google Health API holds.",
        ]
    if not last:
        return [
            "This vault is new: nothing has been downloaded into it yet.",
            "Run `fitvault sync` to fetch your data (the first run can take a few minutes).",
        ]
    lines = [f"Last sync: {_when(last.get('at'))}."]
    types = result["types"]
    partial = {n: t for n, t in types.items() if t["outcome"] in ("partial", "failed")}
    skipped = {n: t for n, t in types.items() if t["outcome"] == "skipped"}
    for name, t in partial.items():
        why = f" ({t['reason']})" if t["reason"] else ""
        lines.append(f"  {_label(name)} did not finish{why}.")
    if partial:
        lines.append("  Run `fitvault sync` again: it continues where it stopped.")
    for name, t in skipped.items():
        lines.append(f"  {_label(name)} was skipped: {t['reason'] or 'no reason recorded'}.")
    if any("permission" in t["reason"] for t in skipped.values()):
        lines.append("  To include those, run `fitvault auth` and leave every box ticked.")
    return lines


def _token_lines(token: dict[str, Any]) -> list[str]:
    if not token.get("signed_in"):
        return [f"Sign-in: {token.get('problem', 'not signed in')}."]
    lines = []
    if token.get("refresh_token_expired"):
        lines += [
            f"Sign-in: EXPIRED on {_when(token['refresh_token_expires_at'])}. fitvault cannot "
            "download anything new until you sign in again with `fitvault auth`.",
            "  Why: Google ends a sign-in after 7 days while your Google Cloud project is in "
            "'Testing' mode. Publishing the app ('In production', under Google Auth Platform → "
            "Audience) stops this weekly expiry. Your data already in the vault is safe.",
        ]
    elif token.get("testing_mode"):
        left = token.get("refresh_token_days_left") or 0.0
        lines.append(
            f"Sign-in: works until {_when(token['refresh_token_expires_at'])} "
            f"(in {left:.1f} days); Google ends sign-ins after 7 days while your project is in "
            "'Testing' mode."
        )
        if left <= WARN_DAYS:
            lines.append("  Soon you will need to run `fitvault auth` again.")
    else:
        lines.append("Sign-in: OK (renewed automatically).")
    if token.get("scopes_missing"):
        names = sorted({s.rsplit(".", 2)[-2].replace("_", " ") for s in token["scopes_missing"]})
        lines.append(f"  fitvault may not read: {', '.join(names)} (not granted when signing in).")
    return lines


def _vault_lines(info: dict[str, Any]) -> list[str]:
    raw = info["raw_pages"]
    lines = [
        f"Vault: {info['directory']} ({_size(info['file_bytes'])}).",
    ]
    who = info.get("identity") or {}
    account = who.get("email") or who.get("healthUserId") or who.get("legacyUserId")
    if account:
        lines.append(f"  Account: {account}.")
    if raw["pages"]:
        lines.append(
            f"  About {_size(info['tables_bytes'])} is your data in tables and "
            f"{_size(raw['stored_bytes'])} the original downloads, kept compressed "
            f"({_size(raw['bytes'])} unpacked) so `fitvault rebuild` can redo the tables offline."
        )
    version = str(info.get("storage_version") or "")
    if version.startswith("v1."):
        lines.append("  The file opens in DuckDB 1.x and 2.x (e.g. the `duckdb` command line).")
    elif version:
        lines.append(f"  The file is in DuckDB's {version} format: it needs DuckDB 2.0 or newer.")
    return lines


def render(result: dict[str, Any]) -> str:
    """The status in plain words (no colours, no markup)."""
    lines = _vault_lines(result["vault"])
    lines += _sync_lines(result)
    if result["vault"]["last_sync"] or any(t["rows"] for t in result["types"].values()):
        lines.append("What the vault holds:")
        lines += _type_lines(result["types"])
    lines += _token_lines(result["token"])
    return "\n".join(lines)


def run_cli(directory: Path | None, *, as_json_output: bool = False) -> str:
    """The body of ``fitvault status [--json]``: the text to print."""
    import json

    from fitvault.vault import Vault

    result = Vault(directory).status()
    if as_json_output:
        return json.dumps(as_json(result), indent=2, default=str)
    return render(result)

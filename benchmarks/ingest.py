"""Ingest speed: the same Google Health v4 pages into the vault vs the tutorials' pandas way.

A child process runs a real ``fitvault sync`` against the simulator and records every response
(heart rate, steps, sleep, resting heart rate, account calls) keyed by request URL. Then, in
this process, on those recorded bytes:

* fitvault: the same sync again, unchanged, through a transport that replays the recorded
  responses — planning, page walks (concurrent windows), normalising, merging on natural keys,
  raw pages kept zstd-compressed, sync state, transactions; no simulator CPU is involved;
* baseline ("tutorial"): for every recorded data page, ``json.loads`` +
  ``pandas.json_normalize`` + ``DataFrame.to_csv`` appended to one CSV per type, as the classic
  Fitbit-to-pandas scripts do.

Both must end with one row per data point; the script checks the counts match. Peak RSS is the
process high-water mark after the fitvault run (recording happens in the child; both sides
read the responses from disk), then again after the baseline.

Last line: ``speedup_vs_baseline=… peak_rss_mb=… mb_per_s=…``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2
import pandas as pd

from fitvault.auth import Account, TokenStore
from fitvault.catalog import STORED_TYPES, scopes_for
from fitvault.vault import Vault

NOW = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)
SERVER = "http://replay.localhost"
POINT_TABLE = {
    "heart-rate": "heart_rate",
    "steps": "steps",
    "sleep": "sleep_sessions",
    "daily-resting-heart-rate": "resting_heart_rate",
}


class Recorder(httpx2.AsyncBaseTransport):
    """Passes requests to the simulator and files each API response under its URL."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, folder: Path) -> None:
        self.inner, self.folder, self.index = inner, folder, {}

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        if request.url.path.startswith("/v4/"):
            name = f"{len(self.index):05d}.json"
            (self.folder / name).write_bytes(body)
            self.index[str(request.url.raw_path, "ascii")] = name
        return httpx2.Response(response.status_code, headers=response.headers, content=body)


class Replay(httpx2.AsyncBaseTransport):
    """Answers each request with the response recorded for its URL, read from disk."""

    def __init__(self, folder: Path, index: dict[str, str]) -> None:
        self.folder, self.index = folder, index

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = (self.folder / self.index[str(request.url.raw_path, "ascii")]).read_bytes()
        return httpx2.Response(200, content=body, headers={"content-type": "application/json"})


def record(out: Path, days: int) -> None:
    """Child process: sync the simulator once and file every API response."""
    from fitvault.demo import press_allow
    from fitvault.simulator.app import create_app
    from fitvault.simulator.world import World

    sim = create_app(World.default(days=days, seed=7, now=NOW), quota_per_minute=None)
    inner = httpx2.ASGITransport(app=sim.app)
    folder = out / "responses"
    folder.mkdir()
    recorder = Recorder(inner, folder)
    vault = Vault(out / "recording-vault")

    async def opener(url: str) -> None:
        await press_allow(url, transport=inner)

    vault.authorize(server=SERVER, open_url=opener, transport=inner)
    sync = vault.async_sync(
        types=list(POINT_TABLE), transport=recorder, per_minute=None, clock=lambda: NOW
    )
    asyncio.run(sync)
    (out / "index.json").write_text(json.dumps(recorder.index))


def fitvault_ingest(folder: Path, index: dict[str, str], directory: Path) -> dict[str, int]:
    """A signed-in vault (the replay ignores credentials) synced from the recording."""
    scopes = scopes_for(list(STORED_TYPES))
    directory.mkdir(parents=True)
    Account.for_server(SERVER, scopes).save(directory)
    token = {"access_token": "replay", "expires_at": 4e9, "scope": " ".join(scopes)}
    TokenStore(directory).save(token)
    replay = Replay(folder, index)
    sync = Vault(directory).async_sync(
        types=list(POINT_TABLE), transport=replay, per_minute=None, clock=lambda: NOW
    )
    report = asyncio.run(sync)
    return {name: report.rows[table] for name, table in POINT_TABLE.items()}


def baseline_ingest(folder: Path, index: dict[str, str], out: Path) -> dict[str, int]:
    rows = dict.fromkeys(POINT_TABLE, 0)
    files = {name: (out / f"{name}.csv").open("w", newline="") for name in POINT_TABLE}
    try:
        for url, file in index.items():
            if "/dataTypes/" not in url:
                continue
            name = url.split("/dataTypes/")[1].split("/")[0]
            data = json.loads((folder / file).read_bytes())
            df = pd.json_normalize(data.get("dataPoints", []))
            df.to_csv(files[name], header=rows[name] == 0, index=False)
            rows[name] += len(df)
    finally:
        for fh in files.values():
            fh.close()
    return rows


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--record", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.record:
        record(args.record, args.days)
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cmd = [sys.executable, __file__, "--days", str(args.days), "--record", str(work)]
        subprocess.run(cmd, check=True)
        index = json.loads((work / "index.json").read_text())
        folder = work / "responses"
        size = sum((folder / f).stat().st_size for f in index.values())
        print(f"{len(index)} responses, {size / 1e6:.0f} MB of JSON ({args.days} days)")

        t = time.perf_counter()
        ours = fitvault_ingest(folder, index, work / "vault")
        ours_s = time.perf_counter() - t
        ours_peak = peak_mb()

        t = time.perf_counter()
        base = baseline_ingest(folder, index, work)
        base_s = time.perf_counter() - t
        if ours != base:
            raise SystemExit(f"row counts differ: fitvault {ours} vs baseline {base}")
    print(f"rows per type (both): {ours}")
    rate = size / 1e6 / ours_s
    print(f"fitvault sync (replayed): {ours_s:.2f} s, {rate:.0f} MB/s, peak RSS {ours_peak:.0f} MB")
    print(f"baseline (json + json_normalize + to_csv): {base_s:.2f} s, peak RSS {peak_mb():.0f} MB")
    print(
        f"speedup_vs_baseline={base_s / ours_s:.1f} peak_rss_mb={ours_peak:.0f} "
        f"mb_per_s={size / 1e6 / ours_s:.0f}"
    )


if __name__ == "__main__":
    main()

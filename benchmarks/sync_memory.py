"""Where a sync's memory goes: an RSS timeline per phase and per type, in the sync's own process.

A simulator (``fitvault simulate``, its own process) serves a seeded world; ``fitvault auth``
signs in; then this script re-runs itself as the sync process (``--child``), which syncs as the
CLI does and samples its own RSS every 50 ms from a thread, attributing each sample to the type
the progress callback last named. Arrow's allocated bytes and DuckDB's ``duckdb_memory()`` are
sampled beside it, so a peak can be told apart: Python heap, Arrow buffers, DuckDB buffers, or
malloc keeping freed memory (RSS far above what the three hold).

Not a target benchmark (``sync_wall.py`` is); a tool to measure a change before keeping it.
Quota off by default (memory, not waiting, is measured; ``--quota 300`` for the real pace).

Last line: ``peak_rss_mb=… import_rss_mb=… peak_type=… arrow_peak_mb=… wall_s=…``.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def malloc_mb() -> tuple[float, float]:
    """(bytes malloc has handed out and not had back, bytes it holds free) in MB (glibc)."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _Mallinfo2
    info = libc.mallinfo2()
    return (info.uordblks + info.hblkhd) / 2**20, info.fordblks / 2**20


def smaps() -> list[tuple[str, float, int]]:
    """Resident anonymous memory by mapping name/size class: (what, MB resident, count)."""
    groups: dict[str, list[float]] = {}
    what = ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        parts = line.split()
        if "-" in parts[0] and len(parts) >= 5 and not parts[0].endswith(":"):
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            name = parts[5] if len(parts) > 5 else ""
            size = (hi - lo) / 2**20
            what = name if name else f"anon~{size:.0f}MB" if size >= 1 else "anon<1MB"
        elif parts[0] == "Anonymous:":
            groups.setdefault(what, []).append(int(parts[1]) / 1024)
    rows = [(k, sum(v), len(v)) for k, v in groups.items()]
    return sorted(rows, key=lambda r: -r[1])[:12]


def child(vault: Path, concurrency: int, out: Path) -> None:
    """The sync, as ``fitvault sync`` runs it, with a sampler thread beside it."""
    started = time.perf_counter()
    from fitvault import cli  # the CLI's imports (and Arrow's allocator), as a real sync has them

    cli._lean_arrow()
    import pyarrow as pa

    from fitvault import store as store_mod
    from fitvault.vault import Vault

    duck: dict[str, float] = {"peak_mb": 0.0}
    if os.environ.get("FV_RAW_CHUNK_PAGES"):
        store_mod.RAW_CHUNK_PAGES = int(os.environ["FV_RAW_CHUNK_PAGES"])
    if os.environ.get("FV_DUCK_MEM"):
        store_mod.MEMORY_LIMIT = os.environ["FV_DUCK_MEM"]
    connect = store_mod._connect

    def connect_probe(*a: Any, **k: Any) -> Any:
        con = connect(*a, **k)
        if os.environ.get("FV_DUCK_THREADS"):
            con.execute(f"SET threads = {os.environ['FV_DUCK_THREADS']}")
        if os.environ.get("FV_DUCK_SQL"):
            con.execute(os.environ["FV_DUCK_SQL"])
        return con

    store_mod._connect = connect_probe
    commit = store_mod.Store.commit

    def commit_probe(self: Any, *a: Any, **k: Any) -> None:
        commit(self, *a, **k)
        with self._translate("probe"):
            used = self.con.execute(
                "SELECT sum(memory_usage_bytes) FROM duckdb_memory()"
            ).fetchall()[0][0]
        duck["peak_mb"] = max(duck["peak_mb"], used / 2**20)

    store_mod.Store.commit = commit_probe  # type: ignore[method-assign]
    active: dict[str, int] = {}
    phase_peak: dict[str, float] = {}
    malloc_peak: dict[str, Any] = {"used": 0.0, "free": 0.0}

    def phased(owner: Any, attr: str, name: str) -> None:
        fn = getattr(owner, attr)

        def wrapped(*a: Any, **k: Any) -> Any:
            active[name] = active.get(name, 0) + 1
            try:
                return fn(*a, **k)
            finally:
                active[name] -= 1

        setattr(owner, attr, wrapped)

    from fitvault import sync as sync_mod

    if os.environ.get("FV_MAX_ROWS"):
        import functools

        sync_mod.PageBuffer = functools.partial(  # type: ignore[misc]
            sync_mod.PageBuffer, max_rows=int(os.environ["FV_MAX_ROWS"])
        )
    if os.environ.get("FV_PARSE_THREADS"):
        import concurrent.futures

        init = sync_mod.Syncer.__init__

        def fewer_parsers(self: Any, *a: Any, **k: Any) -> None:
            init(self, *a, **k)
            self._worker = concurrent.futures.ThreadPoolExecutor(
                int(os.environ["FV_PARSE_THREADS"]), thread_name_prefix="fitvault-parse"
            )

        sync_mod.Syncer.__init__ = fewer_parsers  # type: ignore[method-assign]
    if os.environ.get("FV_TRIM"):
        libc = ctypes.CDLL("libc.so.6")
        close = store_mod.Store.close

        def close_trim(self: Any) -> None:
            close(self)
            libc.malloc_trim(0)

        store_mod.Store.close = close_trim  # type: ignore[method-assign]
    if os.environ.get("FV_NO_RAW"):
        store_mod.Store._keep_raw = lambda self, raws: None  # type: ignore[method-assign]
    phased(store_mod.Store, "close", "close")
    phased(store_mod, "_connect", "open")
    phased(store_mod.Store, "merge", "merge")
    phased(store_mod.Store, "_keep_raw", "keep_raw")
    phased(sync_mod, "normalise", "normalise")

    imported = rss_mb()
    if os.environ.get("FV_TRACEMALLOC"):
        import tracemalloc

        tracemalloc.start(int(os.environ["FV_TRACEMALLOC"]))
    current = {"type": "start"}
    samples: list[tuple[float, float, str, float]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(
                (
                    time.perf_counter() - started,
                    rss_mb(),
                    current["type"],
                    pa.total_allocated_bytes() / 2**20,
                )
            )
            used, free = malloc_mb()
            malloc_peak["used"] = max(malloc_peak["used"], used)
            malloc_peak["free"] = max(malloc_peak["free"], free)
            if samples[-1][1] >= max(s[1] for s in samples):
                status = Path("/proc/self/status").read_text().splitlines()
                kinds = [ln for ln in status if ln.startswith(("RssAnon", "RssFile", "RssShmem"))]
                malloc_peak["at_peak"] = (samples[-1][1], used, free, kinds, smaps())
            key = "+".join(sorted(k for k, v in active.items() if v)) or "-"
            phase_peak[key] = max(phase_peak.get(key, 0.0), samples[-1][1])
            stop.wait(0.05)

    def progress(p: Any) -> None:
        current["type"] = p.data_type

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with sync_mod.without_pandas():  # as `fitvault sync` runs it
        report = Vault(vault).sync(progress=progress, concurrency=concurrency)
    stop.set()
    sampler.join()
    if os.environ.get("FV_TRACEMALLOC"):
        print("python heap now/peak MB", [x / 2**20 for x in tracemalloc.get_traced_memory()])
    per_type: dict[str, float] = {}
    for _, rss, name, _ in samples:
        per_type[name] = max(per_type.get(name, 0.0), rss)
    result = {
        "import_rss_mb": imported,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "per_type": per_type,
        "arrow_peak_mb": max(s[3] for s in samples),
        "duck_peak_mb": duck["peak_mb"],
        "phase_peak": phase_peak,
        "malloc": malloc_peak,
        "requests": report.requests,
        "wall_s": time.perf_counter() - started,
        "cpu_s": time.process_time(),
        "timeline": samples[:: max(1, len(samples) // 400)],
    }
    out.write_text(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--quota", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--child", nargs=2, metavar=("VAULT", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--timeline", action="store_true", help="print the RSS timeline")
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.concurrency, Path(args.child[1]))
        return
    sys.path.insert(0, str(HERE.parent))
    import sync_wall  # type: ignore[import-not-found]
    from sync_wall import sign_in, start_simulator  # type: ignore[import-not-found]

    sync_wall.QUOTA = args.quota
    sim, server = start_simulator(args.days)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            vault, out = Path(tmp) / "vault", Path(tmp) / "out.json"
            sign_in(server, vault)
            cmd = [sys.executable, str(HERE), "--concurrency", str(args.concurrency)]
            subprocess.run([*cmd, "--child", str(vault), str(out)], check=True)
            result = json.loads(out.read_text())
    finally:
        sim.terminate()
        sim.wait(30)
    if args.timeline:
        for t, rss, name, arrow in result["timeline"]:
            print(f"{t:7.1f} s {rss:7.0f} MB  arrow {arrow:6.0f} MB  {name}")
    for name, peak in sorted(result["per_type"].items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {name:<32} peak {peak:5.0f} MB")
    for name, peak in sorted(result["phase_peak"].items(), key=lambda kv: -kv[1])[:8]:
        print(f"  phase {name:<26} peak {peak:5.0f} MB")
    print("  malloc", result["malloc"])
    peak_type = max(result["per_type"].items(), key=lambda kv: kv[1])[0]
    print(
        f"peak_rss_mb={result['peak_rss_mb']:.0f} import_rss_mb={result['import_rss_mb']:.0f} "
        f"peak_type={peak_type} arrow_peak_mb={result['arrow_peak_mb']:.0f} "
        f"duck_peak_mb={result['duck_peak_mb']:.0f} wall_s={result['wall_s']:.1f} "
        f"cpu_s={result['cpu_s']:.1f} requests={result['requests']}"
    )


if __name__ == "__main__":
    main()

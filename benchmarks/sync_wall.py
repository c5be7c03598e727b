"""Wall time and peak memory of an all-types backfill under the real quota, over a socket.

The simulator (``fitvault simulate``, quota on: 300 requests per sliding minute, the live API's
limit) serves a seeded world from its own process on a loopback port; ``fitvault auth`` signs in
(consent completed by following the sign-in URL, the simulator auto-approving) and
``fitvault sync`` backfills every stored type, each in its own process, as a user runs them.

Named baseline: the quota itself. Under 300 requests per sliding minute, request i and request
i + 300 are at least a minute apart whatever the client does, so N requests span at least
``⌊(N − 1) / 300⌋`` minutes (bursts of 300 at 0, 1, 2 … min reach it); ``wall_vs_quota_bound`` =
the sync's wall time ÷ that bound (N is read from the sync's own summary line). Earlier
versions divided by the fluid ``(N − 300) / 300`` minutes, which no client can reach (for
N = 1 655 it is 271 s where the quota allows no less than 300 s); it is printed beside it as
``wall_vs_fluid_bound`` so figures stay comparable.

The sync's peak RSS is the child's ``ru_maxrss`` (``os.wait4``): its process alone, not the
simulator's and not this script's. It is measured for a world of D and 2·D days;
``rss_growth_2x`` = peak at 2·D ÷ peak at D (flat memory: a longer history should cost time,
not memory).

Full: D = 365 (≈ 6–7 min, then ≈ 12–14 min); ``--quick``: D = 90 (a few minutes; enough
requests, ≈ 430, that the quota's bound is not zero, though startup weighs more in it).

Run it on an otherwise idle machine: the simulator and the sync need a core each, and the
sync's wall time (not its CPU time, printed beside it) balloons when other work competes —
each page passes between the event loop, a parse thread and the writer thread, and a transient
vault store opens and closes DuckDB around every commit.

Last line: ``wall_vs_quota_bound=… wall_vs_fluid_bound=… peak_rss_mb=… rss_growth_2x=…`` (the
first three for D days).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx2

from fitvault.sync import quota_seconds

QUOTA = 300  # requests per sliding minute: the live API's limit, and the simulator's default
SEED = 7


@dataclass(frozen=True)
class Run:
    days: int
    requests: int
    wall_s: float
    peak_rss_mb: float
    cpu_s: float  # the sync process's user + system time: near wall_s means CPU-bound

    @property
    def bound_s(self) -> float:
        """The least time the quota allows: request i + 300 waits a minute after request i."""
        return quota_seconds(self.requests, QUOTA)

    @property
    def fluid_bound_s(self) -> float:
        """The earlier denominator: as if requests could flow at 5/s after a first burst."""
        return max(0, self.requests - QUOTA) / QUOTA * 60

    @property
    def ratio(self) -> float:
        return self.wall_s / self.bound_s if self.bound_s else float("nan")

    @property
    def fluid_ratio(self) -> float:
        return self.wall_s / self.fluid_bound_s if self.fluid_bound_s else float("nan")


def fitvault(*args: str) -> list[str]:
    return [sys.executable, "-m", "fitvault", *args]


def read_url(stream: IO[str], proc: subprocess.Popen[str], pattern: str) -> str:
    """The first URL matching ``pattern`` the process prints on ``stream``."""
    for line in stream:
        found = re.search(pattern, line)
        if found:
            return found.group(0)
    raise RuntimeError(f"{proc.args!r} exited ({proc.wait()}) without printing a URL")


def start_simulator(days: int) -> tuple[subprocess.Popen[str], str]:
    cmd = fitvault(
        "simulate", "--port", "0", "--days", str(days), "--seed", str(SEED), "--auto-approve"
    )
    cmd += ["--quota", str(QUOTA)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    return proc, read_url(proc.stderr, proc, r"http://127\.0\.0\.1:\d+")


def sign_in(server: str, vault: Path) -> None:
    """``fitvault auth`` in its own process; consent by following the URL it prints."""
    cmd = fitvault("auth", "--server", server, "--no-browser", "--vault", str(vault))
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    url = read_url(proc.stderr, proc, r"https?://\S+")
    with httpx2.Client(follow_redirects=True, timeout=60) as client:
        client.get(url).raise_for_status()
    out, rest = proc.communicate(timeout=60)
    if proc.returncode:
        raise RuntimeError(f"fitvault auth failed ({proc.returncode}):\n{out}{rest}")


def timed_sync(vault: Path) -> tuple[int, float, float, float]:
    """(requests, wall s, peak RSS MB, CPU s) of ``fitvault sync`` as its own process."""
    log = vault.parent / f"{vault.name}-sync.log"
    with log.open("w") as sink:
        started = time.perf_counter()
        proc = subprocess.Popen(
            fitvault("sync", "--vault", str(vault)), stdout=sink, stderr=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text()
    if proc.returncode:
        raise RuntimeError(f"fitvault sync failed ({proc.returncode}):\n{text}")
    found = re.search(r"([\d,]+) requests, [\d,]+ points received", text)
    if not found:
        raise RuntimeError(f"no request count in the sync's output:\n{text}")
    cpu = usage.ru_utime + usage.ru_stime
    return int(found.group(1).replace(",", "")), wall, usage.ru_maxrss / 1024, cpu


def run(days: int, directory: Path) -> Run:
    sim, server = start_simulator(days)
    try:
        vault = directory / f"vault-{days}d"
        sign_in(server, vault)
        requests, wall, rss, cpu = timed_sync(vault)
    finally:
        sim.terminate()
        sim.wait(30)
    result = Run(days, requests, wall, rss, cpu)
    print(
        f"{days:>5} days: {requests:,} requests in {wall:.0f} s; the quota's bound "
        f"{result.bound_s:.0f} s (×{result.ratio:.3f}; fluid {result.fluid_bound_s:.0f} s, "
        f"×{result.fluid_ratio:.3f}); sync CPU {cpu:.0f} s, "
        f"peak RSS {rss:.0f} MB",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="90 and 180 days, not 365 and 730")
    parser.add_argument("--days", type=int, help="D (default 365, or 90 with --quick)")
    args = parser.parse_args()
    days = args.days or (90 if args.quick else 365)
    print(f"all-types backfill of {days} and {2 * days} days, quota {QUOTA}/min", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        one = run(days, Path(tmp))
        two = run(2 * days, Path(tmp))
    print(
        f"wall_vs_quota_bound={one.ratio:.3f} wall_vs_fluid_bound={one.fluid_ratio:.3f} "
        f"peak_rss_mb={one.peak_rss_mb:.0f} "
        f"rss_growth_2x={two.peak_rss_mb / one.peak_rss_mb:.3f} "
        f"wall_vs_quota_bound_2x={two.ratio:.3f} peak_rss_mb_2x={two.peak_rss_mb:.0f} "
        f"requests={one.requests} requests_2x={two.requests}"
    )


if __name__ == "__main__":
    main()

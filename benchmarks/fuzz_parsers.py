"""Fuzz every parser of outside input for a fixed budget, and the paths into the vault.

Targets (``tests/fuzz/targets.py``): each Takeout file family, each stored v4 data type, each
legacy response kind, the saved tables and the token files — bytes in, rows in the catalog's
schema or a FitvaultError out. Pipelines (``tests/fuzz/pipelines.py``): a hostile Takeout
member or saved response through ``import_archive``, a garbled v4 type through ``sync``, a
garbled legacy series through the legacy sync, each beside a good one — refused whole (no
rows, no raw page) or stored, and the good one stored either way. Inputs are real-shaped
seeds damaged by ``tests/fuzz/mutate.py`` (wrong types, missing keys, nulls, huge and negative
numbers, ``NaN``/``Infinity`` strings, bad dates and zones, deep nesting, BOMs, CRLF,
non-UTF-8 bytes, truncation).

The test suite runs the same targets with a small derandomised budget; this script explores
with random seeds for ``--budget`` seconds (default 200; each import target gets four times a
parser's share of it and each sync target eight, as one of their cases costs a whole import or
sync) or ``--examples N`` per target. A crash is any exception other than a FitvaultError or a
partial write; each is printed once with its target, where it was raised and Hypothesis's
minimal reproducer. Needs the test extras (``make .venv/.installed-test``: Hypothesis).
Last line: ``fuzz_cases=N crashes=M``.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests package

import stamina

try:
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - a user without the test extras
    sys.exit("fuzz_parsers needs Hypothesis: run `make .venv/.installed-test` first")

from tests.fuzz import pipelines, seeds
from tests.fuzz.mutate import mutated
from tests.fuzz.targets import all_targets
from tests.fuzz.targets import check as check_target

from fitvault.normalise import fitbit_legacy as legacy
from fitvault.normalise import takeout

CHUNK = 50  # examples per Hypothesis run; runs repeat with new seeds until the time is up


@dataclass
class Case:
    """One fuzz target: a name, how to draw an input, and how to check it."""

    group: str
    name: str
    draw: st.SearchStrategy[bytes]
    check: Callable[[bytes], str]
    weight: float = 1.0


@dataclass
class Tally:
    cases: int = 0
    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    crashes: dict[tuple[str, str], str] = field(default_factory=dict)  # (where, error) → repro


def cases() -> list[Case]:
    out = [
        Case(t.group, t.name, mutated(t.seed), lambda body, t=t: check_target(t, body))
        for t in all_targets()
    ]
    for fam in takeout.FAMILIES:
        seed_body = seeds.TAKEOUT[fam.name][1]
        out.append(Case("import", f"member:{fam.name}", mutated(seed_body),
                        lambda b, n=fam.name: pipelines.import_member(n, b), 4.0))  # fmt: skip
    for kind in legacy.KINDS:
        seed_body = seeds.LEGACY[kind.name]
        out.append(Case("import", f"saved:{kind.name}", mutated(seed_body),
                        lambda b, n=kind.name: pipelines.import_saved(n, b), 4.0))  # fmt: skip
    for marker, kind_name in pipelines.LEGACY_PATHS.items():
        out.append(Case("sync", f"legacy{marker}", mutated(seeds.LEGACY[kind_name]),
                        lambda b, m=marker: pipelines.legacy_sync_page(m, b), 8.0))  # fmt: skip
    for name in pipelines.SYNC_TYPES:
        out.append(Case("sync", name, mutated(seeds.v4()[name]),
                        lambda body, n=name: pipelines.sync_page(n, body), 8.0))  # fmt: skip
    return out


def _where(exc: BaseException) -> str:
    """The innermost frame in fitvault's own code that raised (or the last one)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/fitvault/" in f.filename] or frames
    f = ours[-1]
    return f"{f.filename.rpartition('/src/')[2] or f.filename}:{f.lineno}"


def run(
    case: Case, seconds: float | None, examples: int | None, tally: Tally, rnd: random.Random
) -> None:
    """Hypothesis runs of ``case`` with fresh seeds until the examples or the time are used;
    each run is sized from the last one's pace so the budget holds for slow targets too."""
    deadline = time.monotonic() + (seconds or 0)
    done, pace = 0, 0.0
    last: dict[str, bytes] = {}  # the input being checked: after a failure, the minimal one
    # Shrinking replays a case hundreds of times: seconds for a parser, hours for an import or
    # a sync, whose failing input is printed as found.
    shrinking = [Phase.generate, Phase.shrink]
    while (examples is not None and done < examples) or (
        examples is None and time.monotonic() < deadline
    ):
        if examples is not None:
            chunk = min(CHUNK, examples - done)
        else:
            left = deadline - time.monotonic()
            chunk = max(1, min(CHUNK, int(left / pace))) if pace else 3
        started = time.monotonic()

        @seed(rnd.getrandbits(64))
        @settings(max_examples=chunk, deadline=None, database=None, report_multiple_bugs=False,
                  phases=shrinking if case.weight == 1 else [Phase.generate],
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(st.data())
        def one(data: st.DataObject) -> None:
            body = data.draw(case.draw)
            last["body"] = body
            tally.cases += 1
            tally.outcomes[case.check(body)] += 1

        try:
            one()
        except Exception as exc:  # a Crash, or something the checks themselves did not expect
            cause = exc.__cause__ or exc
            key = (f"{case.group}:{case.name} @ {_where(cause)}", str(exc)[:160])
            if key not in tally.crashes:
                tally.crashes[key] = repr(last.get("body", b""))[:400]
                print(f"CRASH {key[0]}: {key[1]}\n  minimal input: {tally.crashes[key]}",
                      flush=True)  # fmt: skip
        done += chunk
        pace = (time.monotonic() - started) / chunk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--budget", type=float, default=200.0, help="seconds of fuzzing (the run adds ~30 s)"
    )
    parser.add_argument("--examples", type=int, help="examples per target instead of a budget")
    parser.add_argument("--only", default="", help="targets whose group:name contains this")
    parser.add_argument("--seed", type=int, default=None, help="for a repeatable run")
    args = parser.parse_args()
    stamina.set_testing(True, attempts=2)  # a garbled page is retried, without sleeping
    warnings.simplefilter("ignore")
    rnd = random.Random(args.seed)
    todo = [c for c in cases() if args.only in f"{c.group}:{c.name}"]
    weight = sum(c.weight for c in todo) or 1.0
    by_group: dict[str, Tally] = collections.defaultdict(Tally)
    started = time.monotonic()
    for case in todo:
        share = None if args.examples else args.budget * case.weight / weight
        run(case, share, args.examples, by_group[case.group], rnd)
    elapsed = time.monotonic() - started
    print(f"\n{'group':<8} {'targets':>7} {'cases':>7} {'rows':>7} {'refused':>8} {'crashes':>8}")
    for group, tally in by_group.items():
        n = sum(1 for c in todo if c.group == group)
        print(f"{group:<8} {n:>7} {tally.cases:>7} {tally.outcomes['rows']:>7} "
              f"{tally.outcomes['refused']:>8} {len(tally.crashes):>8}")  # fmt: skip
    total = sum(t.cases for t in by_group.values())
    crashes = sum(len(t.crashes) for t in by_group.values())
    print(f"{len(todo)} targets, {elapsed:.0f} s")
    print(f"fuzz_cases={total} crashes={crashes}")


if __name__ == "__main__":
    main()

"""Run the fitvault CLI with markers that let it be SIGKILLed at a chosen moment.

``python benchmarks/killable.py PHASE N DELAY COUNTS_FILE -- <fitvault arguments>`` runs
``fitvault <arguments>`` in this process, the same code path as the installed command, with four
functions wrapped to count how often the process reaches them:

* ``request`` — one HTTP attempt of the API client (``ApiClient._once``),
* ``parse`` — normalising one API page (``sync.normalise``) or parsing one archive member
  (``normalise.takeout.parse``),
* ``commit`` — one store transaction merging rows, raw pages and coverage (``Store.commit``),
* ``refresh`` — one access-token refresh (``TokenManager.refresh``).

On the N-th arrival at PHASE a timer sends this process SIGKILL after DELAY seconds, so the
kill lands while that operation runs (or, when it is quicker than DELAY, just after it).
PHASE ``count`` kills nothing; every run writes the arrivals so far to COUNTS_FILE as JSON (a
killed run leaves what it had reached when it died).
"""

from __future__ import annotations

import functools
import json
import os
import runpy
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

PHASES = ("request", "parse", "commit", "refresh")


class Markers:
    def __init__(self, phase: str, nth: int, delay: float, counts: Path) -> None:
        self.phase, self.nth, self.delay, self.path = phase, nth, delay, counts
        self.seen: Counter[str] = Counter()
        self.lock = threading.Lock()  # pages are normalised and committed in worker threads

    def reach(self, phase: str) -> None:
        with self.lock:
            self.seen[phase] += 1
            part = self.path.with_suffix(".part")  # whole or not at all, even when killed
            part.write_text(json.dumps(self.seen))
            part.replace(self.path)
            if phase == self.phase and self.seen[phase] == self.nth:
                kill = functools.partial(os.kill, os.getpid(), signal.SIGKILL)
                threading.Timer(self.delay, kill).start()

    def wrap(self, owner: Any, name: str, phase: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)
        if _is_async(original):

            async def marked_async(*args: Any, **kwargs: Any) -> Any:
                self.reach(phase)
                return await original(*args, **kwargs)

            setattr(owner, name, functools.wraps(original)(marked_async))
        else:

            def marked(*args: Any, **kwargs: Any) -> Any:
                self.reach(phase)
                return original(*args, **kwargs)

            setattr(owner, name, functools.wraps(original)(marked))


def _is_async(fn: Callable[..., Any]) -> bool:
    import inspect

    return inspect.iscoroutinefunction(fn)


def main() -> None:
    phase, nth, delay, counts = sys.argv[1:5]
    assert sys.argv[5] == "--", "usage: killable.py PHASE N DELAY COUNTS_FILE -- fitvault-args"
    markers = Markers(phase, int(nth), float(delay), Path(counts))
    from fitvault import auth, http, importer, store, sync

    markers.wrap(http.ApiClient, "_once", "request")
    markers.wrap(sync, "normalise", "parse")
    markers.wrap(importer.parsers, "parse", "parse")
    markers.wrap(store.Store, "commit", "commit")
    markers.wrap(auth.TokenManager, "refresh", "refresh")
    sys.argv = ["fitvault", *sys.argv[6:]]
    runpy.run_module("fitvault", run_name="__main__")


if __name__ == "__main__":
    main()

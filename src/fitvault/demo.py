"""``fitvault demo``: the whole pipeline against the embedded simulator.

Start the simulator on a free loopback port, sign in over HTTP through its consent page (the
demo presses Allow itself), sync, draw the six figures, write the HTML report (`report.html`)
and report what happened.
"""

from __future__ import annotations

import datetime as dt
import html.parser
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import httpx2

from fitvault import plots
from fitvault._errors import AuthFlowError
from fitvault.simulator.app import create_app
from fitvault.simulator.server import serve_in_thread
from fitvault.simulator.world import World
from fitvault.sync import ProgressFn, SyncReport
from fitvault.vault import Vault


class _ConsentForm(html.parser.HTMLParser):
    """Reads the consent page's form: its action, hidden fields and ticked scopes."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a.get("action", "")
        elif tag == "input" and (a.get("type") == "hidden" or "checked" in a):
            self.fields.append((a.get("name", ""), a.get("value", "")))


async def press_allow(url: str, *, transport: httpx2.AsyncBaseTransport | None = None) -> None:
    """Open the consent page like a browser would, press Allow, follow the redirect home.

    ``transport`` reaches the simulator (e.g. in-process); the redirect always goes to the real
    loopback listener that ``fitvault.auth`` started.
    """
    async with httpx2.AsyncClient(timeout=30.0, transport=transport) as client:
        page = await client.get(url)
        page.raise_for_status()
        form = _ConsentForm()
        form.feed(page.text)
        if not form.action:
            raise AuthFlowError(f"no consent form on {url}")
        data: dict[str, list[str]] = {"action": ["allow"]}
        for key, value in form.fields:
            data.setdefault(key, []).append(value)
        answer = await client.post(urljoin(url, form.action), data=data)
    if answer.status_code not in (302, 303) or "location" not in answer.headers:
        raise AuthFlowError(f"the consent page answered {answer.status_code}, not a redirect")
    async with httpx2.AsyncClient(timeout=30.0) as loopback:
        await loopback.get(answer.headers["location"])


@dataclass
class DemoReport:
    out: Path
    vault: Path
    server: str
    sync: SyncReport
    files: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    report: Path | None = None


def run_demo(
    out: Path,
    *,
    days: int = 90,
    seed: int = 7,
    progress: ProgressFn | None = None,
    on_step: Callable[[str], None] | None = None,
    now: dt.datetime | None = None,
) -> DemoReport:
    """Run the pipeline end to end into ``out``; returns what it did."""
    say = on_step or (lambda _msg: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    world = World.default(days=days, seed=seed, now=now)
    sim = create_app(world)
    vault = Vault(out / "vault")
    with serve_in_thread(sim.app) as url:
        say(f"simulator listening on {url} ({days} days of a synthetic person, seed {seed})")
        t = time.perf_counter()
        vault.authorize(server=url, open_url=press_allow)
        timings["auth"] = time.perf_counter() - t
        say("signed in through the simulator's consent page (OAuth 2.0 + PKCE, loopback redirect)")
        t = time.perf_counter()
        report = vault.sync(progress=progress)
        timings["sync"] = time.perf_counter() - t
    t = time.perf_counter()
    files = draw_all(vault, out)
    timings["plots"] = time.perf_counter() - t
    t = time.perf_counter()
    html = vault.report(out / "report.html")
    timings["report"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    return DemoReport(out, vault.directory, url, report, files, timings, html)


def draw_all(vault: Vault, out: Path, formats: tuple[str, ...] = ("png", "svg")) -> list[Path]:
    """The six figures for the vault's most recent data."""
    return [
        path for name in plots.PLOTS for path in plots.save(vault.plot(name), out, name, formats)
    ]

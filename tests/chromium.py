"""Headless Debian Chromium driven over the DevTools protocol (tests and benchmarks/report.py)."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = next(
    (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p),
    None,
)


class DevTools:
    """A minimal Chrome DevTools Protocol client: commands by id, events collected."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=30))
            if msg.get("id") == self.next_id:
                assert "error" not in msg, msg
                return msg.get("result", {})  # type: ignore[no-any-return]
            self.events.append(msg)

    def wait_for(self, method: str) -> None:
        while not any(e.get("method") == method for e in self.events):
            self.events.append(json.loads(self.ws.recv(timeout=30)))

    def js(self, expression: str) -> Any:
        """The value of a JavaScript expression evaluated in the page."""
        answer = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in answer, answer
        return answer["result"].get("value")

    def mouse(self, kind: str, x: float, y: float, **extra: Any) -> None:
        """A real input event (mousePressed / mouseMoved / mouseReleased / mouseWheel)."""
        self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, **extra)

    def errors(self) -> list[dict[str, Any]]:
        """Exceptions, error log entries and console errors or warnings seen so far."""
        return [
            e
            for e in self.events
            if e.get("method") == "Runtime.exceptionThrown"
            or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
            or (
                e.get("method") == "Runtime.consoleAPICalled"
                and e["params"]["type"] in ("error", "warning")
            )
        ]

    def requests(self, *, besides: str) -> list[str]:
        """URLs the page asked for other than ``besides`` (the page itself)."""
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
            and e["params"]["request"]["url"] != besides
        ]


@contextlib.contextmanager
def launch() -> Iterator[DevTools]:
    """A fresh headless Chromium (own temporary profile) and a client for its first page."""
    if CHROMIUM is None:
        raise FileNotFoundError("Chromium is not installed (apt-get install chromium)")
    from websockets.sync.client import connect

    # Chromium's helper processes may still be writing the profile as the browser exits.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-extensions",
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            for _ in range(600):  # Chromium writes the port once it listens
                if port_file.exists() and port_file.read_text().count("\n") >= 1:
                    break
                if proc.poll() is not None:
                    raise RuntimeError(f"Chromium exited with {proc.returncode}")
                time.sleep(0.05)
            port = int(port_file.read_text().split()[0])
            pages = _pages(port)
            with connect(pages[0]["webSocketDebuggerUrl"], max_size=None) as ws:
                yield DevTools(ws)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _pages(port: int) -> list[dict[str, Any]]:
    """The browser's page targets; on a loaded machine the port file can come a moment before
    the endpoint answers, so a refused connection is retried for a few seconds."""
    for attempt in range(50):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as answer:
                return [t for t in json.load(answer) if t["type"] == "page"]
        except OSError:
            if attempt == 49:
                raise
            time.sleep(0.1)
    return []


def open_page(
    browser: DevTools, path: Path, width: int, height: int, *, scripts: bool = True
) -> float:
    """Load ``path`` at ``width`` × ``height`` CSS px; returns seconds from navigation to the
    load event (measured in the page: PerformanceNavigationTiming)."""
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.call(f"{domain}.enable")
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        width=width,
        height=height,
        deviceScaleFactor=1,
        mobile=width < 600,
    )
    browser.call("Emulation.setScriptExecutionDisabled", value=not scripts)
    browser.call("Page.navigate", url=path.as_uri())
    browser.wait_for("Page.loadEventFired")
    if not scripts:
        return float("nan")
    return (
        float(browser.js("performance.getEntriesByType('navigation')[0].loadEventEnd") or 0) / 1000
    )


def plot_xy(browser: DevTools, selector: str, fx: float, fy: float = 0.5) -> tuple[float, float]:
    """Viewport coordinates of the point at fractions (fx, fy) of a chart's plot area."""
    x, y = browser.js(
        f"""(() => {{
        const s = document.querySelector({json.dumps(selector)});
        const r = s.getBoundingClientRect(), vb = s.viewBox.baseVal;
        const px = s.dataset.px.split(' ').map(Number), py = s.dataset.py.split(' ').map(Number);
        const x = px[0] + {fx} * (px[1] - px[0]), y = py[0] + {fy} * (py[1] - py[0]);
        return [r.left + x * r.width / vb.width, r.top + y * r.height / vb.height];
    }})()"""
    )
    return float(x), float(y)


def view(browser: DevTools, selector: str) -> list[float] | None:
    """A zoomable chart's visible x range as its script last set it (None: never zoomed)."""
    text = browser.js(f"document.querySelector({json.dumps(selector)}).dataset.view || null")
    return None if text is None else [float(v) for v in text.split()]


def drag(browser: DevTools, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Press, move in five steps and release the left button, as a hand would."""
    browser.mouse("mousePressed", *start, button="left", buttons=1, clickCount=1)
    for i in range(1, 6):
        x = start[0] + (end[0] - start[0]) * i / 5
        browser.mouse("mouseMoved", x, end[1], button="left", buttons=1)
    browser.mouse("mouseReleased", *end, button="left", buttons=0, clickCount=1)

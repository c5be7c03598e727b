"""One self-contained HTML report of a vault: ``vault.report()`` or ``fitvault report``.

Everything is inline (CSS, SVG and one small script; no fonts, no URLs), so the file opens from
disk or as an e-mail attachment, offline. The script only adds zoom and hover to the charts
over time; with scripts off (many mail clients) the same SVG is the static figure. Layout:

``data``      reads the frames once through the Vault API and aggregates long series
``svg``       tiny chart primitives (axes, lines, bars, bands, points, cells)
``charts``    the figures, from frames to SVG
``sections``  Overview · Heart · Sleep · Activity · Vitals and body · Data; empty ones vanish
``page``      the HTML page: stylesheet (light and dark), navigation, Content-Security-Policy,
              and ``interact.js`` (zoom and hover)
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from fitvault._errors import ConfigError
from fitvault.report.data import ReportData, gather
from fitvault.report.page import page
from fitvault.report.sections import SECTIONS

if TYPE_CHECKING:
    from fitvault.vault import Vault

__all__ = ["TYPES", "ReportData", "check_out", "gather", "render", "write"]

# The data types the report draws (a sync of just these fills every section).
TYPES = (
    "heart-rate", "sleep", "steps", "daily-resting-heart-rate", "daily-heart-rate-variability",
    "daily-heart-rate-zones", "daily-oxygen-saturation", "daily-respiratory-rate",
    "daily-sleep-temperature-derivations", "daily-vo2-max", "active-zone-minutes", "exercise",
    "weight",
)  # fmt: skip


def render(vault: Vault, since: dt.date | None = None, until: dt.date | None = None) -> str:
    """The report for ``[since, until]`` (whole local days; default: everything) as HTML."""
    data = gather(vault, since, until)
    parts = [(sid, head, make(data)) for sid, head, make in SECTIONS]
    span = "no data yet" if data.first is None else f"{data.first} to {data.last}"
    stamp = data.generated.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return page(
        "fitvault report",
        f"{span} · vault {vault.directory.name}",
        parts,
        f"Made by fitvault from {vault.directory} on {stamp}. Self-contained: no network needed.",
    )


def check_out(out: Path) -> Path:
    """``out`` as a Path, refused early if it names a directory."""
    out = Path(out)
    if out.is_dir():
        raise ConfigError(f"--out {out} is a directory; give a file name such as report.html")
    return out


def write(html: str, out: Path) -> Path:
    """Write ``html`` to ``out`` atomically (readable by others, like the figures)."""
    out = check_out(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    except OSError as exc:
        raise ConfigError(
            f"cannot write {out} ({exc.strerror or exc}); pick another --out"
        ) from None
    try:
        mask = os.umask(0o022)
        os.umask(mask)
        os.fchmod(fd, 0o666 & ~mask)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out

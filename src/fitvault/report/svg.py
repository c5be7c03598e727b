"""Small inline-SVG charts: axes with units, lines, bars, bands, points, heat-map cells.

Colours are CSS classes (``c-hr``, ``f-deep`` …) that the page's stylesheet maps to one
colour-blind-safe palette, so the same SVG follows the light and dark themes. Hover text is a
``<title>`` per mark: it works with scripts off, in any browser and in e-mail clients. Long
series are one ``<path>`` each instead (a line, more than :data:`MANY` bars, a heat map's colour
step) with their hover text in data attributes that the page's script reads: five years as an
element per mark was 42 000 elements and most of the page's load time.

A chart over time (``zoom="date"``: x in date ordinals; ``zoom="clock"``: x in hours) is drawn
so the page's script (``interact.js``) can zoom it: its marks sit in one ``<g class="zg">``
inside a nested ``<svg>`` that clips them to the plot area, its x ticks in ``<g class="xt">``,
and the root carries the x scale (``data-x`` domain, ``data-px`` pixels, ``data-py`` plot top
and bottom). Without scripts the same SVG is the static figure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

import numpy as np

W, H = 720.0, 260.0
PAD_L, PAD_R, PAD_T, PAD_B = 70.0, 24.0, 32.0, 46.0

Tick = tuple[float, str]


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def num(value: float) -> str:
    """Coordinates with one decimal: enough on a 720-unit canvas, and short."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def nums(values: Any) -> list[str]:
    """:func:`num` over an array at once (the same text: one decimal, no ``.0``)."""
    return [f"{v:g}" for v in np.round(np.asarray(values, dtype="float64"), 1).tolist()]


def _runs(ok: Any) -> list[tuple[int, int]]:
    """[start, stop) of each run of True in a boolean array."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], ok.astype("int8"), [0]))))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2, 2.5 or 5 × 10^k apart)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def fmt_tick(value: float) -> str:
    """``12``, ``2.5``, ``60k``: short enough for the left margin."""
    if abs(value) >= 10_000:
        return f"{value / 1000:g}k"
    return f"{value:.0f}" if abs(value - round(value)) < 1e-9 else f"{value:g}"


@dataclass
class Chart:
    """One plot area with a linear x and y scale; marks are added, then ``render()``."""

    title: str
    xlabel: str
    ylabel: str
    x: tuple[float, float]
    y: tuple[float, float]
    xticks: Sequence[Tick] = ()
    yticks: Sequence[Tick] | None = None
    height: float = H
    width: float = W
    left: float = PAD_L
    marks: list[str] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    max_width: float = 0
    zoom: str = ""  # "date" or "clock": the page's script may zoom the x axis

    def __post_init__(self) -> None:
        lo, hi = self.y
        if hi <= lo:
            self.y = (lo - 1, hi + 1)
        if self.x[1] <= self.x[0]:
            self.x = (self.x[0] - 0.5, self.x[1] + 0.5)

    def sx(self, v: Any) -> Any:
        """x in viewBox units (a float, or an array for an array)."""
        lo, hi = self.x
        return self.left + (v - lo) / (hi - lo) * (self.width - self.left - PAD_R)

    def sy(self, v: Any) -> Any:
        lo, hi = self.y
        return self.height - PAD_B - (v - lo) / (hi - lo) * (self.height - PAD_T - PAD_B)

    def key(self, cls: str, label: str) -> None:
        if (cls, label) not in self.legend:
            self.legend.append((cls, label))

    def line(
        self,
        xs: Iterable[float],
        ys: Iterable[float],
        cls: str,
        label: str = "",
        tips: Sequence[str] | None = None,
    ) -> None:
        """A polyline, broken wherever y is NaN. ``tips`` (hover text per point) go into two
        attributes the page's script reads, ``data-tx`` (x in pixels) and ``data-tip``: far
        fewer bytes and elements than an invisible dot with a ``<title>`` per point."""
        x = np.asarray(list(xs) if not isinstance(xs, np.ndarray) else xs, dtype="float64")
        y = np.asarray(list(ys) if not isinstance(ys, np.ndarray) else ys, dtype="float64")
        # Scaled and formatted as arrays: five years of daily lines are ~50 000 points, and a
        # call per coordinate was a third of the report's Python time.
        ok = np.isfinite(y)
        px, py = nums(self.sx(x)), nums(self.sy(np.where(ok, y, 0.0)))
        runs = []
        for a, b in _runs(ok):
            if b - a > 1:
                runs.append("M" + "L".join(f"{px[i]},{py[i]}" for i in range(a, b)))
        data = ""
        if tips:
            hover = [
                (px[i], tips[i].replace("|", "/")) for i in np.flatnonzero(ok).tolist() if tips[i]
            ]
            if hover:
                data = (
                    f' data-tx="{" ".join(x for x, _ in hover)}" '
                    f'data-tip="{esc("|".join(t for _, t in hover))}"'
                )
        if runs:
            self.marks.append(f'<path class="ln {cls}" d="{" ".join(runs)}"{data}/>')
        if label:
            self.key(cls, label)

    def bars(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        width: float,
        cls: str,
        *,
        label: str = "",
        bottoms: Sequence[float] | None = None,
        titles: Sequence[str] | None = None,
    ) -> None:
        """Bars centred on ``xs``, ``width`` in x units. More than :data:`MANY` bars become one
        ``<path>`` whose hover text the page's script reads from ``data-tx``/``data-tip`` (as a
        long line's): a rect and a title per bar made five years of weekly stacks 12 000
        elements."""
        if len(xs) > MANY:
            self._bar_path(xs, ys, width, cls, bottoms, titles)
            if label:
                self.key(cls, label)
            return
        for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
            if not math.isfinite(y) or y == 0:
                continue
            b = bottoms[i] if bottoms is not None else 0.0
            x0, x1 = self.sx(x - width / 2), self.sx(x + width / 2)
            y0, y1 = self.sy(b + y), self.sy(b)
            tip = f"<title>{esc(titles[i])}</title>" if titles else ""
            self.marks.append(
                f'<rect class="{cls}" x="{num(x0)}" y="{num(y0)}" width="{num(max(x1 - x0, 0.6))}"'
                f' height="{num(max(y1 - y0, 0.0))}">{tip}</rect>'
            )
        if label:
            self.key(cls, label)

    def _bar_path(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        width: float,
        cls: str,
        bottoms: Sequence[float] | None,
        titles: Sequence[str] | None,
    ) -> None:
        x = np.asarray(xs, dtype="float64")
        y = np.asarray(ys, dtype="float64")
        b = np.zeros(len(x)) if bottoms is None else np.asarray(bottoms, dtype="float64")
        shown = np.isfinite(y) & (y != 0)
        x0 = self.sx(x - width / 2)
        w = nums(np.maximum(self.sx(x + width / 2) - x0, 0.6))
        left, centre = nums(x0), nums(self.sx(x))
        top, bottom = nums(self.sy(np.where(shown, b + y, 0.0))), nums(self.sy(b))
        idx = np.flatnonzero(shown).tolist()
        d = "".join(f"M{left[i]},{bottom[i]}V{top[i]}h{w[i]}V{bottom[i]}z" for i in idx)
        data = ""
        if titles:
            tips = [i for i in idx if titles[i]]
            data = (
                f' data-tx="{" ".join(centre[i] for i in tips)}" '
                f'data-tip="{esc("|".join(titles[i].replace("|", "/") for i in tips))}"'
            )
        if d:
            self.marks.append(f'<path class="{cls}" d="{d}"{data}/>')

    def band(self, x0: float, x1: float, cls: str, title: str = "", label: str = "") -> None:
        """A shaded vertical span over the whole plot height."""
        a, b = self.sx(max(x0, self.x[0])), self.sx(min(x1, self.x[1]))
        if b <= a:
            return
        tip = f"<title>{esc(title)}</title>" if title else ""
        top, bottom = self.sy(self.y[1]), self.sy(self.y[0])
        self.marks.insert(
            0,
            f'<rect class="band {cls}" x="{num(a)}" y="{num(top)}" width="{num(b - a)}" '
            f'height="{num(bottom - top)}">{tip}</rect>',
        )
        if label:
            self.key(cls, label)

    def points(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        cls: str,
        *,
        label: str = "",
        titles: Sequence[str] | None = None,
        r: float = 3.0,
    ) -> None:
        if len(xs) > MANY_POINTS:  # one path of round dots (a zero-length segment with round caps)
            ax, ay = np.asarray(xs, dtype="float64"), np.asarray(ys, dtype="float64")
            ok = np.isfinite(ay)
            px, py = nums(self.sx(ax[ok])), nums(self.sy(ay[ok]))
            d = "".join(f"M{a},{b}h0" for a, b in zip(px, py, strict=True))
            self.marks.append(
                f'<path class="dots {cls}" d="{d}" style="stroke-width:{num(2 * r)}px"/>'
            )
            if label:
                self.key(f"pt {cls}", label)
            return
        for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
            if not math.isfinite(y):
                continue
            tip = f"<title>{esc(titles[i])}</title>" if titles else ""
            self.marks.append(
                f'<circle class="pt {cls}" cx="{num(self.sx(x))}" cy="{num(self.sy(y))}" '
                f'r="{num(r)}">{tip}</circle>'
            )
        if label:
            self.key(f"pt {cls}", label)

    def segment(self, x0: float, y0: float, x1: float, y1: float, cls: str, label: str) -> None:
        self.marks.append(
            f'<path class="ln {cls}" d="M{num(self.sx(x0))},{num(self.sy(y0))}'
            f'L{num(self.sx(x1))},{num(self.sy(y1))}"/>'
        )
        self.key(cls, label)

    def cell(self, x0: float, x1: float, y0: float, y1: float, fill: str, title: str) -> None:
        """A heat-map cell with an explicit colour (a sequential scale, not a class)."""
        a, b = self.sx(x0), self.sx(x1)
        top, bottom = self.sy(y1), self.sy(y0)
        self.marks.append(
            f'<rect x="{num(a)}" y="{num(top)}" width="{num(b - a + 0.3)}" '
            f'height="{num(bottom - top + 0.3)}" fill="{fill}"><title>{esc(title)}</title></rect>'
        )

    def heat(
        self, x0: float, step: float, values: Any, scale: tuple[float, float], unit: str, what: str
    ) -> None:
        """A grid of cells: ``values[column, row]``, columns ``step`` x units wide from ``x0``,
        row 0 at the top, one y unit per row, coloured on viridis over ``scale`` in
        :data:`BINS` steps. One ``<path>`` per colour step, neighbouring cells of a row merged:
        five years of weekly hours as 6 000 ``<rect>``s were a third of the page. Each colour's
        ``<title>`` names its range (the hover text with scripts off); the exact values travel
        in ``data-v`` for the page's script, which names the cell under the pointer."""
        v = np.asarray(values, dtype="float64")
        cols, rows = v.shape
        lo, hi = scale
        width = (hi - lo) or 1.0
        known = np.isfinite(v)
        t = np.clip((np.where(known, v, lo) - lo) / width, 0.0, 1.0)
        bins = np.where(known, np.minimum((t * BINS).astype("int64"), BINS - 1), -1)
        xs = nums(self.sx(x0 + step * np.arange(cols + 1)))
        x_end = nums(self.sx(x0 + step * np.arange(cols + 1)) + 0.3)  # overlap: no seams
        tops = nums(self.sy(rows - np.arange(rows)))
        bottoms = nums(self.sy(rows - np.arange(rows) - 1) + 0.3)
        for k in range(BINS):
            d = [
                f"M{xs[a]},{tops[r]}H{x_end[b]}V{bottoms[r]}H{xs[a]}z"
                for r in range(rows)
                for a, b in _runs(bins[:, r] == k)
            ]
            if d:
                a, b = lo + width * k / BINS, lo + width * (k + 1) / BINS
                self.marks.append(
                    f'<path fill="{viridis((k + 0.5) / BINS)}" d="{"".join(d)}">'
                    f"<title>{a:.0f}–{b:.0f} {esc(unit)}</title></path>"
                )
        cells = ",".join("" if not math.isfinite(x) else f"{x:.0f}" for x in v.ravel().tolist())
        self.marks.insert(
            0,
            f'<g class="heat" data-heat="{x0:.10g} {step:g} {cols} {rows}" '
            f'data-what="{esc(what)}" data-unit="{esc(unit)}" data-v="{cells}"></g>',
        )

    def _grid(self) -> list[str]:
        x0, x1 = self.left, self.width - PAD_R
        return [
            f'<path class="grid" d="M{num(x0)},{num(self.sy(v))}H{num(x1)}"/>'
            for v, _ in self._yticks()
        ]

    def _yticks(self) -> list[Tick]:
        ticks = self.yticks
        if ticks is None:
            ticks = [(v, fmt_tick(v)) for v in nice_ticks(*self.y)]
        top, bottom = self.sy(self.y[1]), self.sy(self.y[0])
        return [(v, t) for v, t in ticks if top - 0.5 <= self.sy(v) <= bottom + 0.5]

    def _axes(self) -> list[str]:
        out = []
        x0, x1 = self.left, self.width - PAD_R
        y0, y1 = self.height - PAD_B, PAD_T
        for v, text in self._yticks():
            y = self.sy(v)
            out.append(f'<text class="tick" x="{num(x0 - 6)}" y="{num(y + 4)}" '
                           f'text-anchor="end">{esc(text)}</text>')  # fmt: skip
        xt = []
        for v, text in self.xticks:
            x = self.sx(v)
            if x0 - 0.5 <= x <= x1 + 0.5:
                xt.append(f'<path class="axis" d="M{num(x)},{num(y0)}v4"/>')
                xt.append(f'<text class="tick" x="{num(x)}" y="{num(y0 + 16)}" '
                          f'text-anchor="middle">{esc(text)}</text>')  # fmt: skip
        out.append(f'<g class="xt">{"".join(xt)}</g>' if self.zoom else "".join(xt))
        out.append(f'<path class="axis" d="M{num(x0)},{num(y1)}V{num(y0)}H{num(x1)}"/>')
        out.append(
            f'<text class="label" x="{num((x0 + x1) / 2)}" y="{num(self.height - 6)}" '
            f'text-anchor="middle">{esc(self.xlabel)}</text>'
        )
        out.append(
            f'<text class="label" transform="translate(15,{num((y0 + y1) / 2)}) rotate(-90)" '
            f'text-anchor="middle">{esc(self.ylabel)}</text>'
        )
        return out

    def _legend(self) -> list[str]:
        out, x = [], self.left
        for cls, label in self.legend:
            if cls.startswith("pt "):
                out.append(f'<circle class="{cls}" cx="{num(x + 6)}" cy="14" r="4"/>')
            elif cls.startswith("c-"):  # a line: show a stroke, dashed if the line is
                out.append(f'<path class="ln {cls}" d="M{num(x)},14h12"/>')
            else:
                out.append(f'<rect class="{cls} key" x="{num(x)}" y="8" width="12" height="12"/>')
            out.append(f'<text class="tick" x="{num(x + 16)}" y="18">{esc(label)}</text>')
            x += 28 + 9.5 * len(label)  # room for the larger type on phones
        return out

    def render(self) -> str:
        if not self.zoom:
            body = "".join([*self._grid(), *self.marks, *self._axes(), *self._legend()])
            return svg(self.title, self.width, self.height, body, self.max_width)
        x0, x1 = self.left, self.width - PAD_R
        y0, y1 = PAD_T, self.height - PAD_B
        box = f"{num(x0)} {num(y0)} {num(x1 - x0)} {num(y1 - y0)}"
        plot = (  # a nested viewport clips zoomed marks to the plot area (no url() needed)
            f'<svg x="{num(x0)}" y="{num(y0)}" width="{num(x1 - x0)}" height="{num(y1 - y0)}" '
            f'viewBox="{box}"><g class="zg">{"".join(self.marks)}</g></svg>'
        )
        attrs = (
            f' data-zoom="{self.zoom}" data-x="{self.x[0]:.10g} {self.x[1]:.10g}" '
            f'data-px="{num(x0)} {num(x1)}" data-py="{num(y0)} {num(y1)}"'
        )
        body = "".join([*self._grid(), plot, *self._axes(), *self._legend()])
        return svg(self.title, self.width, self.height, body, self.max_width, attrs)


def svg(
    title: str, width: float, height: float, body: str, max_width: float = 0, attrs: str = ""
) -> str:
    """A responsive SVG figure with an accessible title (also its hover text); ``max_width``
    (CSS px) keeps small figures from being blown up on wide screens; a zoomable chart's
    ``attrs`` mark it for the page's script."""
    style = f' style="max-width:{max_width:.0f}px"' if max_width else ""
    cls = "chart zoom" if attrs else "chart"
    return (
        f'<figure{style}><figcaption>{esc(title)}</figcaption><svg class="{cls}" '
        f'viewBox="0 0 {num(width)} {num(height)}" role="img"{attrs}>'
        f"<title>{esc(title)}</title>{body}</svg></figure>"
    )


# One stage colour scheme everywhere: the report's CSS and the matplotlib figures (plots.py).
# It lives here, not in plots.py, so the report never imports matplotlib (~1 s at start-up).
STAGE_COLOURS = {"deep": "#1f3a68", "light": "#7fb2e5", "rem": "#8e5bb5", "wake": "#e8743b"}

MANY = 150  # more marks than this in one series: one <path>, hover text for the script only
MANY_POINTS = 400  # dots: beyond this, one path of dots without per-point hover text
BINS = 16  # colour steps of a heat map: finer than the eye tells apart on a small cell

# Viridis at eight stops: sequential, colour-blind safe, legible in both themes.
_VIRIDIS = (
    (68, 1, 84), (70, 50, 127), (54, 92, 141), (39, 127, 142),
    (31, 161, 135), (74, 194, 109), (159, 218, 58), (253, 231, 37),
)  # fmt: skip


def viridis(t: float) -> str:
    """A colour for ``t`` in [0, 1]."""
    t = min(max(t, 0.0), 1.0) * (len(_VIRIDIS) - 1)
    i = min(int(t), len(_VIRIDIS) - 2)
    f = t - i
    rgb = (round(a + (b - a) * f) for a, b in zip(_VIRIDIS[i], _VIRIDIS[i + 1], strict=True))
    return "#{:02x}{:02x}{:02x}".format(*rgb)

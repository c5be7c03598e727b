"""Progress bars fed by the library's callbacks, and the tables a sync ends with."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from fitvault.cli._app import (
    NOTICES,
    _note,
    out,
)
from fitvault.sync import SyncProgress, SyncReport, TypePlan


class SyncBars:
    """Rich progress bars fed by the library's progress callback, and the retry notices."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.fields[name]:<26}", markup=False),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            TextColumn("{task.fields[points]:>10,} points  {task.fields[requests]:>5} requests"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[note]}", markup=False, style="yellow"),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self._current: TaskID | None = None

    def __enter__(self) -> SyncBars:
        self.progress.start()
        NOTICES.sink = self.notice
        return self

    def __exit__(self, *exc: object) -> None:
        NOTICES.sink = None
        self.progress.stop()

    def __call__(self, p: SyncProgress) -> None:
        task = self.tasks.get(p.data_type)
        if task is None:
            task = self.tasks[p.data_type] = self.progress.add_task(
                "", total=1.0, name=p.data_type, points=0, requests=0, note=""
            )
        self._current = task
        note = f"waiting {p.waiting_s:.0f} s for the per-minute quota" if p.waiting_s else ""
        self.progress.update(
            task, completed=p.done, points=p.points, requests=p.requests, note=note
        )

    def notice(self, line: str) -> None:
        """Show ``line`` (e.g. a scheduled retry) beside the type being fetched."""
        if self._current is None:
            self.progress.console.print(Text(line, style="yellow"), highlight=False)
        else:
            self.progress.update(self._current, note=line)


def _sync_summary(report: SyncReport) -> Table:
    """Per type what this sync did: points received and rows the vault gained."""
    table = Table(title="This sync", show_edge=False)
    table.add_column("data type")
    table.add_column("pages", justify="right")
    table.add_column("points received", justify="right")
    table.add_column("rows added", justify="right")
    for name in sorted(set(report.points) | set(report.added)):
        if name in report.skipped:
            continue
        table.add_row(
            name,
            f"{report.pages.get(name, 0):,}",
            f"{report.points.get(name, 0):,}",
            f"{report.added.get(name, 0):+,}",
        )
    return table


def _plan_table(plans: list[TypePlan]) -> Table:
    table = Table(title="What a sync would fetch (no data requested)", show_edge=False)
    for col, justify in (
        ("data type", "left"),
        ("operation", "left"),
        ("windows", "right"),
        ("days", "right"),
        ("≈ requests", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for p in plans:
        if not p.granted:
            table.add_row(p.data_type, "not granted", "", "", "")
            continue
        table.add_row(
            p.data_type, p.operation, str(len(p.windows)), f"{p.days:,.1f}", f"{p.requests:,}"
        )
    return table


class LegacyBars(SyncBars):
    """The progress bars, with the wait for the hourly budget counted down beside them."""

    def __call__(self, p: SyncProgress) -> None:
        super().__call__(p)
        if p.waiting_s:
            left = int(p.waiting_s)
            note = f"waiting {left // 60}:{left % 60:02d} for the hourly request budget (150/h)"
            self.progress.update(self.tasks[p.data_type], note=note)


def _print_legacy_report(report: SyncReport) -> None:
    """Requests and points per legacy series, then rows added per table."""
    series = Table(title="This sync", show_edge=False)
    series.add_column("series")
    series.add_column("requests", justify="right")
    series.add_column("points received", justify="right")
    for name in sorted(report.pages):
        series.add_row(name, f"{report.pages[name]:,}", f"{report.points.get(name, 0):,}")
    out.print(series)
    added = {t: n for t, n in report.added.items() if n}
    if added:
        out.print("rows added: " + ", ".join(f"{t} {n:+,}" for t, n in sorted(added.items())))
    for name, why in report.skipped.items():
        _note(f"skipped {name}: {why}")
    waited = getattr(report, "waited_s", 0.0)
    wait = f", {waited / 60:.0f} min of it waiting for the hourly budget" if waited >= 60 else ""
    out.print(f"{report.requests} requests in {report.seconds:.0f} s{wait}", highlight=False)


def _lean_arrow() -> None:
    """Allocator settings for a long sync (see fitvault.sync.lean_memory)."""
    from fitvault.sync import lean_memory

    lean_memory()


def _print_report(report: SyncReport) -> None:
    out.print(_sync_summary(report))
    for name, why in report.skipped.items():
        _note(f"skipped {name}: {why}")
    points = sum(report.points.values())
    out.print(f"{report.requests} requests, {points:,} points received in {report.seconds:.1f} s")

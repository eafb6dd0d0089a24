"""Rich progress bars and stage messages for the command line."""

from __future__ import annotations

from typing import Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class RichProgress:
    """Implements ``stages.Progress`` with rich bars on stderr."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._bars: Progress | None = None

    def _ensure(self) -> Progress:
        if self._bars is None:
            self._bars = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), TimeRemainingColumn(), console=self.console, transient=False,
            )
            self._bars.start()
        return self._bars

    def stage(self, message: str) -> None:
        self.console.log(message)

    def track(self, description: str, total: int) -> Callable[[int], None]:
        bars = self._ensure()
        task = bars.add_task(description, total=max(total, 1))
        if total == 0:
            bars.update(task, completed=1)
        return lambda n: bars.advance(task, n)

    def done(self) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None

"""A progress bar on stderr over replications (and scenarios or sweep points), TTY only.

Nothing is drawn when stderr is not a terminal (pipes, CI logs, tests) or with ``--quiet``, so
the bar never ends up in captured output.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich loads only when a bar is drawn (a terminal, not --quiet)
    from rich.progress import Progress, TaskID


def progress_wanted(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


class ProgressBar:
    """One bar for the replications of the current batch, one for the groups they belong to.

    ``group_label`` names the groups ("scenarios", "sweep points"); None shows no group bar.
    """

    def __init__(self, enabled: bool, group_label: str | None = None) -> None:
        self._group_label = group_label
        self._progress: Progress | None = None
        self._ids: list[TaskID] = []
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )

    def __enter__(self) -> ProgressBar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def batch(self, description: str, replications: int, groups: int) -> None:
        """Start bars for a batch of ``replications`` tasks spread over ``groups`` groups."""
        if self._progress is None:
            return
        for task in self._ids:
            self._progress.remove_task(task)
        self._ids = [self._progress.add_task(description, total=replications)]
        if self._group_label and groups > 1:
            self._ids.append(self._progress.add_task(f"  {self._group_label}", total=groups))

    def advance(self, group_finished: bool) -> None:
        if self._progress is None or not self._ids:
            return
        self._progress.advance(self._ids[0])
        if group_finished and len(self._ids) > 1:
            self._progress.advance(self._ids[1])

"""Progress on the terminal, for the CLI: Rich's progress bars on stderr, one line redrawn in place
and as wide as the terminal. Nothing is drawn when stderr is not a terminal (cron mail and logs get
the result lines only). Names and errors are shown literally (never as Rich markup) and with
control characters escaped (tui.format.printable)."""

from __future__ import annotations

import sys
from typing import Any

from tui import format as fmt
from tui.model import ItemResult, Transfer

NAME_MIN = 24  # a backup name in a progress line is squeezed no narrower (its date kept)
BAR_MIN = 10


class _Bar:
    """One live Rich progress line, started on first use; `say` prints a line above it."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self._progress: Any = None
        self._task: Any = None

    def _start(self, *columns: Any) -> None:
        from rich.console import Console
        from rich.progress import Progress

        self._progress = Progress(*columns, console=Console(stderr=True, highlight=False), transient=True)
        self._task = self._progress.add_task("", total=None, detail="")

    def _show(self) -> None:
        """Drawn from the first update on (an empty bar is never shown)."""
        if not self._progress.live.is_started:
            self._progress.start()

    def say(self, line: str, error: bool = False) -> None:
        """A result line, above the bar while it runs: stdout, or stderr for an `error`."""
        if self._progress is not None:
            from rich.text import Text

            self._progress.console.print(Text(line), soft_wrap=True)  # a Text: never markup
        else:
            print(line, file=sys.stderr if error else sys.stdout, flush=True)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class TransferBar(_Bar):
    """Archive, restore, verify: 'archiving orders_backup_2026_05_20_120000 ━━━━━━  45% 1,234/9,000
    rows  12.0 MiB/30.0 MiB', fitted to the terminal: the rows go first, then the sizes, then the
    name is squeezed (its date kept); the phase, a bar and the percentage always stay."""

    def __call__(self, t: Transfer) -> None:
        if not self.tty:
            return
        fraction = t.fraction
        rows = f"{t.rows:,}" + (f"/{t.total_rows:,}" if t.total_rows else "") + " rows"
        size = fmt.size(t.bytes) + (f"/{fmt.size(t.total_bytes)}" if t.total_bytes else "")
        if self._progress is None:
            from rich.progress import BarColumn, TaskProgressColumn, TextColumn

            self._start(
                TextColumn("{task.description}", markup=False),
                BarColumn(bar_width=None),
                TaskProgressColumn(),
                TextColumn("{task.fields[detail]}", markup=False),
            )
        width = self._progress.console.width
        name = fmt.printable(t.name)
        fixed = len(t.phase) + 1 + BAR_MIN + 5 + 3  # phase, bar, percentage and the gaps between
        for detail in (f"{rows}  {size}", size, ""):
            if fixed + len(detail) + min(fmt.cell_len(name), NAME_MIN) <= width:
                break
        room = max(width - fixed - len(detail), NAME_MIN)
        self._progress.update(
            self._task,
            description=f"{t.phase} {fmt.squeeze_name(name, room)}",
            total=None if fraction is None else 1000,
            completed=0 if fraction is None else round(fraction * 1000),
            detail=detail,
        )
        self._show()


class ItemBar(_Bar):
    """Drop and prune loops: a bar of backups done, and what was freed. A failure is printed above
    it; the same error again (a whole batch's say) is counted, not repeated."""

    def __init__(self, total: int) -> None:
        super().__init__()
        self.total, self.done, self.freed = total, 0, 0
        self.last_error: str | None = None
        self.repeated = 0

    def __call__(self, item: ItemResult) -> None:
        self.done += 1
        self.freed += item.freed_bytes
        if not item.ok:
            if item.error == self.last_error:
                self.repeated += 1
            else:
                self._said_again()
                self.last_error = item.error
                self.say(f"skipped {fmt.printable(item.name)}: {fmt.printable(item.error)}", error=True)
        if not self.tty:
            return
        if self._progress is None:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn

            self._start(
                TextColumn("dropping", markup=False),
                BarColumn(bar_width=None),
                MofNCompleteColumn(),
                TextColumn("{task.fields[detail]}", markup=False),
            )
        self._progress.update(self._task, total=self.total, completed=self.done, detail=f"freed {fmt.size(self.freed)}")
        self._show()

    def _said_again(self) -> None:
        if self.repeated:
            self.say(f"  (and {self.repeated} more for the same reason)", error=True)
            self.repeated = 0

    def close(self) -> None:
        self._said_again()
        super().close()

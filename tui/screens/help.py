"""`?`: every key of the main screen, from its bindings (so remapped keys show as they are)."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, str], ...] = (
    ("s / a / n", "sort by size / age / name (again: reverse)"),
    ("< / >", "sort by the previous / next column; or click a header"),
    ("/", "filter by name, source table or reason; enter keeps it, escape clears"),
    ("space", "mark / unmark the row (marks feed drop)"),
    ("enter", "details: columns, sizes, dependants, exact row count"),
    ("c", "create a backup (table, reason, kind)"),
    ("d", "drop the marked backups, or the current one (typed confirmation)"),
    ("p", "prune preview: the plan with a decision and a reason per backup; x applies, v marks reviewed"),
    (
        "!",
        "check: missing, unregistered, drift, dependants, exposure, with the SQL that fixes each (rows flagged !)",
    ),
    ("A", "archive the current backup to $BACKUP_TUI_ARCHIVE_TO (a directory or s3://…), verified, then dropped"),
    ("R", "register (adopt) the unregistered table under the cursor"),
    ("r", "refresh (keeps sort, filter, marks and cursor); reconnects after a lost connection"),
    ("↑ ↓ pgup pgdn home end", "move"),
    ("?", "this help"),
    ("q", "quit"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, keys: tuple[tuple[str, str], ...] = KEYS) -> None:
        super().__init__()
        self._keys = keys

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for key, what in self._keys:
            table.add_row(key, what)
        with VerticalScroll(classes="dialog"):
            yield Static("Keys", classes="dialog-title")
            yield Static(table)
            yield Static("escape closes", classes="dialog-hint")

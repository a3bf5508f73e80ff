"""`?`: the keys of the screen beneath, built from its live bindings (remapped keys show as they are).

Each binding's description is its footer label; its tooltip, when it has one, the longer help.
"""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


def key_rows(screen: Screen) -> list[tuple[str, str]]:
    """(keys, what they do) for every binding of ours active on `screen` (ours carry a tooltip:
    Textual's own scrolling and copying keys do not); keys with the same words (the cursor keys)
    or the same action (q and Textual's ^q) share a row, in our words. The screen's keys first,
    then its widgets', then the app's."""
    rows: dict[str, list[str]] = {}
    words_of: dict[str, str] = {}  # action -> its row's words: ^q joins q rather than adding a row

    def rank(item: tuple[str, ActiveBinding]) -> tuple[int, bool]:
        node = item[1].node
        return (0 if node is screen else 2 if node is screen.app else 1), item[1].binding.id is None

    for key, active in sorted(screen.active_bindings.items(), key=rank):
        binding = active.binding
        if not binding.tooltip:
            continue
        words = words_of.setdefault(binding.action, binding.tooltip)
        keys = rows.setdefault(words, [])
        shown = screen.app.get_key_display(Binding(key, binding.action, key_display=binding.key_display))
        if shown not in keys:
            keys.append(shown)
    return [(" ".join(keys), what) for what, keys in rows.items()]


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help-close", tooltip="close the help")
    ]

    def __init__(self, beneath: Screen) -> None:
        super().__init__()
        self.rows = key_rows(beneath)

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", max_width=14)  # the cursor keys wrap rather than widen it
        table.add_column()
        for keys, what in self.rows:
            table.add_row(Text(keys), Text(what))
        with VerticalScroll(classes="dialog", id="help-dialog"):
            yield Static("Keys", classes="dialog-title")
            yield Static(table)
            yield Static("escape closes", classes="dialog-hint")

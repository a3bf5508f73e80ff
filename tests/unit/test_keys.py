"""The README's key table and the main screen's bindings say the same (no database needed)."""

from __future__ import annotations

import re
from pathlib import Path

from textual.binding import Binding

from tui.app import BackupApp
from tui.db import Database, Settings
from tui.screens.inventory import InventoryScreen

README = Path(__file__).resolve().parents[2] / "README.md"
# How the README writes keys that Textual displays otherwise.
README_NAMES = {"enter": "⏎", "escape": "esc", "space": "space"}


def readme_keys() -> set[str]:
    """The keys in the first column of the README's table under "## The TUI"."""
    section = README.read_text().split("## The TUI", 1)[1].split("\n## ", 1)[0]
    keys: set[str] = set()
    for line in section.splitlines():
        cells = line.split("|")
        if line.startswith("|") and len(cells) > 2 and "`" in cells[1]:
            keys.update(README_NAMES.get(k, k) for k in re.findall(r"`([^`]+)`", cells[1]))
    return keys


def bound_keys() -> set[str]:
    app = BackupApp(Database(Settings(dsn="postgresql://nowhere.invalid/x")))
    bindings = [*InventoryScreen.BINDINGS, *BackupApp.BINDINGS]
    return {
        app.get_key_display(Binding(key, b.action))
        for b in bindings
        if isinstance(b, Binding) and b.tooltip
        for key in b.key.split(",")
    }


def test_every_key_of_the_main_screen_is_in_the_readme_and_nothing_else() -> None:
    assert readme_keys() == bound_keys()


def test_every_binding_of_ours_explains_itself() -> None:
    for binding in [*InventoryScreen.BINDINGS, *BackupApp.BINDINGS]:
        assert isinstance(binding, Binding) and binding.id, binding
        assert binding.tooltip or binding.action.startswith("app.focus"), binding

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
README_NAMES = {"enter": "⏎", "escape": "esc", "space": "space", "ctrl+c": "^c"}


def _tables() -> list[list[list[str]]]:
    """The tables under "## The TUI", each a list of rows of cells (header and rule left out)."""
    section = README.read_text().split("## The TUI", 1)[1].split("\n## ", 1)[0]
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*section.splitlines(), ""]:
        if line.startswith("|"):
            current.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif current:
            tables.append(current[2:])
            current = []
    return tables


def _keys(cell: str) -> set[str]:
    return {README_NAMES.get(k, k) for k in re.findall(r"`([^`]+)`", cell)}


def readme_keys() -> set[str]:
    """The keys in the first column of the README's main key table (under "## The TUI")."""
    return set().union(*(_keys(row[0]) for row in _tables()[0]))


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


# The README's names for the other screens, by the screen (or dialogs) they document.
OTHER_SCREENS = {
    "tables (`g`)": ["SourcesScreen"],
    "details (`enter`)": ["DetailsScreen"],
    "diff (`D`)": ["DiffScreen"],
    "check (`!`)": ["CheckScreen"],
    "prune preview (`p`)": ["PruneScreen"],
    "schedules (`S`)": ["SchedulesScreen"],
    "fleet (`F`)": ["FleetScreen"],
    "help (`?`)": ["HelpScreen"],
    "drop, archive, verify, prune dialog": ["DropModal"],
    "create, register, schedule, review, hold dialogs": [
        "CreateBackupModal",
        "AdoptModal",
        "ScheduleModal",
        "ReviewModal",
        "HoldModal",
    ],
    "a yes/no question": ["ConfirmModal"],
}


def test_every_other_screens_keys_are_in_the_readme_and_nothing_else() -> None:
    """Each screen's and dialog's own keys (ours: with a tooltip; the app's are the main table's)."""
    from tui.app import _screens_bindings

    app = BackupApp(Database(Settings(dsn="postgresql://nowhere.invalid/x")))
    documented = {row[0]: _keys(row[1]) for row in _tables()[1]}
    assert set(documented) == set(OTHER_SCREENS)
    screens = _screens_bindings()
    for label, names in OTHER_SCREENS.items():
        for name in names:
            bound = {
                app.get_key_display(Binding(key, b.action))
                for b in screens[name]
                if b.tooltip and b not in BackupApp.BINDINGS
                for key in b.key.split(",")
            }
            assert documented[label] == bound, (label, name)


def test_every_binding_of_every_screen_explains_itself() -> None:
    """Every binding of ours has an id (remappable) and words (the help lists it): 0.2's help left
    out the prune screen's x, v, r, q and the details and check screens' keys."""
    from textual.screen import ModalScreen, Screen

    from tui.app import _screens_bindings

    textuals = {*Screen.BINDINGS, *ModalScreen.BINDINGS}
    for screen, bindings in _screens_bindings().items():
        for binding in bindings:
            if binding in textuals:
                continue  # Textual's own (focus, copy)
            assert binding.id, (screen, binding)
            assert binding.tooltip or binding.action.startswith("app.focus"), (screen, binding)

"""Column widths are measured once per load in the worker (InventoryTable.ideal_widths): from
the distinct values of each grow column, to the same result as measuring every cell."""

from __future__ import annotations

from rich.cells import cell_len

from tui.inventory_state import backup_listing
from tui.model import Backup
from tui.widgets.inventory_table import InventoryTable


def _backup(name: str, source: str, reason: str | None, schema: str = "public") -> Backup:
    return Backup(None, source, name, None, 1, reason, None, None, None, schema, "daily", 8192, None, "keep")


ROWS = [
    _backup("t_backup_2025_01_01_000000", "t", "nightly"),
    _backup("t_backup_2025_01_02_000000", "t", "nightly"),
    _backup("表_backup_2025_01_01_000000", "表", "移行の前に取ったバックアップ"),  # wide characters count two
    _backup("odd\x1b[31m_backup", "odd", "[/x] \x07 bell", schema="Weird Schema"),
    _backup("n_backup", "n", None),
    _backup("long_" + "x" * 50 + "_backup", "a_rather_long_source_table_name_indeed", "x" * 200),
]


def test_widths_from_distinct_values_are_the_widths_of_every_cell() -> None:
    table = InventoryTable(backup_listing())
    fast = table.ideal_widths(ROWS)
    for spec in table.COLUMNS:
        if spec.grow:
            widest = max(cell_len(table.cell(r, spec.key)[0]) for r in ROWS)
            cap = spec.max_width or 10_000
            assert fast[spec.key] == min(max(widest, spec.min_width, len(spec.title) + 2), cap)


def test_the_distinct_texts_are_those_of_the_cells() -> None:
    table = InventoryTable(backup_listing())
    for column in ("name", "source", "reason"):
        assert table.texts(ROWS, column) == {table.cell(r, column)[0] for r in ROWS}

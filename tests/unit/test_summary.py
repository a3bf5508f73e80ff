"""The summary line under the table: one line at every width, the least important words going first."""

from __future__ import annotations

from tui.inventory_state import Totals
from tui.widgets.bars import Shown, summary_line
from tui.widgets.source_table import share_bar

TOTALS = Totals(count=60, size=241_696_768, reclaimable=44_040_192, expired=8, missing=1, unregistered=2)


def test_the_whole_summary_when_there_is_room() -> None:
    text = summary_line(TOTALS, Shown(60, TOTALS.size, False, marked=3, marked_size=14 * 2**20), 200).plain
    assert text == (
        "60 backups  ·  230.5 MiB  ·  42.0 MiB reclaimable now (8 expired)  ·  1 missing  ·  2 unregistered"
        "  ·  3 marked (14.0 MiB)"
    )


def test_filtered_totals_stand_beside_the_whole() -> None:
    text = summary_line(TOTALS, Shown(12, 48 * 2**20, True), 200).plain
    assert text.startswith("12 of 60  ·  48.0 MiB of 230.5 MiB  ·  ")


def test_one_line_at_every_width_from_60_and_the_count_always_stays() -> None:
    for shown in (
        Shown(60, TOTALS.size, False, marked=3, marked_size=14 * 2**20, estimated=True),
        Shown(12, 48 * 2**20, True, marked=2, marked_size=2**20),
    ):
        for width in range(60, 201):
            text = summary_line(TOTALS, shown, width)
            assert text.cell_len <= width and "\n" not in text.plain, (width, text.plain)
            assert text.plain.startswith("60 backups" if not shown.filtered else "12 of 60"), width
            assert "marked" in text.plain, width  # what is marked is the last thing to go


def test_least_important_words_go_first() -> None:
    shown = Shown(60, TOTALS.size, False, estimated=True)
    wide = summary_line(TOTALS, shown, 200).plain
    narrow = summary_line(TOTALS, shown, 80).plain
    assert "sizes estimated, measuring…" in wide and "(8 expired)" in wide
    assert "(8 expired)" not in narrow and "42.0 MiB reclaimable" in narrow


def test_share_bars_fill_in_eighths_and_say_the_percentage() -> None:
    assert share_bar(1.0, 20) == "█" * 15 + " 100%"
    assert share_bar(0.5, 20).startswith("███████▌") and share_bar(0.5, 20).endswith(" 50%")
    assert share_bar(0.0, 20).strip() == "0%"
    for width in range(4, 40):
        for share in (0, 0.013, 0.37, 0.999, 1):
            assert len(share_bar(share, width)) == width

"""tui.listing: sorting, filtering and marking in memory (no database, no Textual)."""

from __future__ import annotations

from dataclasses import dataclass

from tui.listing import Listing, SortKey


@dataclass
class Row:
    name: str
    size: int | None
    note: str = ""


def listing(rows: list[Row]) -> Listing[Row]:
    made: Listing[Row] = Listing(
        {
            "name": SortKey(lambda r: r.name.casefold()),
            "size": SortKey(lambda r: r.size, descending_first=True),
        },
        haystack=lambda r: f"{r.name}\x00{r.note}",
        identity=lambda r: r.name,
        sort_column="size",
        prebuilt=("name",),
    )
    made.set_rows(rows)
    return made


ROWS = [Row("b", 20), Row("a", 20), Row("c", None, "no size yet"), Row("D", 5, "Orders")]


def names(rows: list[Row]) -> list[str]:
    return [r.name for r in rows]


def test_size_starts_biggest_first_ties_by_name_and_unknown_last() -> None:
    assert names(listing(ROWS).visible) == ["a", "b", "D", "c"]


def test_the_same_column_again_reverses_but_unknown_stays_last() -> None:
    rows = listing(ROWS)
    rows.sort_by("size")
    assert names(rows.visible) == ["D", "a", "b", "c"]


def test_another_column_starts_in_its_own_direction() -> None:
    rows = listing(ROWS)
    rows.sort_by("name")
    assert names(rows.visible) == ["a", "b", "c", "D"] and not rows.descending


def test_filter_is_case_insensitive_over_the_haystack_and_narrows_as_typed() -> None:
    rows = listing(ROWS)
    rows.filter("ord")
    assert names(rows.visible) == ["D"]
    rows.filter("orde")
    assert names(rows.visible) == ["D"]
    rows.filter("")
    assert len(rows.visible) == 4


def test_a_sort_keeps_the_filter() -> None:
    rows = listing(ROWS)
    rows.filter("s")  # c's "no size yet" and D's "Orders"
    assert names(rows.visible) == ["D", "c"]
    rows.sort_by("name")
    assert names(rows.visible) == ["c", "D"]


def test_marks_survive_sort_filter_and_reload_of_rows_that_still_exist() -> None:
    rows = listing(ROWS)
    rows.toggle_mark(ROWS[0])
    rows.toggle_mark(ROWS[3])
    rows.filter("zzz")
    assert names(rows.marked_rows()) == ["D", "b"]
    rows.set_rows([Row("b", 1), Row("x", 2)])
    assert names(rows.marked_rows()) == ["b"]


def test_toggle_unmarks_and_index_of_finds_visible_rows_only() -> None:
    rows = listing(ROWS)
    assert rows.toggle_mark(ROWS[1]) is True and rows.toggle_mark(ROWS[1]) is False
    assert rows.index_of("D") == 2
    rows.filter("b")
    assert rows.index_of("D") is None and rows.index_of(None) is None


def test_rows_prepared_while_the_sort_changed_are_sorted_the_new_way() -> None:
    rows = listing(ROWS)
    prepared = rows.prepare([Row("z", 1), Row("y", 2)])
    rows.sort_by("name")
    rows.adopt(prepared)
    assert names(rows.visible) == ["y", "z"]

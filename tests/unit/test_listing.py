"""tui.listing: sorting, filtering and marking in memory (no database, no Textual)."""

from __future__ import annotations

from dataclasses import dataclass

from tui.listing import Listing, SortKey, Term, narrows, parse_query, quote_term


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


# -- filter words: status:/kind:/source: and text, all of which must match ----------------------


@dataclass
class Tagged:
    name: str
    status: str
    kind: str
    source: str
    size: int = 1


def tagged_listing(rows: list[Tagged]) -> Listing[Tagged]:
    made: Listing[Tagged] = Listing(
        {"name": SortKey(lambda r: r.name), "size": SortKey(lambda r: r.size, descending_first=True)},
        haystack=lambda r: f"{r.name}\x00{r.source}\x00{r.kind}\x00{r.status}",
        identity=lambda r: r.name,
        sort_column="name",
        fields={
            "status": lambda r: (r.status,),
            "kind": lambda r: (r.kind,),
            "source": lambda r: (r.source, r.source.rpartition(".")[2]),
        },
    )
    made.set_rows(rows)
    return made


TAGGED = [
    Tagged("orders_1", "expired", "daily", "orders"),
    Tagged("orders_2", "keep", "daily", "orders"),
    Tagged("orders_3", "keep", "monthly", "orders"),
    Tagged("order_items_1", "expired", "daily", "order_items"),
    Tagged("audit_1", "review", "critical", "audit.log"),
    Tagged("my table_1", "keep", "manual", 'my "odd" table'),
]


def test_field_words_match_the_start_of_their_field_and_text_matches_anywhere() -> None:
    made = tagged_listing(TAGGED)
    made.filter("status:expired")
    assert names(made.visible) == ["order_items_1", "orders_1"]
    made.filter("status:exp kind:daily source:order")  # by their start: orders and order_items
    assert names(made.visible) == ["order_items_1", "orders_1"]
    made.filter("source:=orders")  # exact: the grouped view's enter
    assert names(made.visible) == ["orders_1", "orders_2", "orders_3"]
    made.filter("daily")  # a kind, as plain text
    assert names(made.visible) == ["order_items_1", "orders_1", "orders_2"]
    made.filter("keep month")  # every word must match
    assert names(made.visible) == ["orders_3"]
    made.filter("source:log")  # a schema-qualified source by its table name
    assert names(made.visible) == ["audit_1"]
    made.filter("nokey:x")  # not a field: plain text, found nowhere
    assert names(made.visible) == []


def test_a_quoted_value_keeps_its_spaces_and_quotes() -> None:
    made = tagged_listing(TAGGED)
    word = quote_term('my "odd" table')
    assert word == '"my ""odd"" table"'
    made.filter(f"source:={word}")
    assert names(made.visible) == ["my table_1"]
    assert parse_query(f"source:={word} keep", ["source"]) == (
        Term("source", 'my "odd" table', exact=True),
        Term(None, "keep"),
    )
    assert parse_query('"unclosed quo', []) == (Term(None, "unclosed quo"),)  # typing it


def test_narrowing_is_only_taken_when_the_new_words_imply_the_old() -> None:
    assert narrows(parse_query("ord", []), parse_query("or", []))
    assert narrows(parse_query("status:ex kind:d", ["status", "kind"]), parse_query("status:e", ["status", "kind"]))
    # "status" was text (found in the haystack); "status:x" is a field word: not narrower
    assert not narrows(parse_query("status:x", ["status"]), parse_query("status", ["status"]))
    assert not narrows(parse_query("source:=ab", ["source"]), parse_query("source:=a", ["source"]))
    assert not narrows(parse_query("", []), parse_query("a", []))


def test_typing_a_query_key_by_key_shows_what_filtering_it_afresh_shows() -> None:
    """The O(m) narrowing path never hides a row the full filter shows, or the other way round."""
    queries = ["status:expired kind:daily ord", "source:=orders keep", 'source:"my "', "daily monthly", "o k"]
    for query in queries:
        typed = tagged_listing(TAGGED)
        for end in range(1, len(query) + 1):
            typed.filter(query[:end])
            fresh = tagged_listing(TAGGED)
            fresh.filter(query[:end])
            assert names(typed.visible) == names(fresh.visible), query[:end]
        for end in range(len(query) - 1, -1, -1):  # and deleting it again
            typed.filter(query[:end])
            fresh = tagged_listing(TAGGED)
            fresh.filter(query[:end])
            assert names(typed.visible) == names(fresh.visible), query[:end]


def test_mark_all_shown_invert_and_clear() -> None:
    made = tagged_listing(TAGGED)
    made.filter("status:keep")
    assert made.mark_visible() == 3
    made.filter("")
    made.invert_visible()  # the three kept become unmarked, the other three marked
    assert sorted(made.marks) == ["audit_1", "order_items_1", "orders_1"]
    made.filter("orders")
    made.invert_visible()  # only the shown rows flip: audit_1 and order_items_1 stay marked
    assert sorted(made.marks) == ["audit_1", "order_items_1", "orders_2", "orders_3"]
    made.clear_marks()
    assert made.marks == set()


# -- patching after a write: the same rows as a fresh load, without one -------------------------


def _fresh(rows: list[Row], column: str, query: str) -> Listing[Row]:
    made = listing(rows)
    if column != made.sort_column:
        made.sort_by(column)
    made.filter(query)
    return made


def test_remove_and_upsert_leave_what_a_fresh_load_shows() -> None:
    rows = [Row(f"r{i:03d}", (i * 37) % 11 or None, "odd" if i % 2 else "even") for i in range(60)]
    for column in ("size", "name"):
        for query in ("", "odd"):
            patched = _fresh(rows, column, query)
            patched.marks = {"r001", "r002", "r005"}
            gone = patched.remove({"r001", "r010", "nope"})
            assert sorted(r.name for r in gone) == ["r001", "r010"]
            assert patched.marks == {"r002", "r005"}
            replaced = patched.upsert([Row("r005", 99, "odd"), Row("zz-new", 3, "odd"), Row("r020", None, "even")])
            assert sorted(r.name for r in replaced) == ["r005", "r020"]
            now = [r for r in rows if r.name not in {"r001", "r010", "r005", "r020"}]
            now += [Row("r005", 99, "odd"), Row("zz-new", 3, "odd"), Row("r020", None, "even")]
            fresh = _fresh(now, column, query)
            assert names(patched.visible) == names(fresh.visible), (column, query)
            assert patched.total == fresh.total and patched.get("r010") is None
            patched.sort_by("name" if column == "size" else "size")  # and it sorts on from there
            fresh.sort_by("name" if column == "size" else "size")
            assert names(patched.visible) == names(fresh.visible)


def test_a_later_step_with_the_same_text_keeps_the_haystacks() -> None:
    rows = listing(ROWS)
    first = rows.prepare(ROWS)
    sized = [Row(r.name, r.size or 1, r.note) for r in ROWS] + [Row("e", 1, "new one")]
    second = rows.prepare(sized, same_text=first)
    old = {r.name: first.hay[id(r)] for r in first.base}
    assert all(second.hay[id(r)] is old[r.name] for r in second.base if r.name in old)
    rows.adopt(second)
    rows.filter("new")
    assert names(rows.visible) == ["e"]


def test_a_size_becoming_unknown_after_a_full_column_still_sorts_last() -> None:
    rows = listing([Row("a", 1), Row("b", 2)])  # every size known: positions kept as a range
    rows.upsert([Row("a", None), Row("c", 3)])
    assert names(rows.visible) == ["c", "b", "a"]
    rows.upsert([Row("a", 9)])
    assert names(rows.visible) == ["a", "c", "b"]


def test_orders_sorted_with_the_load_serve_later_sorts_and_forget_removed_rows() -> None:
    rows = listing(ROWS)  # name is prebuilt: both of its orders come with the rows
    rows.sort_by("name")
    assert names(rows.visible) == ["a", "b", "c", "D"]
    rows.sort_by("name")
    assert names(rows.visible) == ["D", "c", "b", "a"]
    rows.remove({"c"})
    rows.sort_by("name")
    assert names(rows.visible) == ["a", "b", "D"]
    rows.sort_by("size")
    assert names(rows.visible) == ["a", "b", "D"]
    rows.upsert([Row("c", 30)])
    rows.sort_by("name")
    assert names(rows.visible) == ["a", "b", "c", "D"]


def _measured(rows: list[Row]) -> Listing[Row]:
    made: Listing[Row] = Listing(
        {"name": SortKey(lambda r: r.name.casefold()), "size": SortKey(lambda r: r.size, descending_first=True)},
        haystack=lambda r: f"{r.name}\x00{r.note}",
        identity=lambda r: r.name,
        sort_column="size",
        prebuilt=("name",),
        measure=lambda r: r.size or 0,
    )
    made.set_rows(rows)
    return made


def test_the_visible_measure_follows_every_change_of_what_is_shown() -> None:
    """visible_measure reads arrays kept in the rows' order: after each sort, filter (new, narrowed,
    widened, with key words), removal and upsert, it is the sum over exactly the rows shown."""
    rows = [Row(f"t{i:03d}", None if i % 7 == 0 else i * 10, "odd" if i % 2 else "even") for i in range(300)]
    made = _measured(rows)

    def check() -> None:
        assert made.visible_measure == sum(r.size or 0 for r in made.visible)

    check()
    for step in [
        lambda: made.filter("odd"),
        lambda: made.sort_by("name"),
        lambda: made.filter("odd t1"),  # narrows
        lambda: made.filter("t1"),  # widens
        lambda: made.sort_by("size"),
        lambda: made.remove({"t101", "t103", "t150"}),
        lambda: made.upsert([Row("t105", 99_999, "odd"), Row("new", 7, "odd")]),
        lambda: made.filter(""),
        lambda: made.filter("even"),
        lambda: made.upsert([Row("t002", 1, "odd")]),  # its text changed: no longer shown
    ]:
        step()
        check()
    assert "t002" not in names(made.visible) and made.visible_measure > 0


def test_index_of_finds_the_row_wherever_a_sort_put_it() -> None:
    made = _measured([Row(f"t{i:03d}", (i * 37) % 101, "") for i in range(200)])
    for column in ("name", "size", "size"):
        made.sort_by(column)
        assert all(made.index_of(r.name) == i for i, r in enumerate(made.visible))
    made.filter("t00")
    assert made.index_of("t150") is None and made.index_of("nothing") is None and made.index_of(None) is None

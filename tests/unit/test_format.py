"""tui.format: sizes, counts and dates as people read them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tui import format as fmt


def test_sizes_are_binary_units_and_unknown_is_a_dash() -> None:
    assert fmt.size(0) == "0 Bytes"
    assert fmt.size(1536) == "1.5 KiB"
    assert fmt.size(3 * 2**30) == "3.0 GiB"
    assert fmt.size(None) == fmt.MISSING


def test_counts_have_separators() -> None:
    assert fmt.count(1234567) == "1,234,567" and fmt.count(0) == "0" and fmt.count(None) == fmt.MISSING


def test_dates_are_shown_in_utc() -> None:
    at = datetime(2026, 6, 1, 23, 30, tzinfo=timezone(timedelta(hours=-2)))
    assert fmt.date(at) == "2026-06-02 01:30"
    assert fmt.day(at) == "2026-06-02"
    assert fmt.date(None) == fmt.day(None) == fmt.MISSING


def test_empty_text_is_a_dash_and_enums_show_their_value() -> None:
    from tui.model import Status

    assert fmt.text("") == fmt.text(None) == fmt.MISSING
    assert fmt.text(Status.EXPIRED) == "expired"


def test_short_sizes_fit_five_cells_and_keep_their_unit() -> None:
    cases = {0: "0", 1023: "1023", 1024: "1.0K", 958464: "936K", 1363148: "1.3M", 12 * 2**30: "12G", 2**50: "1.0P"}
    for n, text in cases.items():
        assert fmt.size(n, short=True) == text
    for n in (2**k - 1 for k in range(1, 62)):
        assert len(fmt.size(n, short=True)) <= 5, n
    assert fmt.size(958464) == "936.0 KiB"  # the long form stays binary, with its unit spelled out


def test_short_ages_abbreviate_the_sql_unit_word_and_fit_six_cells() -> None:
    cases = {
        "48 seconds": "48 s",
        "1 second": "1 s",
        "59 minutes": "59 min",
        "23 hours": "23 h",
        "60 days": "60 d",
        "17 months": "17 mo",
        "12 years": "12 y",
    }
    for words, short in cases.items():
        assert fmt.age(words, short=True) == short and len(short) <= 6
        assert fmt.age(words) == words
    assert fmt.age(None, short=True) == fmt.MISSING


def test_a_squeezed_name_keeps_its_date_at_every_width() -> None:
    names = [
        "audit_log_backup_2025_06_02_143000",
        "customer_lifetime_value_snapshots_backup_2026_11_25_010203_12",
        "ünïcødé_名前_backup_2026_01_01_000000",
    ]
    for name in names:
        stamp = name.split("_backup_")[1]
        for width in range(len(stamp) + 2, 64):
            shown = fmt.squeeze_name(name, width)
            assert fmt.cell_len(shown) <= width, (name, width, shown)
            assert shown.endswith(stamp), (name, width, shown)
    assert fmt.squeeze_name("audit_log_backup_2025_06_02_143000", 26) == "audit_l…_2025_06_02_143000"
    assert fmt.squeeze_name("some_table_without_a_stamp", 12) == "some_table_…"  # no date: cut at the end


def test_cell_len_counts_wide_characters_twice() -> None:
    assert fmt.cell_len("名前") == 4 and fmt.cell_len("abc") == 3 and fmt.cell_len("e\u0301") == 1
    assert fmt.truncate("名前名前", 5) == "名前…" and fmt.truncate("short", 10) == "short"


def test_every_invisible_or_reordering_character_is_shown_escaped() -> None:
    """Every control, format (bidi marks, zero-width, BOM, tags) and separator character Unicode
    knows: 0.2 showed LRM/RLM raw and ZWSP, BOM, tag characters and U+2028 invisibly."""
    import sys
    import unicodedata

    hidden = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) in ("Cc", "Cf", "Zl", "Zp")]
    assert len(hidden) > 200
    shown = [fmt.printable(f"a{c}b") for c in hidden]
    assert all(s.isprintable() and s.startswith("a\\") for s in shown), [s for s in shown if not s.isprintable()][:5]


def test_a_joined_emoji_is_as_wide_as_it_is_measured() -> None:
    """A ZWJ family is one cluster a terminal draws two cells wide, where a measure per code point
    says eight: escaped, each emoji stands alone and is drawn as it is measured."""
    from rich.cells import cell_len

    family = "👨\u200d👩\u200d👧"
    shown = fmt.printable(family)
    assert shown == "👨\\u200d👩\\u200d👧" and cell_len(shown) == 3 * 2 + 2 * len("\\u200d")

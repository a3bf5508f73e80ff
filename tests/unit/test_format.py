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

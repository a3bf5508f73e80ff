"""tui.model: the domain's words as types, and results worded once."""

from __future__ import annotations

import pytest

from tui.model import (
    Backup,
    Category,
    ItemResult,
    Kind,
    Outcome,
    SchemaState,
    Status,
    StopReason,
    Transfer,
    WriteResult,
)


def test_a_kind_a_dba_added_is_a_kind_of_its_own() -> None:
    quarterly = Kind("quarterly")
    assert quarterly is Kind("quarterly") and quarterly == "quarterly" and str(quarterly) == "quarterly"
    assert Kind("daily") is Kind.DAILY
    with pytest.raises(ValueError):
        Kind("")


def test_statuses_are_a_closed_set() -> None:
    with pytest.raises(ValueError):
        Status("gone")
    assert [str(s) for s in Status] == ["keep", "expired", "review", "archive", "archived", "missing", "unregistered"]


def test_a_backup_row_takes_the_enums_from_the_database_text() -> None:
    row = Backup(None, "t", "t_backup_x", None, 1, None, None, None, None, "public", "weekly", 8192, None, "expired")
    assert row.status is Status.EXPIRED and row.backup_kind is Kind.WEEKLY and row.source == "t"


def test_schema_states_say_what_may_be_done() -> None:
    assert [s for s in SchemaState if s.writable] == [SchemaState.CURRENT]
    assert not SchemaState.LEGACY.upgraded and SchemaState.NEWER.upgraded


def test_a_write_result_is_worded_the_same_everywhere() -> None:
    result = WriteResult(
        [
            ItemResult("a", Outcome.DONE, 2048),
            ItemResult("b", Outcome.FAILED, error="lock timeout"),
            ItemResult("c", Outcome.NOT_ATTEMPTED, error="not attempted"),
        ],
        StopReason.CONNECTION_LOST,
    )
    assert result.summary("dropped", "2 KiB") == "dropped 1, freed 2 KiB, failed 1, not attempted 1"
    assert not result.complete and result.freed_bytes == 2048
    assert WriteResult([ItemResult("a", Outcome.DONE)]).summary("archived", "0") == "archived 1, freed 0, failed 0"


def test_transfer_progress_prefers_bytes_and_never_passes_one() -> None:
    assert Transfer("x", "archiving", 5, 10, 30, 60).fraction == 0.5
    assert Transfer("x", "archiving", 5, 10, 0, None).fraction == 0.5
    assert Transfer("x", "archiving", 50, 10, 0, None).fraction == 1.0
    assert Transfer("x", "archiving", 5, None, 0, None).fraction is None


def test_every_check_category_has_a_title() -> None:
    """A category without one crashed the `!` screen (0.2's schedule findings: KeyError)."""
    titles = {category: category.heading for category in Category}
    assert all(titles.values()) and len(set(titles.values())) == len(titles)

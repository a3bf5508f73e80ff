"""#26: a schedule whose runs come far more often than its kind's name says is said, not accepted
silently (a daily backup every minute keeps 10,080 copies for its 7 days)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tui.actions import cadence_warning

START = datetime(2030, 1, 1, tzinfo=UTC)


def runs(every: timedelta, count: int = 3) -> list[datetime]:
    return [START + i * every for i in range(count)]


def test_a_daily_backup_every_minute_is_called_out() -> None:
    words = cadence_warning("daily", runs(timedelta(minutes=1)))
    assert words is not None and "about 1,440 times a day" in words


def test_a_weekly_backup_every_day_is_called_out() -> None:
    words = cadence_warning("weekly", runs(timedelta(days=1)))
    assert words is not None and "about 7 times a week" in words


def test_schedules_that_keep_their_kinds_promise_are_quiet() -> None:
    assert cadence_warning("daily", runs(timedelta(days=1))) is None
    assert cadence_warning("weekly", runs(timedelta(days=7))) is None
    assert cadence_warning("monthly", [START, START + timedelta(days=31), START + timedelta(days=59)]) is None
    # Kinds whose name promises no cadence, and previews too short to tell, say nothing.
    assert cadence_warning("manual", runs(timedelta(minutes=1))) is None
    assert cadence_warning("daily", runs(timedelta(minutes=1), count=1)) is None

"""Turning values into the short text people read, shared by the CLI and the UI."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

MISSING = "—"


def size(n: int | None) -> str:
    import humanize  # imported on first use: `list --json` never needs it, and startup counts there

    return MISSING if n is None else humanize.naturalsize(n, binary=True)


def count(n: int | None) -> str:
    return MISSING if n is None else f"{n:,}"


def date(d: datetime | None) -> str:
    return MISSING if d is None else d.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")


def age(d: datetime | None, now: datetime) -> str:
    """'3 months', '12 days': how long ago, in one unit so a column of ages reads at a glance."""
    return MISSING if d is None else duration(now - d)


def duration(span: timedelta | None) -> str:
    """Days up to 60 (retention counts in days and weeks there), months up to two years, then years
    (the same words as backup.age_words in SQL)."""
    if span is None:
        return MISSING
    seconds = span.total_seconds()
    if seconds < 86_400:
        import humanize

        return humanize.naturaldelta(max(seconds, 0))
    days = seconds / 86_400
    if days < 60:
        n, unit = int(days), "day"
    elif days < 730:
        n, unit = int(days / 30.44), "month"
    else:
        n, unit = int(days / 365.25), "year"
    return f"{n} {unit}{'s' if n != 1 else ''}"


def day(d: datetime | None) -> str:
    return MISSING if d is None else d.astimezone(timezone.utc).strftime("%Y-%m-%d")


def text(s: str | None) -> str:
    return MISSING if s is None or s == "" else s

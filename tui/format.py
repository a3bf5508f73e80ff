"""Turning values into the short text people read, shared by the CLI and the UI.

Ages and intervals are not worded here: the SQL words them once (backup.age_words) and every row
carries its words.
"""

from __future__ import annotations

from datetime import datetime, timezone

MISSING = "—"


def size(n: int | None) -> str:
    import humanize  # imported on first use: `list --json` never needs it, and startup counts there

    return MISSING if n is None else humanize.naturalsize(n, binary=True)


def count(n: int | None) -> str:
    return MISSING if n is None else f"{n:,}"


def date(d: datetime | None) -> str:
    return MISSING if d is None else d.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")


def day(d: datetime | None) -> str:
    return MISSING if d is None else d.astimezone(timezone.utc).strftime("%Y-%m-%d")


def text(s: str | None) -> str:
    return MISSING if s is None or s == "" else str(s)

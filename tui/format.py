"""Turning values into the short text people read, shared by the CLI and the UI."""

from __future__ import annotations

from datetime import datetime, timezone

import humanize

MISSING = "—"


def size(n: int | None) -> str:
    return MISSING if n is None else humanize.naturalsize(n, binary=True)


def count(n: int | None) -> str:
    return MISSING if n is None else f"{n:,}"


def date(d: datetime | None) -> str:
    return MISSING if d is None else d.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")


def age(d: datetime | None, now: datetime) -> str:
    """'3 months', '12 days': how long ago, without the ' ago'."""
    if d is None:
        return MISSING
    return humanize.naturaldelta(now - d)


def text(s: str | None) -> str:
    return MISSING if s is None or s == "" else s

"""Turning values into the short text people read, shared by the CLI and the UI.

Ages and intervals are not worded here: the SQL words them once (backup.age_words) and every row
carries its words.
"""

from __future__ import annotations

import re
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


# C0 and C1 control characters, DEL, and the Unicode marks that reorder what follows (bidi
# overrides and isolates): from the database or the user they are shown, never obeyed.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(s: object) -> str:
    """Text safe for a terminal: every control character written visibly (ESC as \\x1b, a newline
    as \\n), everything else as it is. JSON and CSV output stay exact; this is for people."""
    text = str(s)
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(lambda m: repr(m.group())[1:-1], text)

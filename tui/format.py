"""Turning values into the short text people read, shared by the CLI and the UI.

Ages and intervals are not worded here: the SQL words them once (backup.age_words) and every row
carries its words.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone

MISSING = "—"


# The widest long forms: a column narrower than these shows every value in its short form.
SIZE_WIDTH = 10  # '1023.0 KiB'
AGE_WIDTH = 10  # '59 minutes'


def narrow(width: int | None, long: int) -> bool:
    """Whether a column `width` wide shows short forms: narrower than its longest long form, every
    row of it does (one form a column, never '12 d' above '2 days')."""
    return width is not None and width < long


def size(n: int | None, short: bool = False) -> str:
    """'936.0 KiB', or `short` the compact form ncdu and `ls -h` use ('936K', '1.3M')."""
    import humanize  # imported on first use: `list --json` never needs it, and startup counts there

    if n is None:
        return MISSING
    return compact_size(n) if short else humanize.naturalsize(n, binary=True)


def compact_size(n: int) -> str:
    """At most 5 characters: '0', '999', '1023', '936K', '1.3M', '12G', '1.1T'."""
    if n < 1024:
        return str(n)
    value = float(n)
    for unit in "KMGTPE":
        value /= 1024
        if value < 9.95:
            return f"{value:.1f}{unit}"
        if value < 1023.5 or unit == "E":
            return f"{value:.0f}{unit}"
    raise AssertionError("unreachable")


# The units backup.age_words uses, and the short forms a narrow column shows (the SQL words ages;
# this only abbreviates its unit word).
_SHORT_UNITS = {
    "second": "s",
    "seconds": "s",
    "minute": "min",
    "minutes": "min",
    "hour": "h",
    "hours": "h",
    "day": "d",
    "days": "d",
    "month": "mo",
    "months": "mo",
    "year": "y",
    "years": "y",
}


def age(words: str | None, short: bool = False) -> str:
    """An age as the SQL worded it ('48 seconds'), or `short` ('48 s', '17 mo', at most 6 cells)."""
    if not words:
        return MISSING
    if not short:
        return words
    if words == "invalid date":  # a backup_date that is no date (backup.valid_date)
        return "invalid"
    number, _, unit = words.partition(" ")
    return f"{number} {_SHORT_UNITS.get(unit, unit)}"


def cell_len(text: str) -> int:
    """Terminal cells `text` takes: East Asian wide characters two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(_char_cells(c) for c in text)


def _char_cells(c: str) -> int:
    if unicodedata.combining(c):
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


def set_cell_size(text: str, width: int) -> str:
    """`text` cut (or padded with spaces) to exactly `width` cells."""
    if text.isascii():
        return text[:width].ljust(width)
    out, used = [], 0
    for c in text:
        w = _char_cells(c)
        if used + w > width:
            break
        out.append(c)
        used += w
    return "".join(out) + " " * (width - used)


def truncate(text: str, width: int) -> str:
    """`text` within `width` cells, cut with '…' when longer."""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1).rstrip(" ") + "…" if width > 1 else set_cell_size(text, width)


# `<table>_backup_<YYYY_MM_DD_HHMMSS>[_N]`: the stamp (and the N of same-second backups) is what
# tells one table's backups apart, so a narrow column shortens the part before it.
_STAMP = re.compile(r"_\d{4}_\d{2}_\d{2}_\d{6}(?:_\d+)?$")


def squeeze_name(name: str, width: int) -> str:
    """A backup name within `width` cells, its date and time always kept:
    'audit_log_backup_2025_06_02_143000' in 24 cells is 'audit_…_2025_06_02_143000'."""
    if cell_len(name) <= width:
        return name
    stamp = _STAMP.search(name)
    if stamp is None or width < 6:
        return truncate(name, width)
    tail = stamp.group()
    head = name[: stamp.start()].removesuffix("_backup")  # the elision mark stands for it
    room = width - cell_len(tail) - 1
    if room < 1:
        return "…" + tail[cell_len(tail) - width + 1 :]
    return set_cell_size(head, min(room, cell_len(head))) + "…" + tail


def count(n: int | None) -> str:
    return MISSING if n is None else f"{n:,}"


def date(d: datetime | None) -> str:
    return MISSING if d is None else d.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")


def day(d: datetime | None) -> str:
    return MISSING if d is None else d.astimezone(timezone.utc).strftime("%Y-%m-%d")


def text(s: str | None) -> str:
    return MISSING if s is None or s == "" else str(s)


# C0 and C1 control characters, DEL, and every Unicode format character (category Cf: the bidi
# marks, overrides and isolates that reorder what follows; zero-width spaces and joiners, which
# hide text or glue emoji into one cluster a terminal draws narrower than it measures; the BOM;
# tag characters) and the line and paragraph separators: from the database or the user they are
# shown, never obeyed, and a row is as wide as it is measured.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]"
)


def printable(s: object) -> str:
    """Text safe for a terminal: every control character written visibly (ESC as \\x1b, a newline
    as \\n), everything else as it is. JSON and CSV output stay exact; this is for people."""
    text = str(s)
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(lambda m: repr(m.group())[1:-1], text)

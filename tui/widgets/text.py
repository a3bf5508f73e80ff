"""How the TUI shows text that comes from elsewhere: literally.

Names, sources, reasons, notes, server messages and archive locations reach widgets only as
`literal(...)` Text: never parsed as markup (a reason "a[1] and b[/2]" stays text, and cannot close
a tag or crash the app), with control characters written visibly (tui.format.printable), so a
table named with ESC [2J never reaches the terminal as a command. Tables cells get the same in
VirtualTable, toasts in BackupApp.notify.
"""

from __future__ import annotations

from rich.text import Text

from tui.db import DatabaseError, ErrorKind
from tui.format import printable


def literal(value: object, style: str = "") -> Text:
    """Text shown exactly as it is: no markup, control characters escaped."""
    return Text(printable(value), style=style)


def literal_lines(value: object, style: str = "") -> Text:
    """Like literal, for text whose line breaks are its layout (a manifest, a definition): each
    line literal, the breaks kept; every other control character still escaped."""
    return Text("\n", style=style).join(literal(line, style) for line in str(value).split("\n"))


def error_text(exc: DatabaseError) -> str:
    """A database error as the TUI says it: what happened, and the key that helps."""
    if exc.kind is ErrorKind.CONNECTION_LOST:
        return f"{exc} — press r to reconnect"
    if exc.kind is ErrorKind.CANNOT_CONNECT:
        return f"{exc} — press r to retry"
    return str(exc)

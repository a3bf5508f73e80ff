"""The one-line bars around the table: connection header and summary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from rich.text import Text
from textual.widgets import Static

from tui import format as fmt
from tui.inventory_state import Totals
from tui.model import SchemaState, ServerInfo
from tui.widgets.text import literal


def when(text: str) -> str:
    """A what-if time as people read it ('2026-06-01 12:00 UTC'); as typed when it is not ISO 8601."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# Opened from the fleet, a database's header wears its target's colour and name, so nobody drops
# backups in production thinking it was staging. A stable colour per name (crc32), all dark enough
# for light text.
TARGET_COLOURS = ("#1f5f8b", "#8b1f4f", "#3f7f1f", "#8b5f1f", "#4f2f8b", "#1f7f6f", "#8b2f1f", "#5f5f5f")


def target_colour(label: str) -> str:
    import zlib

    return TARGET_COLOURS[zlib.crc32(label.encode()) % len(TARGET_COLOURS)]


class ConnectionBar(Static):
    """backup-tui · READ-ONLY and WHAT-IF badges · user@host:port/db · PostgreSQL version.

    Fits one line at any width: the version goes first, then the port, then the label is cut; the
    badges always stay (they say what the session will not do)."""

    target: str | None = None  # the fleet target's name, when opened from the fleet

    def for_target(self, label: str) -> None:
        self.target = label
        self.styles.background = target_colour(label)

    def show(self, info: ServerInfo | None, state: SchemaState | None, what_if: str | None = None) -> None:
        """`what_if`: the time the retention policy is evaluated at instead of now (--as-of)."""
        self._shown = (info, state, what_if)
        self._failed = False
        self._draw()

    def failed(self) -> None:
        """The connection could not be made: say so instead of 'connecting…'."""
        self._failed = True
        self._draw()

    def on_resize(self) -> None:
        if hasattr(self, "_shown"):
            self._draw()

    def _draw(self) -> None:
        info, state, what_if = self._shown
        room = max(self.size.width - 2, 20)  # padding
        badges = Text()
        if self.target:
            badges.append("  ")
            badges.append_text(literal(f" {self.target} ", "bold reverse"))
        if info is not None and info.read_only:
            badges.append("  ")
            badges.append(" READ-ONLY ", "bold reverse")
        if what_if:
            badges.append("  ")
            badges.append_text(literal(f" WHAT-IF as of {when(what_if)} ", "bold reverse"))
        if info is None:
            status = ("not connected", "bold red") if getattr(self, "_failed", False) else ("connecting…", "dim")
            line = Text.assemble(("backup-tui", "bold"), "  ", status, badges)
            self.update(line)
            return
        label = literal(info.label)
        short = literal(f"{info.user}@{info.host if not info.host.startswith('/') else 'local'}/{info.dbname}")
        version = Text(f"  PostgreSQL {info.version}", "dim")
        legacy = Text("  legacy layout", "dim italic") if state is SchemaState.LEGACY else Text()
        for middle in (
            Text.assemble(label, version, legacy),
            Text.assemble(label, legacy),
            Text.assemble(label),
            Text.assemble(short),
        ):
            line = Text.assemble(("backup-tui", "bold"), "  ", middle, badges)
            if line.cell_len <= room:
                break
        else:
            keep = max(room - Text.assemble(("backup-tui", "bold"), "  ", badges).cell_len - 1, 4)
            short.truncate(keep, overflow="ellipsis")
            line = Text.assemble(("backup-tui", "bold"), "  ", short, badges)
        self.update(line)


@dataclass(frozen=True, slots=True)
class Shown:
    """What the summary says beside the totals: the filtered rows, the marks, the load's state."""

    visible: int
    visible_size: int
    filtered: bool
    marked: int = 0
    marked_size: int = 0
    estimated: bool = False
    database_bytes: int | None = None  # the whole database's size: the backups' share of it is said


# Reductions, applied in this order until the line fits: the least important words go first. The
# size and what is reclaimable go last: they are the two numbers on-call opens the tool for (at 60
# columns they stay).
_STEPS = (
    "sep", "estimated", "expired", "now", "unregistered", "share", "drop-estimated", "whole", "marked", "missing",
    "size",
)  # fmt: skip


def summary_line(totals: Totals, shown: Shown, width: int) -> Text:
    """One line within `width` cells: '60 backups · 230.5 MiB · 42.0 MiB reclaimable now (8 expired)
    · 1 missing · 3 marked (14.0 MiB)'; filtered '12 of 60 · 48.0 MiB of 230.5 MiB · …'."""
    for level in range(len(_STEPS) + 1):
        text = _summary_at(totals, shown, set(_STEPS[:level]))
        if text.cell_len <= width:
            return text
    text.truncate(max(width, 1), overflow="ellipsis")
    return text


def _summary_at(totals: Totals, shown: Shown, cut: set[str]) -> Text:
    sep = " · " if "sep" in cut else "  ·  "
    parts: list[Text] = []
    if shown.filtered:
        parts.append(Text.assemble((f"{shown.visible:,} of {totals.count:,}", "bold")))
        if "size" not in cut:
            whole = "" if "whole" in cut else f" of {fmt.size(totals.size)}"
            parts.append(Text(f"{fmt.size(shown.visible_size)}{whole}"))
    else:
        parts.append(Text(f"{totals.count:,} backups", "bold"))
        if "size" not in cut:
            size = Text(fmt.size(totals.size))
            if shown.database_bytes and "share" not in cut:
                size.append(
                    f" ({100 * totals.size / shown.database_bytes:.0f} % of the database's "
                    f"{fmt.size(shown.database_bytes)})"
                )
            parts.append(size)
    if "size" not in cut:
        reclaim = Text.assemble((fmt.size(totals.reclaimable), "bold"), " reclaimable")
        if "now" not in cut:
            reclaim.append(" now")
        if "expired" not in cut:
            reclaim.append(f" ({totals.expired:,} expired)")
        parts.append(reclaim)
    if totals.missing and "missing" not in cut:
        parts.append(Text(f"{totals.missing:,} missing", "bold"))
    if totals.unregistered and "unregistered" not in cut:
        parts.append(Text(f"{totals.unregistered:,} unregistered"))
    if shown.marked and "marked" not in cut:
        parts.append(Text(f"{shown.marked:,} marked ({fmt.size(shown.marked_size)})", "bold"))
    elif shown.marked:
        parts.append(Text(f"{shown.marked:,} marked", "bold"))
    if shown.estimated and "drop-estimated" not in cut:
        parts.append(Text("estimated" if "estimated" in cut else "sizes estimated, measuring…", "dim italic"))
    return Text(sep).join(parts)


class SummaryBar(Static):
    """The summary under the table: one line at every width, re-fitted when the screen resizes."""

    def show(self, text: Callable[[int], Text]) -> None:
        """`text(width)` makes the line for a width (summary_line, or a loading message)."""
        self._make = text
        self._draw()

    def on_resize(self) -> None:
        if hasattr(self, "_make"):
            self._draw()

    def _draw(self) -> None:
        self.update(self._make(max(self.size.width - 2, 20)))  # padding

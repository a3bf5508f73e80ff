"""The one-line bars around the table: connection header and summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from rich.text import Text
from textual.widgets import Static

from tui import format as fmt
from tui.model import Backup, SchemaState, ServerInfo, Status
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


class ConnectionBar(Static):
    """backup-tui · READ-ONLY and WHAT-IF badges · user@host:port/db · PostgreSQL version.

    Fits one line at any width: the version goes first, then the port, then the label is cut; the
    badges always stay (they say what the session will not do)."""

    def show(self, info: ServerInfo | None, state: SchemaState | None, what_if: str | None = None) -> None:
        """`what_if`: the time the retention policy is evaluated at instead of now (--as-of)."""
        self._shown = (info, state, what_if)
        self._draw()

    def on_resize(self) -> None:
        if hasattr(self, "_shown"):
            self._draw()

    def _draw(self) -> None:
        info, state, what_if = self._shown
        room = max(self.size.width - 2, 20)  # padding
        badges = Text()
        if info is not None and info.read_only:
            badges.append("  ")
            badges.append(" READ-ONLY ", "bold reverse")
        if what_if:
            badges.append("  ")
            badges.append_text(literal(f" WHAT-IF as of {when(what_if)} ", "bold reverse"))
        if info is None:
            line = Text.assemble(("backup-tui", "bold"), "  ", ("connecting…", "dim"), badges)
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
class Totals:
    """Inventory-wide figures, computed once per load (O(n)), not per keystroke."""

    count: int = 0
    size: int = 0
    reclaimable: int = 0
    expired: int = 0
    missing: int = 0
    unregistered: int = 0

    @classmethod
    def of(cls, rows: Sequence[Backup]) -> Totals:
        expired = [b for b in rows if b.status is Status.EXPIRED]
        return cls(
            count=len(rows),
            size=sum(b.size_bytes or 0 for b in rows),
            reclaimable=sum(b.size_bytes or 0 for b in expired),
            expired=len(expired),
            missing=sum(1 for b in rows if b.status is Status.MISSING),
            unregistered=sum(1 for b in rows if b.status is Status.UNREGISTERED),
        )


def summary_text(totals: Totals, visible: int, marked: Sequence[Backup], query: str) -> Text:
    """'60 backups · 230 MiB · 42 MiB reclaimable now (8 expired) · 1 missing …'."""
    text = Text()
    if query:
        text.append(f"{visible:,} of {totals.count:,}", "bold")
        text.append(" match “")
        text.append(literal(query))
        text.append("”  ·  ")
    else:
        text.append(f"{totals.count:,} backups", "bold")
        text.append("  ·  ")
    text.append(f"{fmt.size(totals.size)}  ·  ")
    text.append(fmt.size(totals.reclaimable), "bold")
    text.append(f" reclaimable now ({totals.expired:,} expired)")
    if totals.missing:
        text.append(f"  ·  {totals.missing:,} missing", "bold")
    if totals.unregistered:
        text.append(f"  ·  {totals.unregistered:,} unregistered")
    if marked:
        text.append(f"  ·  {len(marked):,} marked ({fmt.size(sum(b.size_bytes or 0 for b in marked))})", "bold")
    return text

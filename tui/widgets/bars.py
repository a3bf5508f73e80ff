"""The one-line bars around the table: connection header and summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from tui import format as fmt
from tui.model import Backup, SchemaState, ServerInfo, Status


class ConnectionBar(Static):
    """user@host:port/db · PostgreSQL version · READ-ONLY badge."""

    def show(self, info: ServerInfo | None, state: SchemaState | None) -> None:
        text = Text.assemble(("backup-tui", "bold"), "  ")
        if info is None:
            text.append("connecting…", "dim")
        else:
            text.append(info.label)
            text.append(f"  PostgreSQL {info.version}", "dim")
            if state is SchemaState.LEGACY:
                text.append("  legacy layout", "dim italic")
            if info.read_only:
                text.append("  ")
                text.append(" READ-ONLY ", "bold reverse")
        self.update(text)


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
        text.append(f" match “{query}”  ·  ")
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

"""The inventory per source table (ncdu's view of the same rows): how many backups each table
has, what they take, what could go now. Plain Python over the loaded rows; no SQL, no Textual."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tui.model import Backup, Status


@dataclass(frozen=True, slots=True)
class SourceGroup:
    """One source table's backups. `source` is '' for tables whose source is unknown
    (unregistered ones)."""

    source: str
    count: int
    size: int
    reclaimable: int  # the expired ones' size: what `prune` frees now
    expired: int
    oldest: Backup | None
    newest: Backup | None
    share: float  # of every backup's size, 0..1
    redundant: int = 0  # identical to a newer backup of the table (prune --redundant would drop them)
    redundant_size: int = 0


def group_by_source(rows: Iterable[Backup]) -> list[SourceGroup]:
    """One group per source table, in name order (O(n))."""
    groups: dict[str, list[Backup]] = {}
    for row in rows:
        groups.setdefault(row.source, []).append(row)
    total = sum(b.size_bytes or 0 for members in groups.values() for b in members)
    out = []
    for source in sorted(groups, key=str.casefold):
        members = groups[source]
        dated = [b for b in members if b.backup_date is not None]
        size = sum(b.size_bytes or 0 for b in members)
        expired = [b for b in members if b.status is Status.EXPIRED]
        redundant = [b for b in members if b.redundant_of]
        out.append(
            SourceGroup(
                source=source,
                count=len(members),
                size=size,
                reclaimable=sum(b.size_bytes or 0 for b in expired),
                expired=len(expired),
                oldest=min(dated, key=lambda b: b.backup_date) if dated else None,  # type: ignore[arg-type,return-value]
                newest=max(dated, key=lambda b: b.backup_date) if dated else None,  # type: ignore[arg-type,return-value]
                share=size / total if total else 0.0,
                redundant=len(redundant),
                redundant_size=sum(b.size_bytes or 0 for b in redundant),
            )
        )
    return out

"""The inventory as the main screen holds it, without the screen: the listing's spec (how a
backup sorts and filters), the totals, and the protocol that keeps both right while loads and
writes overlap.

A whole load runs in a worker, in steps (the biggest backups first, then every row with estimated
sizes, then exact sizes), and each step was read before any write the user makes meanwhile. So a
write's effect is kept until the next whole load begins: a removed name stays removed and a
patched row stays patched in every later step of the load in flight, and a step of an older load
is dropped. A patch (the rows a write changed, read again by name) is dropped for any row a later
write removed. No Textual here: the screen forwards its messages and draws what this says.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from tui.listing import Listing, Prepared, SortKey
from tui.model import Backup, Status

STATUS_ORDER = {status: i for i, status in enumerate(Status)}


def folded(text: str) -> str:
    """`text` casefolded, the same object when it already is (most names): no second copy of
    100,000 names in the sort keys."""
    fold = text.casefold()
    return text if fold == text else fold


SORT_KEYS: dict[str, SortKey[Backup]] = {
    "name": SortKey(lambda b: folded(b.backup_table_name)),
    "source": SortKey(lambda b: b.source.casefold() or None),
    "kind": SortKey(lambda b: b.backup_kind),
    # Dates sort as POSIX timestamps: comparing floats is several times cheaper than comparing
    # aware datetimes, which is what a sort of 100,000 rows mostly does.
    "created": SortKey(lambda b: b.backup_date.timestamp() if b.backup_date else None, descending_first=True),
    # The key is the age itself (minus the date): oldest first is descending, ▼ like size and rows.
    "age": SortKey(lambda b: -b.backup_date.timestamp() if b.backup_date else None, descending_first=True),
    "rows": SortKey(lambda b: b.row_count, descending_first=True),
    "size": SortKey(lambda b: b.size_bytes, descending_first=True),
    "status": SortKey(lambda b: STATUS_ORDER[b.status]),
    "reason": SortKey(lambda b: folded(b.backup_reason or "") or None),
}


def backup_listing() -> Listing[Backup]:
    """Biggest first: what an on-call engineer freeing space wants to see at once."""
    return Listing(
        SORT_KEYS,
        # join, not an f-string: formatting the two enum members was half the haystack's cost.
        haystack=lambda b: "\x00".join(
            (b.backup_table_name, b.source, b.backup_reason or "", b.backup_kind or "", b.status)
        ),
        identity=operator.attrgetter("backup_table_name"),  # in C: the filter calls it once a row
        sort_column="size",
        prebuilt=("size", "age", "name"),  # the s / a / n keys: their first press is a plain sort
        fields=FILTER_FIELDS,
        measure=lambda b: b.size_bytes or 0,  # the summary's size of the filtered rows
    )


# `status:expired kind:daily source:orders` in the filter; a source matches by its table name or
# its schema-qualified name (the grouped view's `source:=T` is exact).
FILTER_FIELDS: dict[str, Callable[[Backup], tuple[str, ...]]] = {
    "status": lambda b: (b.status.value,),
    "kind": lambda b: (b.backup_kind or "",),
    "source": lambda b: (b.source, b.original_table_name or "", f"{b.source_schema}.{b.original_table_name}"),
}


_size_of = operator.attrgetter("size_bytes")


def total_size(rows: Iterable[Backup]) -> int:
    """The rows' sizes added up, unknown ones as 0: in C (the summary adds up every shown row at
    each filter key; 100,000 rows in ~3 ms)."""
    return sum(filter(None, map(_size_of, rows)))


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
            size=total_size(rows),
            reclaimable=total_size(expired),
            expired=len(expired),
            missing=sum(1 for b in rows if b.status is Status.MISSING),
            unregistered=sum(1 for b in rows if b.status is Status.UNREGISTERED),
        )

    def plus(self, rows: Sequence[Backup]) -> Totals:
        """These totals with `rows` added (O(len(rows)): a patch after a write, not a reload)."""
        return _combined(self, Totals.of(rows), 1)

    def minus(self, rows: Sequence[Backup]) -> Totals:
        return _combined(self, Totals.of(rows), -1)


def _combined(a: Totals, b: Totals, sign: int) -> Totals:
    return Totals(
        count=a.count + sign * b.count,
        size=a.size + sign * b.size,
        reclaimable=a.reclaimable + sign * b.reclaimable,
        expired=a.expired + sign * b.expired,
        missing=a.missing + sign * b.missing,
        unregistered=a.unregistered + sign * b.unregistered,
    )


class InventoryState:
    """The rows shown, their totals and the writes since the current load began. UI thread only:
    a worker prepares rows with `listing.prepare`, which reads nothing here."""

    def __init__(self) -> None:
        self.listing = backup_listing()
        self.totals = Totals()
        self.generation = 0  # each whole load's number: a step of an older one is dropped
        self.writes = 0  # writes seen so far: a patch is asked for after a given number of them
        # What writes did since this generation's load began (read before them, its steps get the
        # same changes): the names removed (by the write's number) and the rows read again.
        self.removed_since: dict[str, int] = {}
        self.patched_since: dict[str, Backup] = {}

    def begin_load(self) -> int:
        """A whole load starts (everything it reads is after the writes so far): its generation."""
        self.generation += 1
        self.removed_since, self.patched_since = {}, {}
        return self.generation

    def loaded(self, generation: int, prepared: Prepared[Backup], totals: Totals) -> list[Backup] | None:
        """A step of load `generation`: its rows replace the listing's (filter and marks of rows
        still there kept), with every write since the load began applied to them again. Returns
        the rows patched again (the table widens for them); None when a newer load overtook this
        one, and nothing changed."""
        if generation != self.generation:
            return None
        self.listing.adopt(prepared)
        self.totals = totals
        if self.removed_since:
            self.totals = self.totals.minus(self.listing.remove(set(self.removed_since)))
        patched = list(self.patched_since.values())
        if patched:
            self.totals = self.totals.minus(self.listing.upsert(patched)).plus(patched)
        return patched

    def remove(self, names: Iterable[str]) -> list[Backup]:
        """A write removed these backups (a drop, a forget): gone now, and from every later step of
        the load in flight and any patch asked for before it. Returns the rows that were shown."""
        self.writes += 1
        names = set(names)
        for name in names:
            self.removed_since[name] = self.writes
            self.patched_since.pop(name, None)
        gone = self.listing.remove(names)
        self.totals = self.totals.minus(gone)
        return gone

    def ask_patch(self) -> tuple[int, int]:
        """A write changed or made rows and they are about to be read again: the (generation,
        write number) the patch must carry back to `patch`."""
        self.writes += 1
        return self.generation, self.writes

    def patch(self, asked: tuple[int, int], rows: Sequence[Backup]) -> list[Backup] | None:
        """Rows read again after a write, by name: replaced or added, and kept through the load in
        flight. A row a later write removed stays removed. Returns the rows taken; None when a whole
        load began meanwhile (it read them itself)."""
        generation, since = asked
        if generation != self.generation:
            return None
        taken = [r for r in rows if self.removed_since.get(r.backup_table_name, 0) < since]
        for row in taken:
            self.patched_since[row.backup_table_name] = row
            self.removed_since.pop(row.backup_table_name, None)
        replaced = self.listing.upsert(taken)
        self.totals = self.totals.minus(replaced).plus(taken)
        return taken

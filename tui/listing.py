"""Sorting, filtering and marking a list of rows in memory, for tables of any size.

Plain Python, no Textual: the table widgets render `visible`, a window of which is on screen.
Costs, n = all rows, m = rows now visible:
  set_rows  O(n log n)  (haystacks built once, then one sort)
  sort_by   O(n log n)  (all rows re-sorted; the filter re-applied in O(n))
  filter    O(n) for a new query, O(m) when the query only grew (typing narrows what is visible)
  index_of  O(m)
  marked_rows O(k log k) for k marks
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

R = TypeVar("R")


@dataclass(frozen=True)
class SortKey(Generic[R]):
    """How to order rows by one column; `descending_first` for size and age (biggest, oldest)."""

    key: Callable[[R], Any]
    descending_first: bool = False


class Listing(Generic[R]):
    """All rows, sorted; the visible ones are those matching the filter, in the same order."""

    def __init__(
        self,
        sort_keys: dict[str, SortKey[R]],
        haystack: Callable[[R], str],
        identity: Callable[[R], str],
        sort_column: str,
    ) -> None:
        self._sort_keys = sort_keys
        self._haystack = haystack
        self._identity = identity
        self.sort_column = sort_column
        self.descending = sort_keys[sort_column].descending_first
        self.query = ""
        self._all: list[R] = []
        self._hay: dict[int, str] = {}
        self._by_id: dict[str, R] = {}
        self.visible: list[R] = []
        self.marks: set[str] = set()

    @property
    def total(self) -> int:
        return len(self._all)

    @property
    def all(self) -> list[R]:
        return self._all

    def set_rows(self, rows: Iterable[R]) -> None:
        """Replace the rows, keeping sort, filter and the marks of rows that still exist."""
        # Ordered by identity first: the column sort is stable, so ties read in name order.
        self._all = sorted(rows, key=self._identity)
        self._hay = {id(r): self._haystack(r).casefold() for r in self._all}
        self._by_id = {self._identity(r): r for r in self._all}
        self.marks &= self._by_id.keys()
        self._sort()
        self._refilter(self._all)

    def sort_by(self, column: str) -> None:
        """Sort by column; the same column again reverses the order."""
        if column == self.sort_column:
            self.descending = not self.descending
        else:
            self.sort_column = column
            self.descending = self._sort_keys[column].descending_first
        self._sort()
        self._refilter(self._all)

    def filter(self, query: str) -> None:
        """Case-insensitive substring filter; '' shows everything."""
        query = query.casefold()
        narrowing = self.query and query.startswith(self.query)
        self.query = query
        self._refilter(self.visible if narrowing else self._all)

    def toggle_mark(self, row: R) -> bool:
        """Mark or unmark a row; returns whether it is marked now."""
        ident = self._identity(row)
        if ident in self.marks:
            self.marks.discard(ident)
            return False
        self.marks.add(ident)
        return True

    def is_marked(self, row: R) -> bool:
        return self._identity(row) in self.marks

    def marked_rows(self) -> list[R]:
        """Marked rows, including ones the filter hides (O(marks))."""
        return [self._by_id[m] for m in sorted(self.marks)]

    def get(self, ident: str) -> R | None:
        return self._by_id.get(ident)

    def index_of(self, ident: str | None) -> int | None:
        """Position of a row in `visible`, by identity."""
        if ident is None:
            return None
        for i, row in enumerate(self.visible):
            if self._identity(row) == ident:
                return i
        return None

    def _sort(self) -> None:
        # Rows without a value sort last in both directions; Python's sort is stable, so ties
        # keep the previous order (sort by name, then by size: equal sizes stay by name).
        key = self._sort_keys[self.sort_column].key
        keyed = [(key(r), r) for r in self._all]
        present = [kr for kr in keyed if kr[0] is not None]
        absent = [r for k, r in keyed if k is None]
        present.sort(key=lambda kr: kr[0], reverse=self.descending)
        self._all = [r for _, r in present] + absent

    def _refilter(self, source: list[R]) -> None:
        if not self.query:
            self.visible = self._all
            return
        q, hay = self.query, self._hay
        self.visible = [r for r in source if q in hay[id(r)]]

"""Sorting, filtering and marking a list of rows in memory, for tables of any size.

Plain Python, no Textual: the table widgets render `visible`, a window of which is on screen.
Costs, n = all rows, m = rows now visible:
  prepare   O(n log n)  (haystacks, identity order, the current sort), safe in a worker thread:
                        the UI thread then only adopts the result
  sort_by   O(1) for an order computed before (prepare() sorts the prebuilt columns, s/a/n, both
                        ways in the worker), else O(n log n): one sort of row positions by a
                        cached key array (computed once per load, O(n)); then the filter, O(n)
  filter    O(n) for a new query, O(m) when the new query only narrows the old one (typing on),
            down lists of haystacks and measures kept in the rows' order (built once per order)
  visible_measure  O(m), no row read
  index_of  O(m), in C
  marked_rows O(k log k) for k marks
  remove    O(n) (one pass over the sorted rows; nothing is re-sorted)  — a drop patches the screen
  upsert    O(n log n) (k rows replaced or added, then one sort of positions) — a create, an archive
Measured at 100,000 rows (benchmarks/, with painting): an s/a/n sort is a lookup (4-19 ms), another
column's ~25-35 ms, a filter key ~30 ms; the first filter key after a sort also builds that
order's haystack and size columns (~55 ms more).
"""

from __future__ import annotations

import operator
import re
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import compress, count, repeat
from typing import Any, Generic, TypeVar

R = TypeVar("R")


@dataclass(frozen=True)
class SortKey(Generic[R]):
    """How to order rows by one column; `descending_first` for size and age (biggest, oldest)."""

    key: Callable[[R], Any]
    descending_first: bool = False


@dataclass(frozen=True)
class Term:
    """One word of a filter: free text found anywhere in the row (`key` None), or `key:value`
    (the field starts with value) or `key:=value` (the field is value); casefolded."""

    key: str | None
    value: str
    exact: bool = False

    def implies(self, other: Term) -> bool:
        """Every row this term matches, `other` matches too."""
        if (self.key, self.exact) != (other.key, other.exact):
            return False
        return self.value == other.value if self.exact else self.value.startswith(other.value)


# A word: unquoted characters and "quoted parts" ("" inside quotes is one "), so a value with a
# space or a quote still is one word: source:="my table". An open quote runs to the end (typing).
_WORD = re.compile(r'(?:[^\s"]+|"(?:[^"]|"")*(?:"|$))+')
_QUOTED = re.compile(r'"((?:[^"]|"")*)(?:"|$)')


def _unquote(word: str) -> str:
    return _QUOTED.sub(lambda m: m.group(1).replace('""', '"'), word)


def quote_term(value: str) -> str:
    """`value` as one filter word (quoted when it holds a space or a quote, or is empty)."""
    if value and not re.search(r'[\s"]', value):
        return value
    return '"' + value.replace('"', '""') + '"'


def parse_query(query: str, keys: Iterable[str] = ()) -> tuple[Term, ...]:
    """'status:expired kind:daily orders' → three terms, all of which a row must match. A word
    whose key is not one of `keys` ('10:30') is plain text."""
    known = set(keys)
    terms = []
    for word in _WORD.findall(query.casefold()):
        key, colon, value = word.partition(":")
        if colon and key in known:
            exact = value.startswith("=")
            terms.append(Term(key, _unquote(value[1:] if exact else value), exact))
        else:
            terms.append(Term(None, _unquote(word)))
    return tuple(terms)


def narrows(new: tuple[Term, ...], old: tuple[Term, ...]) -> bool:
    """Whether the rows matching `new` are among those matching `old` (then filtering what `old`
    shows is enough): true when `new` repeats `old`'s terms, each as narrow or narrower, and adds."""
    return bool(old) and len(new) >= len(old) and all(n.implies(o) for n, o in zip(new, old, strict=False))


def _nothing(_: object) -> int:
    return 0


@dataclass(frozen=True)
class _Columns(Generic[R]):
    """A list of rows' haystacks and measures, in its order (`rows`: the list they were built for)."""

    rows: list[R]
    hays: list[str]
    measures: array[int]


def _split(values: list[Any]) -> tuple[Sequence[int], list[int]]:
    """Positions of the values present, and of the None ones (O(n)). When every row has a value
    (the usual case) the first is a range: no list of 100,000 ints to keep."""
    if None not in values:
        return range(len(values)), []
    return [i for i, v in enumerate(values) if v is not None], [i for i, v in enumerate(values) if v is None]


@dataclass(frozen=True)
class Prepared(Generic[R]):
    """Rows made ready for a Listing off the UI thread (Listing.prepare), adopted in O(1)."""

    base: list[R]  # by identity: ties in every sort read in name order
    hay: dict[int, str]  # by id() of the row: the filter's hot loop, cheaper than any key function
    by_id: dict[str, R]
    column: str
    descending: bool
    ordered: list[R]
    keys: dict[str, tuple[list[Any], Sequence[int], list[int]]]
    orders: dict[tuple[str, bool], list[R]]  # (column, descending) -> rows in that order
    columns: _Columns[R] | None  # haystacks and measures in the order of `ordered`: the first filter key's


class Listing(Generic[R]):
    """All rows, sorted; the visible ones are those matching the filter, in the same order."""

    def __init__(
        self,
        sort_keys: dict[str, SortKey[R]],
        haystack: Callable[[R], str],
        identity: Callable[[R], str],
        sort_column: str,
        prebuilt: tuple[str, ...] = (),
        fields: dict[str, Callable[[R], tuple[str, ...]]] | None = None,
        measure: Callable[[R], int] | None = None,
    ) -> None:
        self._sort_keys = sort_keys
        self._measure = measure or _nothing  # what visible_measure adds up (a size)
        self._fields = fields or {}  # what `key:value` filter words look at (any of the values)
        self._prebuilt = prebuilt  # columns whose sort keys prepare() builds (the ones with a key)
        self._haystack = haystack
        self._identity = identity
        self.sort_column = sort_column
        self.descending = sort_keys[sort_column].descending_first
        self.query = ""
        self._terms: tuple[Term, ...] = ()
        self._base: list[R] = []
        self._dead: set[int] = set()  # positions in _base of removed rows (compacted on the next load)
        self._keys: dict[str, tuple[list[Any], Sequence[int], list[int]]] = {}
        # Rows in each order computed for the current rows (the worker sorts the s/a/n columns in
        # both directions with the load): a sort key is then a lookup, not a sort of n rows.
        self._orders: dict[tuple[str, bool], list[R]] = {}
        self._all: list[R] = []
        self._hay: dict[int, str] = {}  # casefolded haystack by id() of the row
        self._by_id: dict[str, R] = {}
        self.visible: list[R] = []
        self.marks: set[str] = set()
        # Haystacks and measures in the order of _all and of visible (each for the list object it
        # was built for): see _columns.
        self._all_columns: _Columns[R] | None = None
        self._visible_columns: _Columns[R] | None = None

    @property
    def total(self) -> int:
        return len(self._all)

    @property
    def all(self) -> list[R]:
        return self._all

    @property
    def visible_measure(self) -> int:
        """The visible rows' measures added up (the summary's size of what the filter shows):
        O(m) over an array, no row read, after the filter that made them."""
        return sum(self._columns(self.visible).measures)

    def prepare(self, rows: Iterable[R], same_text: Prepared[R] | None = None, lean: bool = False) -> Prepared[R]:
        """Everything set_rows needs, computed without touching this listing (thread-safe).
        `same_text`: an earlier preparation whose rows, where they have the same identity, have the
        same searchable text (only sizes changed): its haystacks are kept, not built again.
        `lean`: rows soon replaced (a load's step with estimated sizes): only the order shown, no
        prebuilt orders and no filter columns (those come when used): ~0.2 s less at 100,000."""
        base = sorted(rows, key=self._identity)
        column, descending = self.sort_column, self.descending
        prebuilt = () if lean else self._prebuilt
        keys = {c: self._column_keys(base, c) for c in {column, *prebuilt}}
        orders = {(c, d): self._ordered(base, keys[c], d) for c in prebuilt for d in (False, True)}
        if (column, descending) not in orders:
            orders[(column, descending)] = self._ordered(base, keys[column], descending)
        hay = self._haystacks(base, same_text)
        ordered = orders[(column, descending)]
        return Prepared(
            base=base,
            hay=hay,
            by_id={self._identity(r): r for r in base},
            column=column,
            descending=descending,
            ordered=ordered,
            keys=keys,
            orders=orders,
            columns=None if lean else self._columns_of(ordered, hay),
        )

    def _haystacks(self, base: list[R], same_text: Prepared[R] | None) -> dict[int, str]:
        ident, haystack = self._identity, self._haystack
        if same_text is None:
            return {id(r): haystack(r).casefold() for r in base}
        # The earlier rows' haystacks by identity (a copy: the screen may patch that listing now).
        known = {ident(r): text for r in list(same_text.base) if (text := same_text.hay.get(id(r))) is not None}
        return {id(r): known.get(ident(r)) or haystack(r).casefold() for r in base}

    def adopt(self, prepared: Prepared[R]) -> None:
        """Take prepared rows, keeping filter and the marks of rows that still exist."""
        self._base, self._hay, self._by_id = prepared.base, prepared.hay, prepared.by_id
        self._dead = set()
        self._keys = dict(prepared.keys)
        self._orders = dict(prepared.orders)
        self.marks &= self._by_id.keys()
        self._visible_columns = None
        if (prepared.column, prepared.descending) == (self.sort_column, self.descending):
            self._all = prepared.ordered
            self._all_columns = prepared.columns
        else:  # the sort changed while the rows were being prepared
            self._sort()
        self._refilter(self._all)

    def set_rows(self, rows: Iterable[R]) -> None:
        """Replace the rows, keeping sort, filter and the marks of rows that still exist."""
        self.adopt(self.prepare(rows))

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
        """Show the rows matching every word of `query` (see parse_query); '' shows everything."""
        terms = parse_query(query, self._fields)
        narrowing = narrows(terms, self._terms)
        self.query, self._terms = query.strip(), terms
        self._refilter(self.visible if narrowing else self._all)

    @property
    def filter_keys(self) -> tuple[str, ...]:
        return tuple(self._fields)

    def mark_visible(self) -> int:
        """Mark every row the filter shows; returns how many are marked now."""
        self.marks.update(self._identity(r) for r in self.visible)
        return len(self.marks)

    def invert_visible(self) -> None:
        """Marked rows the filter shows become unmarked and the others marked; hidden ones keep theirs."""
        shown = {self._identity(r) for r in self.visible}
        self.marks ^= shown

    def clear_marks(self) -> None:
        self.marks.clear()

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

    def remove(self, idents: set[str]) -> list[R]:
        """Take these rows out (a drop): one pass, no re-sort. Returns the rows removed."""
        gone = [self._by_id[i] for i in idents if i in self._by_id]
        if not gone:
            return []
        positions = {id(r) for r in gone}
        for row in gone:
            del self._by_id[self._identity(row)]
            self._hay.pop(id(row), None)
        self._dead.update(i for i, r in enumerate(self._base) if id(r) in positions)
        self.marks -= idents
        self._all = [r for r in self._all if id(r) not in positions]
        self._orders = {(self.sort_column, self.descending): self._all}  # the others held the removed
        self.visible = [r for r in self.visible if id(r) not in positions]
        return gone

    def upsert(self, rows: list[R]) -> list[R]:
        """Replace rows by identity, or add them (a create, an archive's new status), then sort once.
        Returns the rows replaced."""
        replaced = []
        index = {self._identity(r): i for i, r in enumerate(self._base) if i not in self._dead} if rows else {}
        for row in rows:
            ident = self._identity(row)
            position = index.get(ident)
            if position is None:
                position = len(self._base)
                self._base.append(row)
            else:
                old = self._base[position]
                replaced.append(old)
                self._hay.pop(id(old), None)
                self._base[position] = row
            self._by_id[ident] = row
            self._hay[id(row)] = self._haystack(row).casefold()
            for column, (values, _, _) in self._keys.items():
                value = self._sort_keys[column].key(row)
                if position == len(values):
                    values.append(value)
                else:
                    values[position] = value
        for column, (values, _, _) in self._keys.items():
            self._keys[column] = (values, *_split(values))
        self._orders = {}
        self._sort()
        self._refilter(self._all)
        return replaced

    def get(self, ident: str) -> R | None:
        return self._by_id.get(ident)

    def index_of(self, ident: str | None) -> int | None:
        """Position of a row in `visible`, by identity."""
        if ident is None or (row := self._by_id.get(ident)) is None:
            return None
        # Found by identity in a chain of builtins: after a sort the cursor's row can be anywhere,
        # and comparing each row's identity in a Python loop took up to ~30 ms at 100,000 rows.
        return next(compress(count(), map(operator.is_, self.visible, repeat(row))), None)

    def _column_keys(self, base: list[R], column: str) -> tuple[list[Any], Sequence[int], list[int]]:
        """A column's sort key for every row (O(n), once per load), split into rows that have a
        value and rows that have none (those sort last in both directions). When every row has
        one (the usual case) the positions are a range: no list of 100,000 ints to keep."""
        key = self._sort_keys[column].key
        values = [key(r) for r in base]
        return (values, *_split(values))

    @staticmethod
    def _ordered(
        base: list[R], keys: tuple[list[Any], Sequence[int], list[int]], descending: bool, dead: set[int] | None = None
    ) -> list[R]:
        # Sorting positions by a list's __getitem__ runs in C; the sort is stable in both
        # directions, so ties stay in identity (name) order.
        values, present, absent = keys
        order = sorted(present, key=values.__getitem__, reverse=descending)
        if dead:
            return [base[i] for i in order if i not in dead] + [base[i] for i in absent if i not in dead]
        return [base[i] for i in order] + [base[i] for i in absent]

    def _sort(self) -> None:
        keys = self._keys.get(self.sort_column)
        if keys is None:
            keys = self._keys[self.sort_column] = self._column_keys(self._base, self.sort_column)
        order = (self.sort_column, self.descending)
        if order not in self._orders:
            self._orders[order] = self._ordered(self._base, keys, self.descending, self._dead)
        self._all = self._orders[order]

    def _refilter(self, source: list[R]) -> None:
        terms = self._terms
        if not terms:
            self.visible = self._all
            return
        columns = self._columns(source)
        if len(terms) == 1 and terms[0].key is None:  # the common case, kept to one test a row
            # `q in haystack` down a list in the rows' order, as a chain of builtins that runs in
            # C: 100,000 rows in ~7 ms with the total (a dict probe a row, and a read of each row
            # for its size, cost ~30 ms: sorted rows lie scattered in memory).
            mask = list(map(operator.contains, columns.hays, repeat(terms[0].value)))
        else:
            tests = [self._test(t) for t in terms]
            mask = [all(test(r) for test in tests) for r in source]
        self.visible = list(compress(source, mask))
        self._visible_columns = _Columns(
            self.visible, list(compress(columns.hays, mask)), array("q", compress(columns.measures, mask))
        )

    def _columns_of(self, rows: list[R], hay: dict[int, str]) -> _Columns[R]:
        return _Columns(rows, list(map(hay.__getitem__, map(id, rows))), array("q", map(self._measure, rows)))

    def _columns(self, rows: list[R]) -> _Columns[R]:
        """Haystacks and measures in the order of `rows` (_all or visible), built once per list
        object (O(n): a dict probe and a read of each row); the filter and the totals then read
        them in sequence instead of reaching into rows scattered in memory."""
        for columns in (self._all_columns, self._visible_columns):
            if columns is not None and columns.rows is rows:
                return columns
        columns = self._columns_of(rows, self._hay)
        if rows is self._all:
            self._all_columns = columns
        else:
            self._visible_columns = columns
        return columns

    def _test(self, term: Term) -> Callable[[R], bool]:
        hay, value = self._hay, term.value
        if term.key is None:
            return lambda r: value in hay[id(r)]
        field = self._fields[term.key]
        if term.exact:
            return lambda r: any(v.casefold() == value for v in field(r))
        return lambda r: any(v.casefold().startswith(value) for v in field(r))

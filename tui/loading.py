"""How the TUI loads a large inventory: a first screen quickly, then everything. No Textual here.

Below EXACT_AT_ONCE backups (catalog estimate), every row comes with exact sizes in the same
transaction as the server's name and the schema's state: two round trips to the first rows. From
LARGE_INVENTORY backups on, the first load is only the biggest FIRST_SCREEN of them (the default
sort), so the first rows paint in O(screen), not O(inventory); the screen then loads every row with
catalog size estimates, then exact sizes (as it does in between). The first load can start in a
thread before Textual is even imported (Prefetch): the two overlap.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass

from tui.db import Database, DatabaseError
from tui.model import Backup, SchemaState, ServerInfo

LARGE_INVENTORY = 2_000
FIRST_SCREEN = 200
# Below this, every row is read with exact sizes at once (one statement, two round trips): opening
# 500 tables for their sizes costs less than the round trips of an estimated step and an exact one.
EXACT_AT_ONCE = 500


@dataclass(frozen=True, slots=True)
class FirstLoad:
    info: ServerInfo
    state: SchemaState
    rows: list[Backup]
    estimated: bool
    partial_of: int | None = None  # rows holds only the biggest backups of about this many


def first_load(database: Database, on_large: Callable[[SchemaState], object] | None = None) -> FirstLoad:
    """Server, schema state and rows — with catalog size estimates when the schema has them,
    and only the biggest FIRST_SCREEN backups of a large inventory (`on_large` is told first)."""
    info, state, count, rows = database.first_look(rows_below=min(EXACT_AT_ONCE, LARGE_INVENTORY))
    if rows is not None:
        return FirstLoad(info, state, rows, False)
    if state is SchemaState.CURRENT and count is not None and count >= LARGE_INVENTORY:
        if on_large is not None:
            on_large(state)
        rows = database.inventory(state, estimate_sizes=True, biggest=FIRST_SCREEN)
        return FirstLoad(info, state, rows, True, partial_of=count)
    if count is not None and count < min(EXACT_AT_ONCE, LARGE_INVENTORY):
        return FirstLoad(info, state, database.small_inventory(state), False)
    estimated = state.upgraded
    return FirstLoad(info, state, database.inventory(state, estimate_sizes=estimated), estimated)


def reload_rows(database: Database) -> tuple[ServerInfo, SchemaState, list[Backup]]:
    """Everything again (after a reconnect, or `r`): exact sizes, with the first look when small."""
    info, state, count, rows = database.first_look(rows_below=EXACT_AT_ONCE)
    if rows is not None:
        return info, state, rows
    if count is not None and count < EXACT_AT_ONCE:
        return info, state, database.small_inventory(state)
    with bulk():
        return info, state, database.inventory(state)


class Prefetch:
    """The first load, started in a thread at once; taken (waited for) once by the first screen.

    On a large inventory every row (with estimated sizes) is read at the same time, in a second
    thread on a second connection that closes when it is done: the server plans all 100,000 rows
    (~0.9 s) while this process imports Textual and paints the first screen, instead of after.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self._future: Future[FirstLoad] | None = None
        self._rest: Future[list[Backup]] | None = None

    @classmethod
    def start(cls, database: Database) -> Prefetch:
        prefetch = cls(database)
        future: Future[FirstLoad] = Future()

        def read_rest(state: SchemaState) -> None:
            rest: Future[list[Backup]] = Future()
            prefetch._rest = rest

            def read() -> None:
                twin = Database(database.settings)
                try:
                    with bulk():
                        rows = twin.inventory(state, estimate_sizes=True)
                except BaseException as exc:  # take_rest reads on the main connection instead
                    twin.close()
                    rest.set_exception(exc)
                    return
                twin.close()
                rest.set_result(rows)

            threading.Thread(target=read, name="backup-tui-prefetch-rest", daemon=True).start()

        def load() -> None:
            try:
                future.set_result(first_load(database, on_large=read_rest))
            except BaseException as exc:  # delivered to whoever takes the result
                future.set_exception(exc)

        threading.Thread(target=load, name="backup-tui-prefetch", daemon=True).start()
        prefetch._future = future
        return prefetch

    def take(self) -> FirstLoad:
        """The prefetched first load (waiting for it if needed) the first time; a fresh one after."""
        future, self._future = self._future, None
        return future.result() if future is not None else first_load(self.database)

    def take_rest(self, state: SchemaState) -> list[Backup]:
        """Every row with estimated sizes after a partial first load: those read alongside it the
        first time (waiting for them if needed), else read now. A failure of the second
        connection (a server at its connection limit, say) costs only the head start."""
        rest, self._rest = self._rest, None
        if rest is not None:
            try:
                return rest.result()
            except DatabaseError:
                pass
        with bulk():
            return self.database.inventory(state, estimate_sizes=True)


# -- the cyclic garbage collector and 100,000 rows ------------------------------------------------
#
# A load makes ~400,000 objects the collector tracks (a row, its tuple, its id...). While they are
# made, the collector scans them again and again (full collections of 0.15-0.3 s each, ~0.5 s of a
# 100,000-row load), and once made, every full collection later scans them all again: pauses that
# land on keystrokes (measured: ten full collections, 1.9 s, in one keystroke benchmark). So the
# collector is off while rows are built, and what a load leaves alive is frozen (gc.freeze: later
# collections skip it). Rows need no collector: reference counting frees them when a newer load
# replaces them. What freezing costs is reference cycles among objects alive at a load's end that
# die later (a dialog, a worker): thaw() collects them at the start of the next full reload, and
# release() hands them back to the collector when the app closes.

_collector = threading.Lock()
_building = 0  # bulk() blocks running now, in any thread
_restore = False  # whether the collector was on when the first of them began


@contextmanager
def bulk() -> Iterator[None]:
    """Build many long-lived objects with the collector off, then freeze what is alive. Nested
    and concurrent uses (two workers) count: the collector comes back when the last one ends."""
    global _building, _restore
    with _collector:
        if _building == 0:
            _restore = gc.isenabled()
            gc.disable()
        _building += 1
    try:
        yield
    finally:
        with _collector:
            _building -= 1
            if _building == 0:
                gc.freeze()
                if _restore:
                    gc.enable()


def release() -> None:
    """Give the frozen objects back to the collector, without collecting now (an app closing: in
    one process, as in the tests, its cycles must not stay frozen for good)."""
    with _collector:
        gc.unfreeze()


def thaw() -> None:
    """Collect the cycles that died among frozen objects (one full collection, ~0.1-0.3 s with
    100,000 rows loaded): at the start of a full reload, behind its loading indicator."""
    with _collector:
        if gc.get_freeze_count():
            gc.unfreeze()
            gc.collect()

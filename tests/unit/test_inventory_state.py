"""The inventory's load/patch protocol, without a screen: steps of a load in flight were read
before the writes made meanwhile, so those writes are applied to every later step; a step of an
older load is dropped; a patch read before a later drop does not bring the row back."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

from tui.inventory_state import InventoryState, Totals
from tui.model import Backup, Status

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _backup(i: int, status: Status = Status.KEEP, size: int | None = 8192, reason: str = "nightly") -> Backup:
    return Backup(
        None, f"t{i % 97}", f"t{i % 97}_backup_{i:06d}", EPOCH - timedelta(minutes=i), i, reason,
        None, None, None, "public", "daily", size, None, status,
    )  # fmt: skip


def _rows(n: int) -> list[Backup]:
    return [_backup(i, Status.EXPIRED if i % 3 == 0 else Status.KEEP, size=i * 10 or None) for i in range(n)]


def _deliver(state: InventoryState, generation: int, rows: list[Backup]) -> list[Backup] | None:
    """What the worker and the screen do with one step: prepare, count, hand over."""
    return state.loaded(generation, state.listing.prepare(rows), Totals.of(rows))


def _names(state: InventoryState) -> set[str]:
    return {b.backup_table_name for b in state.listing.all}


def _agree(state: InventoryState) -> None:
    assert state.totals == Totals.of(state.listing.all)


def test_a_drop_during_a_100000_row_load_stays_dropped() -> None:
    state = InventoryState()
    generation = state.begin_load()
    rows = _rows(100_000)
    first = sorted(rows, key=lambda b: -(b.size_bytes or 0))[:200]  # the biggest first
    assert _deliver(state, generation, first) == []
    victim = first[0].backup_table_name
    gone = state.remove({victim})  # dropped while the rest of the load is in flight
    assert [b.backup_table_name for b in gone] == [victim]
    assert victim not in _names(state)
    # The estimated step, then the exact one: both read before the drop, both still list it.
    assert _deliver(state, generation, rows) == []
    estimated_total = state.listing.total
    exact = [dataclasses.replace(b, size_bytes=(b.size_bytes or 0) + 1) for b in rows]
    _deliver(state, generation, exact)
    assert victim not in _names(state)
    assert state.listing.total == estimated_total == 100_000 - 1
    _agree(state)
    # The next whole load reads after the drop: the drop is no longer re-applied.
    later = state.begin_load()
    _deliver(state, later, [b for b in exact if b.backup_table_name != victim] + [first[0]])
    assert victim in _names(state)  # had it still been there, a new load shows it: nothing is hidden


def test_a_step_of_an_older_load_changes_nothing() -> None:
    state = InventoryState()
    old = state.begin_load()
    new = state.begin_load()
    _deliver(state, new, _rows(10))
    before = (_names(state), state.totals)
    assert _deliver(state, old, _rows(50)) is None
    assert (_names(state), state.totals) == before


def test_a_patch_survives_the_later_steps_of_the_load() -> None:
    state = InventoryState()
    generation = state.begin_load()
    rows = _rows(1_000)
    _deliver(state, generation, rows[:10])
    created = _backup(5_000, reason="made by a write")
    changed = dataclasses.replace(rows[500], status=Status.ARCHIVED, size_bytes=None, backup_reason="archived")
    asked = state.ask_patch()
    assert state.patch(asked, [created, changed]) == [created, changed]
    again = _deliver(state, generation, rows)  # read before the create and the archive
    assert again is not None
    assert {b.backup_table_name for b in again} == {created.backup_table_name, changed.backup_table_name}
    assert state.listing.get(changed.backup_table_name) == changed
    assert state.listing.get(created.backup_table_name) == created
    assert state.listing.total == 1_001
    _agree(state)


def test_a_patch_read_before_a_later_drop_does_not_bring_the_row_back() -> None:
    state = InventoryState()
    generation = state.begin_load()
    rows = _rows(20)
    _deliver(state, generation, rows)
    archived = dataclasses.replace(rows[4], status=Status.ARCHIVED)
    asked = state.ask_patch()  # archived: its row is being read again...
    state.remove({archived.backup_table_name})  # ...while another write forgets it
    assert state.patch(asked, [archived]) == []
    assert archived.backup_table_name not in _names(state)
    _deliver(state, generation, rows)  # nor does a late step of the load
    assert archived.backup_table_name not in _names(state)
    _agree(state)


def test_a_patch_asked_after_a_drop_may_add_the_name_again() -> None:
    """Names are unique per moment; a table of that name made after the drop is a new backup."""
    state = InventoryState()
    generation = state.begin_load()
    rows = _rows(5)
    _deliver(state, generation, rows)
    name = rows[1].backup_table_name
    state.remove({name})
    remade = dataclasses.replace(rows[1], backup_reason="adopted again")
    assert state.patch(state.ask_patch(), [remade]) == [remade]
    _deliver(state, generation, rows)
    assert state.listing.get(name) == remade
    _agree(state)


def test_a_patch_from_before_a_whole_load_is_dropped() -> None:
    state = InventoryState()
    _deliver(state, state.begin_load(), _rows(5))
    asked = state.ask_patch()
    generation = state.begin_load()  # r pressed: the new load reads the write itself
    assert state.patch(asked, [_backup(99)]) is None
    _deliver(state, generation, _rows(5))
    assert _backup(99).backup_table_name not in _names(state)


def test_marks_and_filter_survive_the_steps_of_a_load() -> None:
    state = InventoryState()
    generation = state.begin_load()
    rows = _rows(300)
    _deliver(state, generation, rows[:100])
    state.listing.filter("t5")
    kept = [b.backup_table_name for b in state.listing.visible[:2]]
    state.listing.marks |= set(kept)
    state.remove({kept[1]})
    _deliver(state, generation, rows)
    assert state.listing.marks == {kept[0]}  # a removed row's mark goes with it
    assert all(b.backup_table_name.startswith("t5") for b in state.listing.visible)
    assert len(state.listing.visible) == sum(1 for b in rows if b.backup_table_name.startswith("t5")) - 1
    assert kept[1] not in {b.backup_table_name for b in state.listing.visible}


def test_totals_follow_removals_and_patches() -> None:
    state = InventoryState()
    rows = _rows(30)
    _deliver(state, state.begin_load(), rows)
    expired = [b for b in rows if b.status is Status.EXPIRED]
    state.remove({b.backup_table_name for b in expired[:4]})
    state.patch(state.ask_patch(), [dataclasses.replace(rows[1], status=Status.EXPIRED, size_bytes=10**9)])
    _agree(state)
    assert state.totals.count == 26
    assert state.totals.expired == len(expired) - 4 + 1

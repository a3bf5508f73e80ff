"""tui.loading.bulk: the cyclic collector is off while rows are built, back when the last builder
ends (threads count), and what a load leaves alive is frozen until thaw()."""

from __future__ import annotations

import gc
import threading

from tui.loading import bulk, release, thaw


def test_the_collector_comes_back_only_when_the_last_builder_ends() -> None:
    assert gc.isenabled()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def second() -> None:
        assert first_in.wait(10)
        with bulk():
            second_in.set()
            assert first_out.wait(10)
            seen.append(gc.isenabled())  # the first builder ended; this one still runs

    thread = threading.Thread(target=second)
    thread.start()
    try:
        with bulk():
            first_in.set()
            assert second_in.wait(10)
            seen.append(gc.isenabled())
        first_out.set()
        thread.join(10)
        assert seen == [False, False] and gc.isenabled()
        assert gc.get_freeze_count() > 0  # what the builders left alive is frozen
    finally:
        thaw()
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_a_collector_switched_off_before_stays_off() -> None:
    gc.disable()
    try:
        with bulk():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
        thaw()


def test_an_error_while_building_still_brings_the_collector_back() -> None:
    try:
        with bulk():
            raise ValueError("the load failed")
    except ValueError:
        pass
    finally:
        thaw()
    assert gc.isenabled()


def test_release_hands_frozen_objects_back_to_the_collector() -> None:
    with bulk():
        pass
    assert gc.get_freeze_count() > 0
    release()
    assert gc.get_freeze_count() == 0 and gc.isenabled()

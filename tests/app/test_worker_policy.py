"""One worker policy (#23). 0.2's workers kept Textual's default (exit on error), nothing handled
Worker.StateChanged, and `app.py` mapped a crash's None to exit status 0: a worker's surprise closed
the app, and a wrapper could not tell a crash from a quit. Now every worker says
exit_on_error=False, one App handler words an unexpected failure and the app goes on, and a real
crash exits non-zero."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.app.helpers import screen_text, settle
from tui.app import exit_code

TUI = Path(__file__).resolve().parents[2] / "tui"


def test_every_worker_of_ours_says_exit_on_error_false() -> None:
    """From the source: every @work(...) decorator and run_worker(...) call."""
    missing, seen = [], 0
    for path in sorted(p for p in TUI.rglob("*.py") if "db" not in p.relative_to(TUI).parts):  # db: no Textual
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in ("work", "run_worker"):
                continue
            seen += 1
            flag = next((k for k in node.keywords if k.arg == "exit_on_error"), None)
            if flag is None or not isinstance(flag.value, ast.Constant) or flag.value.value is not False:
                missing.append(f"{path.relative_to(TUI.parent)}:{node.lineno}")
    assert seen > 20 and missing == []


async def test_a_worker_that_fails_unexpectedly_is_a_message_and_the_app_goes_on(
    seeded_dsn: str, make_app, own_config_and_state: Path
) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)

        def surprise() -> None:
            raise LookupError("a surprise no screen expected")

        worker = app.run_worker(surprise, thread=True, exit_on_error=False)
        while not worker.is_finished:  # settle() would re-raise its failure: wait for its state instead
            await pilot.pause()
        await pilot.pause()
        text = screen_text(pilot)
        assert "LookupError: a surprise no screen expected" in text and app.is_running
        await pilot.press("s")  # and it still answers keys
        await settle(pilot)
        assert "size ▲" in screen_text(pilot)
    log = own_config_and_state / "state" / "backup-tui" / "errors.log"
    assert "LookupError: a surprise no screen expected" in log.read_text()


async def test_a_crash_exits_non_zero(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    with pytest.raises(ZeroDivisionError):
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.call_later(lambda: 1 / 0)  # not a worker: the app's own code fails
            await pilot.pause()
    assert exit_code(app) == 1


async def test_quitting_exits_zero(seeded_dsn: str, make_app) -> None:
    app = make_app(seeded_dsn)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("q")
    assert exit_code(app) == 0


async def test_a_config_with_wrong_types_starts_the_app_with_one_line_each(
    seeded_dsn: str, make_app, own_config_and_state: Path
) -> None:
    config = own_config_and_state / "config" / "backup-tui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("keys = 5\nui = [1]\n")
    app = make_app(seeded_dsn)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await settle(pilot)
        text = screen_text(pilot)
        assert "keys must be a [keys] table" in text and "ui must be a [ui] table" in text and app.is_running

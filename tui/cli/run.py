"""The TUI and the demo."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from tui import format as fmt
from tui.cli.common import UserError, settings_of, who_asks
from tui.db import Database, Settings


def cmd_demo(args: argparse.Namespace) -> int:
    from tui.demo import demo_database

    def say(line: str) -> None:
        print(f"backup-tui demo: {fmt.printable(line)}", file=sys.stderr, flush=True)

    if not args.no_tui:
        require_screen()
    with contextlib.ExitStack() as stack:
        dsn = stack.enter_context(demo_database(args.data_dir, keep=not args.temporary, fresh=args.fresh, say=say))
        if args.no_tui:
            print(dsn, flush=True)
            print("demo database ready; Ctrl-C stops it", file=sys.stderr, flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
            return 0
        settings = Settings(
            dsn=dsn,
            lock_timeout=args.lock_timeout,
            statement_timeout=args.statement_timeout,
            requested_by=who_asks(args.by),
        )
        # A dropped SSH session skips the normal exit: stop the embedded server from the hang-up.
        return run_tui(settings, on_hang_up=stack.close)


def require_screen() -> None:
    """A dumb terminal (TERM=dumb: an editor's shell, some CI logs) cannot draw the TUI: say so in
    one line, before anything starts, and point at the commands that work there."""
    if os.environ.get("TERM") == "dumb":
        raise UserError(
            "this terminal (TERM=dumb) cannot draw the TUI; the commands work here: "
            "backup-tui list, prune, check… (backup-tui --help)"
        )


def run_tui(settings: Settings, on_hang_up: Callable[[], object] | None = None) -> int:
    require_screen()
    from tui.loading import Prefetch

    prefetch = Prefetch.start(Database(settings))  # connect and query while Textual imports: the two overlap
    from tui.app import run

    return run(prefetch, on_hang_up)


def cmd_tui(args: argparse.Namespace) -> int:
    return run_tui(settings_of(args))


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """This group's subcommands."""
    p = sub.add_parser("demo", parents=[common], help="embedded PostgreSQL with sample backups, then the TUI")
    p.add_argument("--no-tui", action="store_true", help="print the DSN and serve until interrupted")
    p.add_argument("--data-dir", help="keep the demo cluster here (default ~/.cache/backup-tui/demo; reused next time)")
    p.add_argument("--fresh", action="store_true", help="start over from an empty cluster")
    p.add_argument("--temporary", action="store_true", help="a cluster in a temp dir, removed on exit")
    p.set_defaults(func=cmd_demo)

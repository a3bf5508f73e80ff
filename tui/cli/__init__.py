"""The `backup-tui` command (tui.cli:main): a package of thin command modules over tui.actions and tui.db,
one per group of subcommands; each parses, calls, words the result and chooses the exit status."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tui import format as fmt
from tui.cli.common import (
    COMMON_DEFAULTS,
    CheckFailed,
    UserError,
    VerifyFailed,
    error_line,
    silence_stdout,
    tolerant_streams,
)
from tui.cli.parser import build_parser
from tui.db import DatabaseError

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    for arg in sys.argv[1:] if argv is None else argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:  # bytes the terminal's locale could not decode (surrogate escapes)
            parser.error(f"an argument is not valid UTF-8: {arg.encode('utf-8', 'surrogateescape')!r}")
    tolerant_streams()
    args = parser.parse_args(argv)
    for name, value in COMMON_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, value)
    try:
        return args.func(args)
    except BrokenPipeError:
        # The reader went away (`backup-tui prune | head -1`): nothing more to say to it.
        silence_stdout()
        return 1
    except (CheckFailed, VerifyFailed) as exc:
        print(f"backup-tui: {fmt.printable(exc)}", file=sys.stderr)
        return 2
    except DatabaseError as exc:
        print(f"backup-tui: {fmt.printable(error_line(exc))}", file=sys.stderr)
    except UserError as exc:
        print(f"backup-tui: {fmt.printable(exc)}", file=sys.stderr)
    except KeyboardInterrupt:
        print("backup-tui: interrupted", file=sys.stderr)
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())

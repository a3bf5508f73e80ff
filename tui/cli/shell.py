"""`completion` and `man`: the shell around the command line, generated from the parser itself
(shtab and argparse-manpage), so they can never disagree with `--help`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

SHELLS = ("bash", "zsh", "tcsh")


def cmd_completion(args: argparse.Namespace) -> int:
    import shtab

    sys.stdout.write(shtab.complete(args.build_parser(), shell=args.shell))
    return 0


def cmd_man(args: argparse.Namespace) -> int:
    from argparse_manpage.manpage import Manpage

    from tui import __version__

    # The version as the page's date: the page installed with the package is the same from one
    # build to the next (tests compare it with what this prints).
    about = {
        "project_name": "backup-tui",
        "version": __version__,
        "manual_title": "backup-tui manual",
        "date": __version__,
    }
    sys.stdout.write(str(Manpage(args.build_parser(), _data=about)))
    return 0


def add_parsers(sub: Any, build_parser: Callable[[], argparse.ArgumentParser]) -> None:
    """This group's subcommands; `build_parser` makes the whole command line they describe."""
    p = sub.add_parser(
        "completion",
        help="print the shell completion script",
        epilog="bash: backup-tui completion bash > ~/.local/share/bash-completion/completions/backup-tui\n"
        'zsh:  backup-tui completion zsh > "${fpath[1]}/_backup-tui"\n'
        "Exit codes, environment and the config file: backup-tui --help.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    p.set_defaults(func=cmd_completion, build_parser=build_parser)

    p = sub.add_parser(
        "man",
        help="print the manual page (roff)",
        epilog="mkdir -p ~/.local/share/man/man1 && backup-tui man > ~/.local/share/man/man1/backup-tui.1\n"
        "Exit codes, environment and the config file: backup-tui --help.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(func=cmd_man, build_parser=build_parser)

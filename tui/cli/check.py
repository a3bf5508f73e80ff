"""`check` and `grant`: integrity, exposure and who may do what."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tui import format as fmt
from tui.cli.common import (
    CheckFailed,
    UserError,
    confirm,
    database_of,
    on_terminal,
    require_installed,
)
from tui.cli.table import say
from tui.db import FIX_EXPOSURE, Database, DatabaseError
from tui.model import (
    Category,
    SchemaState,
)


def cmd_check(args: argparse.Namespace) -> int:
    try:
        with database_of(args) as database:
            roles = args.role or ()
            if args.fix:
                state = database.schema_state()
                _fix_exposure(database, state, args.yes)
                findings = database.check(state, fast=args.fast, roles=roles)
            else:  # the usual case in one transaction; another version's schema is checked after
                state, current = database.check_if_current(fast=args.fast, roles=roles)
                findings = current if current is not None else database.check(state, fast=args.fast, roles=roles)
    except (DatabaseError, UserError) as exc:
        raise CheckFailed(str(exc)) from exc
    if args.json:
        json.dump(
            [{"category": str(f.category), "subject": f.subject, "detail": f.detail, "fix": f.fix} for f in findings],
            sys.stdout,
            ensure_ascii=False,
        )
        sys.stdout.write("\n")
    elif not findings:
        print("clean: no missing or unregistered tables, no drift, no dependants, nothing exposed")
    else:
        for category in Category:
            group = [f for f in findings if f.category is category]
            if not group:
                continue
            print(f"{category} ({len(group)})")
            for f in group:
                say(f"  {fmt.printable(f.subject)}: {fmt.printable(f.detail)}", hang=4)
                if f.fix:
                    print(f"    fix: {fmt.printable(f.fix)}")
            if category is Category.EXPOSURE and state.upgraded:
                print(f"  fix them all: {FIX_EXPOSURE}  (or: backup-tui check --fix exposure)")
        print(f"\n{len(findings)} finding(s)")
    return 1 if findings else 0


def _fix_exposure(database: Database, state: SchemaState, yes: bool) -> None:
    """check --fix exposure: take back what reaches the backups from anon, authenticated, PUBLIC."""
    if not state.upgraded:
        raise UserError("--fix exposure needs the backup schema installed: run `backup-tui install` first")
    exposed = database.exposure()
    if not exposed:
        print("nothing exposed: nothing to revoke", file=sys.stderr)
        return
    if not yes:
        if not on_terminal():
            raise UserError("refusing to revoke without confirmation: pass --yes when not on a terminal")
        for f in exposed:
            say(f"  {fmt.printable(f.detail)}", hang=4)
        if not confirm(f"revoke these {len(exposed)} grant(s) with {FIX_EXPOSURE}"):
            raise UserError("nothing revoked")
    for statement in database.revoke_exposure():
        print(f"ran: {fmt.printable(statement)}", file=sys.stderr)


def cmd_grant(args: argparse.Namespace) -> int:
    level = "operator" if args.operator else "reviewer"
    with database_of(args) as database:
        require_installed(database)
        statements = database.role_grants(args.role, level)
        for statement in statements:
            print(f"{fmt.printable(statement)};")
        if not args.yes:
            if not on_terminal():
                print("(printed only: pass --yes to apply, or run the statements yourself)", file=sys.stderr)
                return 0
            if not confirm(f"grant {fmt.printable(args.role)} these {level} rights?"):
                print("nothing granted")
                return 1
        database.grant_role(args.role, level)
    print(f"granted {fmt.printable(args.role)} the {level} rights", file=sys.stderr)
    return 0


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """This group's subcommands."""
    p = sub.add_parser("check", parents=[common], help="integrity and exposure report; exit 1 on findings")
    p.add_argument("--json", action="store_true", help="findings as JSON")
    p.add_argument("--fast", action="store_true", help="row drift from estimates instead of exact counts")
    p.add_argument("--role", action="append", help="also report privileges of this role (repeatable)")
    p.add_argument(
        "--fix", choices=["exposure"], help="exposure: revoke what reaches the backups from anon/authenticated/PUBLIC"
    )
    p.add_argument("--yes", action="store_true", help="with --fix: do not ask for confirmation")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("grant", parents=[common], help="print (and apply) the grants an operator or reviewer needs")
    p.add_argument("role", help="an existing role")
    level = p.add_mutually_exclusive_group(required=True)
    level.add_argument("--operator", action="store_true", help="create, drop, prune, archive, adopt, review")
    level.add_argument("--reviewer", action="store_true", help="browse, check, plan (read-only)")
    p.add_argument("--yes", action="store_true", help="apply them without asking")
    p.set_defaults(func=cmd_grant)

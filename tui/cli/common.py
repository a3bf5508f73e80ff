"""What every command shares: settings, confirmation, one-line errors, output helpers."""

from __future__ import annotations

import argparse
import contextlib
import csv
import getpass
import io
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, NoReturn

from tui import format as fmt
from tui.actions import Job
from tui.config import Config, default_archive_target, load_config
from tui.db import Database, DatabaseError, ErrorKind, Settings
from tui.model import (
    Backup,
    ItemResult,
    SchemaState,
    Transfer,
    WriteResult,
)


class UserError(Exception):
    """Wrong usage or input: reported as one line, exit 1."""


def configured() -> Config:
    """The config file's settings; each problem in it said on stderr (a bad file is not "no setting")."""
    config, problems = load_config()
    for problem in problems:
        print(f"backup-tui: {fmt.printable(problem)}", file=sys.stderr)
    return config


def configured_target() -> str:
    """Where archives go without --to: $BACKUP_TUI_ARCHIVE_TO, the config's [archive] target, then
    the default folder; the TUI's archive dialog offers the same."""
    return default_archive_target(configured())


def who_asks(by: str | None = None) -> str:
    """The person a write is recorded for (backup.requested_by): --by, else the OS user who ran us
    (SUDO_USER's when under sudo), with the SSH client's address when there is one: on a shared
    login (every Supabase connection is `postgres`) the role alone says nothing."""
    if by and by.strip():
        return by.strip()[:200]
    user = os.environ.get("SUDO_USER")
    if not user:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no name for this uid (a container's)
            user = f"uid {os.getuid()}"
    ssh = (os.environ.get("SSH_CLIENT") or os.environ.get("SSH_CONNECTION") or "").split()
    return f"{user} (ssh from {ssh[0]})" if ssh else user


def settings_of(args: argparse.Namespace) -> Settings:
    return Settings(
        dsn=args.dsn,
        requested_by=who_asks(args.by),
        prune_redundant=getattr(args, "redundant", False),
        read_only=getattr(args, "read_only", False),
        lock_timeout=args.lock_timeout,
        statement_timeout=args.statement_timeout,
        read_timeout=args.read_timeout,
        as_of=args.as_of,
    )


def database_of(args: argparse.Namespace) -> Database:
    return Database(settings_of(args))


def require_installed(database: Database) -> None:
    require_current(database.schema_state())


def require_current(state: SchemaState) -> None:
    """One clear line unless the schema is this version's."""
    if state is SchemaState.ABSENT:
        raise UserError("there is no backup schema in this database; run `backup-tui install` first")
    if state is SchemaState.LEGACY:
        raise UserError(
            "the backup schema has the 2025 layout; run `backup-tui install` to upgrade it "
            "(every row is kept) before changing backups"
        )
    if state is SchemaState.OUTDATED:
        raise UserError("the backup schema is older than this backup-tui; run `backup-tui install` to upgrade it")
    if state is SchemaState.NEWER:
        raise UserError("the backup schema was installed by a newer backup-tui; use that version to change backups")


def json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if value is None or isinstance(value, (int, float, bool)):
        return value
    return str(value)  # text, and the enums (their value), UUIDs


def on_terminal() -> bool:
    """Whether a person can answer: stdin is a terminal (and not closed: `<&-` leaves it None)."""
    return sys.stdin is not None and not sys.stdin.closed and sys.stdin.isatty()


def confirm(question: str, expected: str = "yes") -> bool:
    print(f"{question} type {expected} to confirm: ", end="", flush=True)
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):  # the terminal went away while asking
        return False
    return answer.strip().lower() == expected.lower()


def confirm_job(job: Job, yes: bool) -> bool:
    """The dialog's confirmation, on the terminal: the backups, what would be lost in words, then the
    name (one backup) or the count (several) typed. Off a terminal only --yes goes ahead."""
    if yes:
        return True
    verb = job.title.lower().split(",")[0]
    if not on_terminal():
        raise UserError(f"refusing to {verb} without confirmation: pass --yes when not on a terminal")
    print(fmt.printable(job.question()))
    for b in job.backups:
        print(
            f"  {fmt.printable(b.backup_table_name)}  {fmt.text(b.backup_kind)}  {b.status}  "
            f"{fmt.count(b.row_count)} rows  {fmt.size(b.size_bytes)}  {fmt.printable(fmt.text(b.age_words))}"
        )
    for note in job.notes():
        print(fmt.printable(note))
    if job.risks():
        print(f"Careful: {'; '.join(job.risks())}.")
    if job.target is not None:
        print(f"to {fmt.printable(job.target)}")
    prompt = job.prompt() if job.typed else "Type yes to confirm:"
    print(f"{fmt.printable(prompt)} ", end="", flush=True)
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):  # the terminal went away while asking
        return False
    return answer.strip() == (job.expected if job.typed else "yes")


def siblings_unless(database: Database, backups: Sequence[Backup], yes: bool) -> dict[str, list[str]] | None:
    """What the confirmation needs to say which backups are the newest of their table (one read);
    nothing to ask with --yes, so nothing read."""
    return None if yes else database.siblings([b.backup_table_name for b in backups])


def chosen(database: Database, names: Sequence[str], yes: bool) -> list[Backup]:
    """The named backups as the inventory has them, in the order named. A name it does not list is
    one line before anything is asked; with --yes (a script) it is attempted, and the SQL API says
    why it fails ("part of the backup schema itself", "no backup named ...") while the rest go on."""
    known = {b.backup_table_name: b for b in database.inventory(SchemaState.CURRENT, names=list(names))}
    unknown = [n for n in names if n not in known]
    if unknown and not yes:
        raise UserError(f"no backup named {', '.join(fmt.printable(n) for n in unknown)} in schema backup")
    return [known.get(n) or Backup.unknown(n) for n in dict.fromkeys(names)]


def no_transfer(_: Transfer) -> None:
    """A job's bytes-and-rows progress, where nothing shows it."""


def print_item(verb: str, freed: bool = True) -> Callable[[ItemResult], None]:
    """Each backup's result as it comes: 'dropped x (1.2 MiB)' ('held x' when nothing is freed),
    a failure on stderr."""

    def show(item: ItemResult) -> None:
        if item.ok:
            size = f" ({fmt.size(item.freed_bytes)})" if freed else ""
            print(f"{verb} {fmt.printable(item.name)}{size}", flush=True)
        else:
            print(f"failed {fmt.printable(item.name)}: {fmt.printable(item.error)}", file=sys.stderr, flush=True)

    return show


def stopped(summary: str, result: WriteResult) -> str:
    """A job's summary, and why it stopped early if it did: '...; stopped: connection lost (…)'."""
    if result.stopped is not None:
        summary += f"; stopped: {fmt.printable(result.stop_message)}"
    return summary


class CheckFailed(Exception):
    """`check` could not run: exit 2 (findings are exit 1)."""


class VerifyFailed(Exception):
    """`verify` could not run: exit 2 (damaged or unreadable archives are exit 1)."""


def write_out(text: str, output: str | None) -> None:
    """To stdout, or atomically to `output` (a temp file beside it, renamed over it)."""
    if output is None:
        sys.stdout.write(text)
        return
    target = os.path.abspath(output)
    fd, tmp = tempfile.mkstemp(prefix=".backup-tui-", dir=os.path.dirname(target))
    try:
        # mkstemp makes it 0600: a collector running as another user (node_exporter) could not read
        # it. The mode any new file gets here instead (0644 under the usual umask).
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from exc


COMMON_DEFAULTS = {
    "dsn": None,
    "lock_timeout": "5s",
    "statement_timeout": "1h",
    "read_timeout": "10min",
    "as_of": None,
    "by": None,
}


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error in one line (exit 2, as argparse and most tools do)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {fmt.printable(message)} (see {self.prog} --help)\n")


_DURATION = re.compile(r"[0-9]+(\.[0-9]+)?\s*(us|ms|s|min|h|d)?")


def duration(text: str) -> str:
    """A PostgreSQL duration as its settings take it ('5s', '200ms', '2min', '0'): a usage error
    here (exit 2), not the server's after connecting."""
    if not _DURATION.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"not a duration (such as 5s, 200ms, 2min, 1h; 0 for none): {text!r}")
    return text.strip()


def point_in_time(text: str) -> str:
    """An ISO 8601 date or date and time ('2027-01-01', '2027-01-01 03:00', '2027-01-01T03:00Z')."""
    try:
        datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date and time (ISO 8601, such as 2027-01-01 or 2027-01-01T03:00Z): {text!r}"
        ) from None
    return text.strip()


# A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection"): a reason
# "=HYPERLINK(...)" would run when the export is opened. Such text gets a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

CSV_HELP = (
    "CSV with a header row (text that a spreadsheet would take for a formula, starting with = + - @, gets a leading ')"
)
BOM_HELP = "with --csv: start with a UTF-8 byte-order mark, for spreadsheets on Windows"


def spreadsheet_safe(value: object) -> object:
    """A CSV cell: text a spreadsheet would evaluate gets a leading apostrophe; the rest as it is."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_rows(header: Sequence[str], rows: Iterable[Sequence[object]], bom: bool = False) -> str:
    """The CSV text of a header and rows (None as empty), safe to open in a spreadsheet."""
    buffer = io.StringIO()
    if bom:
        buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else spreadsheet_safe(v) for v in row])
    return buffer.getvalue()


def metric_labels(given: Sequence[str] | None) -> tuple[str | None, dict[str, str]]:
    """--label values: a bare NAME is the target label; key=value adds a label to every sample."""
    target, extra = None, {}
    for item in given or ():
        key, sep, value = item.partition("=")
        if not sep:
            target = item
        elif re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", key) and key not in ("target", "host", "database", "category"):
            extra[key] = value
        else:
            raise UserError(
                f"--label {item}: a label name is letters, digits and _ (not target/host/database/category)"
            )
    return target, extra


def time_of_day(text: str) -> str:
    if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", text):
        raise argparse.ArgumentTypeError(f"not a time of day (HH:MM, 00:00 to 23:59): {text!r}")
    return text


def at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def error_line(exc: DatabaseError) -> str:
    """A DatabaseError as the CLI words it."""
    if exc.kind is ErrorKind.CONNECTION_LOST:
        return f"{exc}; nothing more was done"
    return str(exc)


def tolerant_streams() -> None:
    """Words this locale cannot encode (an ASCII terminal: LC_ALL=C, PYTHONIOENCODING=ascii) are
    written escaped (\\u2014), never a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]


def silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null, so the interpreter's own final flush has
    nowhere to fail (it would print 'Exception ignored ... BrokenPipeError')."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())

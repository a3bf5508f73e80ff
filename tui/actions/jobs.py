"""Jobs: writes to several backups, each with its words, its run and its summary (tui.actions)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime

from tui import format as fmt
from tui.db import Database, DatabaseError
from tui.model import Backup, Decision, ItemResult, Kind, Outcome, PlanRow, Rule, Status, Transfer, WriteResult

Progress = Callable[[ItemResult], None]
TransferProgress = Callable[[Transfer], None]


def siblings_of(chosen: Sequence[Backup], inventory: Iterable[Backup]) -> dict[str, list[str]]:
    """For each source table of `chosen`, its backups that still have a table, newest first (by
    date, then name, as the plan's floor): what a drop leaves of that table's history."""
    sources = {b.source for b in chosen if b.original_table_name is not None}
    kept = [
        b for b in inventory if b.original_table_name is not None and b.status not in _TABLELESS and b.source in sources
    ]
    kept.sort(key=_newest_first, reverse=True)
    by_source: dict[str, list[str]] = {s: [] for s in sorted(sources)}
    for b in kept:
        by_source[b.source].append(b.backup_table_name)
    return by_source


_TABLELESS = (Status.ARCHIVED, Status.MISSING, Status.UNREGISTERED)
_UNDATED = datetime.min.replace(tzinfo=UTC)  # a date a client cannot hold sorts last, as in the plan


def _newest_first(b: Backup) -> tuple[datetime, str]:
    """Sort key (reversed: newest first), by date, then name, as the plan's floor."""
    return b.backup_date or _UNDATED, b.backup_table_name


def risks(backups: Sequence[Backup], siblings: Mapping[str, Sequence[str]] | None = None) -> list[str]:
    """What the user is about to lose that they may not mean to, one phrase each. `siblings` (see
    siblings_of) tells which are the newest of their table, and which tables would be left with none."""
    return [words for words, _ in _risky(backups, siblings)]


def _counted(words: str, n: int) -> str:
    """'2 are the newest backup of their table', '1 critical': a risk's words with its count."""
    if words.startswith("the newest"):
        return f"{n} {'is' if n == 1 else 'are'} the newest of {'its' if n == 1 else 'their'} table"
    return f"{n} {words}"


def _risky(backups: Sequence[Backup], siblings: Mapping[str, Sequence[str]] | None) -> list[tuple[str, set[str]]]:
    """Each risk's words and the backups it concerns."""
    names = {b.backup_table_name for b in backups}
    newest = {b.backup_table_name for b in backups if b.rule is Rule.NEWEST}
    emptied: list[str] = []
    for source, kept in sorted((siblings or {}).items()):  # the same words in the same order, every run
        if kept and kept[0] in names:
            newest.add(kept[0])
        if kept and names.issuperset(kept):
            emptied.append(source)
    checks: tuple[tuple[str, Callable[[Backup], bool]], ...] = (
        ("critical", lambda b: b.backup_kind is Kind.CRITICAL),
        ("the newest backup of its table", lambda b: b.backup_table_name in newest),
        (
            "still inside its retention",
            lambda b: b.status is Status.KEEP and b.backup_table_name not in newest and b.rule is not Rule.NEWEST,
        ),
        ("due for review, not for deletion", lambda b: b.status is Status.REVIEW),
        ("only in its archive (forgotten: the files stay)", lambda b: b.status is Status.ARCHIVED),
    )
    said: list[tuple[str, set[str]]] = []
    for words, hit in checks:
        hits = {b.backup_table_name for b in backups if hit(b)}
        if hits:
            said.append((_counted(words, len(hits)) if len(backups) > 1 else words, hits))
    for source in emptied:
        whose = {b.backup_table_name for b in backups if b.source == source}
        words = (
            f"the only backup of {source} that has a table"
            if len(backups) == 1
            else f"every backup of {source} that has a table: none would be left"
        )
        said.append((words, whose))
    return said


class Job:
    """A write to the backups it was given. Subclasses say what it does, in words and in `run`."""

    title = "Act on"  # the question's verb: "Drop 3 backups, freeing 1.2 GiB?"
    action_label = "Go"  # the button
    verb = "done"  # in the summary: "dropped 3, freed 1.2 GiB, failed 0"
    typed = True  # destructive: the user types the name (one backup) or the count (several)
    target: str | None = None  # where archives go, when the job archives (editable before it runs)

    def __init__(
        self, database: Database, backups: Sequence[Backup], siblings: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        self.database = database
        self.backups = tuple(backups)  # a copy: a refresh underneath changes nothing here
        self.siblings = siblings  # see siblings_of: which are the newest of their table

    @property
    def names(self) -> list[str]:
        return [b.backup_table_name for b in self.backups]

    @property
    def expected(self) -> str:
        """What a destructive job's user types to confirm: the name for one backup, the count for several."""
        return self.backups[0].backup_table_name if len(self.backups) == 1 else str(len(self.backups))

    @property
    def freed(self) -> int:
        """What it frees, in bytes (an archived backup's table is gone already)."""
        return sum(b.size_bytes or 0 for b in self.backups if b.status is not Status.ARCHIVED)

    def question(self) -> str:
        what = "this backup" if len(self.backups) == 1 else f"{len(self.backups)} backups"
        return f"{self.title} {what}, freeing {fmt.size(self.freed)}?"

    def risks(self) -> list[str]:
        return risks(self.backups, self.siblings) if self.typed else []

    def at_risk(self) -> int:
        """How many of the backups some risk concerns (each counted once, however many)."""
        if not self.typed:
            return 0
        return len(set().union(*(hit for _, hit in _risky(self.backups, self.siblings))))

    def notes(self) -> list[str]:
        """What the user must know before it runs, beyond the risks (one paragraph each)."""
        return []

    def prompt(self) -> str:
        """The confirmation's words: what to type, and how many of them are at risk."""
        at_risk = self.risks()
        if len(self.backups) == 1:
            return "Type the backup's name to confirm" + (f" (it is {at_risk[0]}):" if at_risk else ":")
        count = self.at_risk()
        return f"Type {len(self.backups)} to confirm" + (f" ({count} of them at risk, see above):" if count else ":")

    def run(self, progress: Progress, transfer: TransferProgress, stop: threading.Event) -> WriteResult:
        raise NotImplementedError

    def summary(self, result: WriteResult) -> str:
        return result.summary(self.verb, fmt.size(result.freed_bytes))

    def cancel(self) -> None:
        """Stop the statement in flight (from any thread); `stop` ends the run after it."""
        self.database.cancel()

    def lock_holder(self) -> str | None:
        """Whose lock the statement in flight waits for, in words; None when it waits for nobody
        (or when asking failed: the words are a courtesy, the write goes on regardless)."""
        try:
            return self.database.lock_holder()
        except DatabaseError:
            return None


class DropJob(Job):
    """Drop the backups; an archived one is forgotten instead (its row goes, its files stay)."""

    title = "Drop"
    action_label = "Drop"
    verb = "dropped"

    @property
    def forgotten(self) -> set[str]:
        return {b.backup_table_name for b in self.backups if b.status is Status.ARCHIVED}

    def notes(self) -> list[str]:
        return [
            f"{b.backup_table_name} exists only in its archive ({b.policy_reason}). Dropping it forgets the "
            "archive: the files stay where they are, and backup-tui will no longer know about them "
            "(adopt --from brings it back)."
            for b in self.backups
            if b.status is Status.ARCHIVED
        ]

    def run(self, progress: Progress, transfer: TransferProgress, stop: threading.Event) -> WriteResult:
        forget = self.forgotten
        dropped = self.database.drop_many([n for n in self.names if n not in forget], progress, stop)
        if not forget or dropped.stopped:
            return _joined(dropped, WriteResult(_not_attempted([n for n in self.names if n in forget], dropped)))
        forgotten = self.database.forget_many([n for n in self.names if n in forget], progress, stop)
        return _joined(dropped, forgotten)

    def summary(self, result: WriteResult) -> str:
        """Drops and forgets counted apart: 'dropped 2, freed 1.0 MiB, failed 0; forgot 1'."""
        forget = self.forgotten
        drops = WriteResult([i for i in result.items if i.name not in forget], result.stopped)
        forgets = [i for i in result.items if i.name in forget]
        if not forgets:
            return drops.summary("dropped", fmt.size(drops.freed_bytes))
        forgot = f"forgot {sum(1 for i in forgets if i.ok)}" + (
            f", failed {sum(1 for i in forgets if i.outcome is Outcome.FAILED)}"
            if any(i.outcome is Outcome.FAILED for i in forgets)
            else ""
        )
        if not drops.items:
            return forgot
        return f"{drops.summary('dropped', fmt.size(drops.freed_bytes))}; {forgot}"


class ArchiveJob(Job):
    """Archive each backup to `target`, verified, then drop its table (its row stays, archived)."""

    title = "Archive, verified, then drop"
    action_label = "Archive"
    verb = "archived"

    def __init__(
        self,
        database: Database,
        backups: Sequence[Backup],
        target: str,
        siblings: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        super().__init__(database, backups, siblings)
        self.target = target

    def run(self, progress: Progress, transfer: TransferProgress, stop: threading.Event) -> WriteResult:
        assert self.target
        return self.database.archive_many(self.names, self.target, progress, transfer, stop)


class VerifyJob(Job):
    """Re-read each archive against its manifest and the catalogue; the result is recorded (for an
    operator). Nothing is destroyed: no typing."""

    title = "Verify the archive of"
    action_label = "Verify"
    verb = "verified"
    typed = False

    def question(self) -> str:
        return f"Verify {len(self.backups)} archive(s): re-read every byte against the manifest and catalogue?"

    def run(self, progress: Progress, transfer: TransferProgress, stop: threading.Event) -> WriteResult:
        result = WriteResult()
        for name in self.names:
            if stop.is_set():
                result.items.extend(_not_attempted(self._after(name), result))
                break
            try:
                verified = self.database.verify(name, progress=transfer)
            except DatabaseError as exc:  # forgotten from another session meanwhile, say: that one fails
                item = ItemResult(name, Outcome.FAILED, error=str(exc))
            else:
                error = verified.detail if verified.recorded else f"{verified.detail} (not recorded)"
                item = ItemResult(name, Outcome.DONE if verified.ok else Outcome.FAILED, error=error)
            result.items.append(item)
            progress(item)
        return result

    def _after(self, name: str) -> list[str]:
        return self.names[self.names.index(name) :]

    def summary(self, result: WriteResult) -> str:
        return f"verified {len(result.done)}, damaged or unreadable {len(result.failed)}"


class PruneJob(Job):
    """A prune plan applied: the `archive` decisions archived (verified, then dropped) when there is
    a target, then the `delete` decisions dropped in committed batches, each re-checked against a
    fresh plan (backup.prune_batch)."""

    title = "Prune: delete"
    verb = "dropped"

    def __init__(
        self,
        database: Database,
        plan: Sequence[PlanRow],
        backups: Sequence[Backup],
        target: str | None = None,
        batch_size: int = 100,
        *,
        scope: str | None = None,
    ) -> None:
        due = [r.backup_table_name for r in plan if r.decision is Decision.DELETE]
        archive = [r.backup_table_name for r in plan if r.decision is Decision.ARCHIVE] if target else []
        by_name = {b.backup_table_name: b for b in backups}
        super().__init__(database, [by_name[n] for n in archive + due if n in by_name])
        self.due, self.to_archive = due, archive
        self.target = target
        self.batch_size = batch_size
        self.scope = scope  # "the 8 rows shown (filter /delete)": the plan was applied in part
        self.action_label = "Apply" if archive else "Drop"
        # Sizes as the plan has them: the preview's totals and this question say the same figures.
        self._sizes = {r.backup_table_name: r.size_bytes or 0 for r in plan}

    def _bytes(self, names: Sequence[str]) -> int:
        return sum(self._sizes.get(n, 0) for n in names)

    @property
    def freed(self) -> int:
        return self._bytes(self.due) + self._bytes(self.to_archive)

    def question(self) -> str:
        head = f"Prune {self.scope}:" if self.scope else "Prune:"
        deletes = f"delete {len(self.due)} ({fmt.size(self._bytes(self.due))})"
        if not self.to_archive:
            return f"{head} {deletes}?"
        archives = f"archive {len(self.to_archive)} ({fmt.size(self._bytes(self.to_archive))}, verified, then dropped)"
        return f"{head} {archives} and {deletes}, freeing {fmt.size(self.freed)}?"

    def run(self, progress: Progress, transfer: TransferProgress, stop: threading.Event) -> WriteResult:
        archived = WriteResult()
        if self.to_archive:
            assert self.target
            archived = self.database.archive_many(self.to_archive, self.target, progress, transfer, stop)
            if archived.stopped:
                return _joined(archived, WriteResult(_not_attempted(self.due, archived)))
        dropped = self.database.apply_prune(self.due, progress, self.batch_size, stop)
        return _joined(archived, dropped)

    def summary(self, result: WriteResult) -> str:
        """'archived 3, dropped 5, freed 1.2 GiB, failed 0' when archives and drops ran together."""
        archived = [i for i in result.done if i.archived is not None]
        if not self.to_archive:
            return result.summary("dropped", fmt.size(result.freed_bytes))
        freed = fmt.size(result.freed_bytes)
        line = f"archived {len(archived)}, dropped {len(result.done) - len(archived)}, freed {freed}"
        line += f", failed {len(result.failed)}"
        if result.not_attempted:
            line += f", not attempted {len(result.not_attempted)}"
        return line


def _not_attempted(names: Sequence[str], cause: WriteResult) -> list[ItemResult]:
    why = f"not attempted: {cause.stopped.value}" if cause.stopped else "not attempted"
    return [ItemResult(n, Outcome.NOT_ATTEMPTED, error=why) for n in names]


def _joined(first: WriteResult, second: WriteResult) -> WriteResult:
    return WriteResult(
        first.items + second.items, first.stopped or second.stopped, first.stop_message or second.stop_message
    )

"""`p`: the retention plan — a decision and a reason for every backup — and applying it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from tui import format as fmt
from tui.actions import PruneJob
from tui.config import default_archive_target, last_archive_target
from tui.db import Database, DatabaseError
from tui.modals.drop import DropModal
from tui.modals.review import ReviewModal
from tui.model import Backup, Decision, PlanRow, Rule, Status, WriteResult
from tui.screens.host import host
from tui.screens.listing_screen import SORT_BINDINGS, ListingScreen
from tui.widgets.bars import when
from tui.widgets.plan_table import PlanTable, plan_listing
from tui.widgets.text import error_text, literal


def plan_summary(rows: list[PlanRow], database_bytes: int | None = None) -> Text:
    """'delete 37 backups, free 4.2 GiB · 3 to archive (1.1 GiB) · 5 to review · 60 kept', then
    what the backups take of the database: the figures `x` and `X` act on, in the same words."""

    def of(decision: Decision) -> list[PlanRow]:
        return [r for r in rows if r.decision is decision]

    delete, review, archive, keep = of(Decision.DELETE), of(Decision.REVIEW), of(Decision.ARCHIVE), of(Decision.KEEP)
    text = Text()
    text.append(f"delete {len(delete)} backup{'s' if len(delete) != 1 else ''}", "bold")
    text.append(f", free {fmt.size(plan_bytes(delete))}")
    text.append(f"  ·  {len(archive)} to archive ({fmt.size(plan_bytes(archive))})")
    text.append(f"  ·  {len(review)} to review  ·  {len(keep)} kept")
    if database_bytes:
        taken = plan_bytes(rows)
        text.append(
            f"\nbackups take {fmt.size(taken)} of the database's {fmt.size(database_bytes)} "
            f"({100 * taken / database_bytes:.0f} %)"
        )
    return text


def plan_bytes(rows: list[PlanRow]) -> int:
    return sum(r.size_bytes or 0 for r in rows)


class PruneScreen(ListingScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        *SORT_BINDINGS,
        Binding(
            "x",
            "apply",
            "Apply",
            id="prune-apply",
            priority=True,
            tooltip="apply the plan shown (filtered: only the rows shown): archive the archive decisions, "
            "drop the deletes (typed confirmation)",
        ),
        Binding(
            "X",
            "apply(True)",
            "Delete only",
            id="prune-delete-only",
            priority=True,
            tooltip="drop the deletes shown, and archive nothing (the archive decisions wait)",
        ),
        Binding(
            "v",
            "review",
            "Reviewed",
            id="prune-review",
            priority=True,
            tooltip="acknowledge the review of the backup under the cursor (with a note)",
        ),
        Binding(
            "equals_sign",
            "redundant",
            "Redundant",
            id="prune-redundant",
            priority=True,
            tooltip="also delete backups identical to a newer one of their table (found first); again: not",
        ),
        Binding("r", "refresh", "Refresh", id="prune-refresh", tooltip="plan again"),
        Binding("q", "back", "Back", id="prune-back", tooltip="back to the backups"),
    ]

    def __init__(
        self,
        database: Database,
        inventory: Callable[[str], Backup | None],
        read_only: bool,
        what_if: str | None = None,
        place: str | None = None,
    ) -> None:
        super().__init__()
        self.place = place  # the database (ServerInfo.place): its archive target is remembered
        self.database_bytes: int | None = None
        self.database = database
        self.base = database  # the session's own; with redundant copies asked for, a second one
        self.with_redundant: Database | None = None
        self.inventory = inventory
        self.read_only = read_only
        self.what_if = what_if  # a preview as of another time: nothing is applied under it
        self.listing = plan_listing()
        self.changed = False  # something was dropped or reviewed: the main screen reloads

    def compose(self) -> ComposeResult:
        yield Static(id="prune-title")
        yield Static("", id="prune-totals")
        yield PlanTable(self.listing, id="plan")
        yield Static(id="plan-detail")
        yield Static(id="filter")
        yield Footer(compact=True)

    @property
    def table(self) -> PlanTable:
        return self.query_one(PlanTable)

    def on_mount(self) -> None:
        self._show_title()
        self.query_one("#filter", Static).display = False
        self.table.focus()
        self.reload()

    def reload(self) -> None:
        self.table.loading = True
        self._load()

    @work(thread=True, exit_on_error=False, exclusive=True, group="plan")
    def _load(self) -> None:
        try:
            rows, size = self.database.plan_and_size()
        except DatabaseError as exc:
            self.app.call_from_thread(self._failed, error_text(exc))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._loaded, rows, size)

    def _failed(self, message: str) -> None:
        self.table.loading = False
        self.query_one("#prune-totals", Static).update(literal(message, "bold red"))
        self.notify(message, title="database error", severity="error")

    def _loaded(self, rows: list[PlanRow], database_bytes: int | None) -> None:
        keep = self.current_name()
        self.database_bytes = database_bytes
        self.listing.set_rows(rows)
        self.table.loading = False
        self.table.rows_changed(keep, reloaded=True)
        self.update_summary()

    @on(PlanTable.CursorMoved)
    def _show_current(self) -> None:
        """The current row's reason in full: the table cuts it on narrow screens."""
        row = self.table.current
        detail = self.query_one("#plan-detail", Static)
        if row is None:
            detail.update("")
            return
        detail.update(
            Text.assemble((str(row.decision), "bold"), "  ", literal(row.backup_table_name), ": ", literal(row.reason))
        )

    def update_summary(self) -> None:
        if self.listing.query:
            self.query_one("#prune-totals", Static).update(
                Text.assemble(
                    f"{len(self.listing.visible)} of {self.listing.total} match  ·  ",
                    plan_summary(self.listing.visible),
                )
            )
        else:
            self.query_one("#prune-totals", Static).update(plan_summary(self.listing.all, self.database_bytes))

    def action_refresh(self) -> None:
        self.reload()

    def action_redundant(self) -> None:
        """=: plan with redundant copies deleted too (a second session with backup.prune_redundant),
        after finding them; again: the policy alone."""
        if self.with_redundant is not None:
            self.database = self.base
            self.with_redundant.close()
            self.with_redundant = None
            self._show_title()
            self.reload()
            return
        if self.read_only or self.what_if:
            self.notify("Finding redundant copies records fingerprints: not in a read-only or what-if session.")
            return
        self.query_one("#prune-totals", Static).update(Text("reading backups not yet fingerprinted…", "dim"))
        self._find_redundant()

    @work(thread=True, exit_on_error=False, exclusive=True, group="redundant")
    def _find_redundant(self) -> None:
        try:
            found = self.base.find_redundant()
        except DatabaseError as exc:
            self.app.call_from_thread(self._failed, error_text(exc))
            return
        self.app.call_from_thread(self._redundant_found, len(found))

    def _redundant_found(self, count: int) -> None:
        self.with_redundant = Database(replace(self.base.settings, prune_redundant=True))
        self.database = self.with_redundant
        self._show_title()
        self.notify(f"{count} backup(s) identical to a newer backup of their table: the plan deletes them now.")
        self.reload()

    def _show_title(self) -> None:
        title = Text(no_wrap=True, overflow="ellipsis")
        if self.what_if:  # first: at 80 columns the rest of the line may be cut, never this
            title.append_text(literal(f" WHAT-IF as of {when(self.what_if)}: preview only ", "bold reverse"))
            title.append("  ")
        if self.with_redundant is not None:
            title.append(" + REDUNDANT COPIES ", "bold reverse")
            title.append("  ")
        title.append("Prune preview — what the retention policy does, and why", "bold")
        self.query_one("#prune-title", Static).update(title)

    def on_unmount(self) -> None:
        if self.with_redundant is not None:
            self.with_redundant.close()

    def action_back(self) -> None:
        self.dismiss()

    def action_clear_filter(self) -> None:
        """escape: clears the filter first, then goes back."""
        if self.filtering or self.listing.query:
            super().action_clear_filter()
        else:
            self.dismiss()

    def action_apply(self, deletes_only: bool = False) -> None:
        """x: apply the plan as shown — with a filter, only the rows it shows; X: only its deletes."""
        if self.read_only:
            self.notify("This session is read-only: nothing can be deleted.", severity="warning")
            return
        if self.what_if:
            self.notify(
                f"This plan is a what-if as of {self.what_if}: pruning deletes only at the real current time. "
                "Start backup-tui without --as-of to apply it.",
                severity="warning",
            )
            return
        shown = list(self.listing.visible) if self.listing.query else list(self.listing.all)
        due = [r for r in shown if r.decision is Decision.DELETE]
        to_archive = [] if deletes_only else [r for r in shown if r.decision is Decision.ARCHIVE]
        if not due and not to_archive:
            what = "deletion" if deletes_only else "deletion or archiving"
            where = " among the rows shown" if self.listing.query else ""
            self.notify(f"Nothing is due for {what}{where}.")
            return
        target = None
        if to_archive:
            target = (self.place and last_archive_target(self.place)) or default_archive_target(host(self).config)
        backups = [self.inventory(r.backup_table_name) or _as_backup(r) for r in to_archive + due]
        scope = f"the {len(shown)} rows shown (filter {self.listing.query})" if self.listing.query else None
        job = PruneJob(self.database, to_archive + due, backups, target, scope=scope)

        def applied(result: WriteResult | None) -> None:
            if result:
                self.changed = True
                self.reload()

        self.app.push_screen(DropModal(job, self.place), applied)

    def action_review(self) -> None:
        row = self.table.current
        if row is None:
            return
        if self.read_only:
            self.notify("This session is read-only: reviews cannot be recorded.", severity="warning")
            return
        if row.decision is not Decision.REVIEW or row.rule is Rule.UNREGISTERED:
            self.notify("Only backups due for review can be marked reviewed.", severity="warning")
            return

        def noted(note: str | None) -> None:
            if note:
                self._mark_reviewed(row.backup_table_name, note)

        self.app.push_screen(ReviewModal(row.backup_table_name, row.reason), noted)

    @work(thread=True, exit_on_error=False, group="review")
    def _mark_reviewed(self, name: str, note: str) -> None:
        try:
            self.database.mark_reviewed(name, note)
        except DatabaseError as exc:
            self.app.call_from_thread(self.notify, error_text(exc), title="database error", severity="error")
            return
        self.changed = True
        self.app.call_from_thread(self.notify, f"{name} marked reviewed")
        self.app.call_from_thread(self.reload)


def _as_backup(row: PlanRow) -> Backup:
    """A plan row as the drop modal lists it, when the inventory had not seen it yet."""
    return Backup(
        None,
        row.original_table_name,
        row.backup_table_name,
        row.backup_date,
        None,
        None,
        None,
        None,
        None,
        row.source_schema,
        row.backup_kind,
        row.size_bytes,
        None,
        Status.EXPIRED,
        row.reason,
        row.age_words,
    )

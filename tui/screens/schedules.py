"""`S`: scheduled backups — one row per schedule (when, in words; next run; last run and its
result, failures standing out; what it made) and pg_cron's jobs with their last runs, or how to
run `backup-tui run-due` without it. a add, e edit, space pause/resume, x run now, d delete."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Footer, Static

from tui import format as fmt
from tui.actions import Forms
from tui.db import Database, DatabaseError
from tui.modals.confirm import ConfirmModal
from tui.modals.schedule import ScheduleModal
from tui.model import CronJob, CronState, KindChoice, Schedule
from tui.screens.listing_screen import SORT_BINDINGS, ListingScreen
from tui.widgets.schedule_table import ScheduleTable, schedule_listing
from tui.widgets.text import error_text, literal


class SchedulesScreen(ListingScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        *SORT_BINDINGS,
        Binding("a", "add", "Add", id="schedule-add", priority=True, tooltip="add a schedule"),
        Binding("e", "edit", "Edit", id="schedule-edit", priority=True, tooltip="edit the schedule under the cursor"),
        Binding("space", "toggle", "Pause", id="schedule-toggle", tooltip="pause / resume the schedule"),
        Binding("x", "run_now", "Run now", id="schedule-run", priority=True, tooltip="run the schedule now"),
        Binding("d", "delete", "Delete", id="schedule-delete", priority=True, tooltip="delete the schedule (typed)"),
        Binding("r", "refresh", "Refresh", show=False, id="schedule-refresh", tooltip="refresh"),
        Binding("q", "back", "Back", id="schedule-back", tooltip="back to the backups"),
    ]

    class Loaded(Message):
        def __init__(self, rows: list[Schedule], cron: CronState, jobs: list[CronJob]) -> None:
            super().__init__()
            self.rows, self.cron, self.jobs = rows, cron, jobs

    class Said(Message):
        """A worker's outcome, for a toast (a failure is a message, never a closed app)."""

        def __init__(self, text: str, error: bool = False) -> None:
            super().__init__()
            self.text, self.error = text, error

    def __init__(self, database: Database, read_only: bool) -> None:
        super().__init__()
        self.database = database
        self.read_only = read_only
        self.listing = schedule_listing()
        self.changed = False  # a run made a backup: the inventory reloads

    def compose(self) -> ComposeResult:
        yield Static(Text("Scheduled backups (times in UTC)", style="bold"), id="schedules-title")
        yield ScheduleTable(self.listing, id="schedules")
        yield Static(id="filter")
        yield Static(id="schedule-detail")
        yield Static(id="cron-jobs")
        yield Footer(compact=True)

    @property
    def table(self) -> ScheduleTable:
        return self.query_one(ScheduleTable)

    def on_mount(self) -> None:
        self.query_one("#filter", Static).display = False
        self.table.focus()
        self.reload()

    def reload(self) -> None:
        self.table.loading = True
        self._load()

    @work(thread=True, exit_on_error=False, exclusive=True, group="schedules")
    def _load(self) -> None:
        try:
            rows, cron, jobs = self.database.schedules_and_cron()
        except DatabaseError as exc:
            self.post_message(self.Said(error_text(exc), error=True))
            return
        self.post_message(self.Loaded(rows, cron, jobs))

    def on_schedules_screen_loaded(self, message: Loaded) -> None:
        keep = self.current_name()
        self.listing.set_rows(message.rows)
        self.table.loading = False
        self.table.rows_changed(keep, reloaded=True)
        self.query_one("#cron-jobs", Static).update(self._cron_text(message.cron, message.jobs))
        self._show_current()

    def on_schedules_screen_said(self, message: Said) -> None:
        self.table.loading = False
        self.notify(message.text, severity="error" if message.error else "information")

    def _cron_text(self, cron: CronState, jobs: list[CronJob]) -> Text:
        text = Text()
        if not cron.visible:
            text.append("pg_cron is not in this database: ", "bold")
            text.append("where else it may be only a superuser can see (cron.database_name).")
            return text
        if not cron.installed:
            text.append("pg_cron is not installed here: ", "bold")
            text.append("run `backup-tui run-due` every minute from cron or a systemd timer (README).")
            return text
        if not cron.here:
            text.append(f"pg_cron lives in database {cron.cron_database}: ", "bold")
            text.append("`backup-tui schedule cron --install` prints the cron.schedule_in_database statements.")
            return text
        if not jobs:
            text.append("pg_cron is here, without our jobs: ", "bold")
            text.append("`backup-tui schedule cron --install` adds them.")
            return text
        for job in jobs:
            text.append("pg_cron ", "dim")
            text.append_text(literal(job.jobname, "bold"))
            text.append(f"  {job.schedule}  ")
            if job.last_start is None:
                text.append("has not run yet", "dim")
            else:
                took = (job.last_end - job.last_start).total_seconds() if job.last_end else None
                text.append(f"last {fmt.date(job.last_start)} ")
                text.append(job.last_status or "?", "bold red" if job.last_status == "failed" else "green")
                if took is not None:
                    text.append(f" in {took:.1f} s")
                if job.last_message and job.last_status == "failed":
                    text.append_text(literal(f": {job.last_message}", "red"))
            text.append("\n")
        return text

    @on(ScheduleTable.CursorMoved)
    def _show_current(self) -> None:
        row = self.table.current
        detail = self.query_one("#schedule-detail", Static)
        if row is None:
            detail.update(Text("No schedules yet: a adds one.", "dim"))
            return
        text = Text.assemble((f"schedule {row.id}", "bold"), "  ", literal(row.cron), "  ", literal(row.reason, "dim"))
        if row.last_backup:
            text.append("\n")
            text.append_text(literal(f"last backup {row.last_backup}"))
        if row.failed:
            text.append("\n")
            text.append_text(literal(f"failed {fmt.date(row.last_attempt_at)} UTC: {row.last_error}", "bold red"))
        detail.update(text)

    # -- keys ------------------------------------------------------------------------------
    def _writable(self) -> bool:
        if self.read_only:
            self.notify("This session is read-only: schedules cannot be changed.", severity="warning")
        return not self.read_only

    def action_refresh(self) -> None:
        self.reload()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_clear_filter(self) -> None:
        # escape clears a filter; with none, it goes back (as on every other screen).
        if self.filtering or self.listing.query:
            super().action_clear_filter()
        else:
            self.action_back()

    def action_add(self) -> None:
        if self._writable():
            self._open_form(None)

    def action_edit(self) -> None:
        if self.table.current is not None and self._writable():
            self._open_form(self.table.current)

    @work(thread=True, exit_on_error=False, exclusive=True, group="schedule-form")
    def _open_form(self, editing: Schedule | None) -> None:
        try:
            tables = [t.typed for t in self.database.source_tables()]
            kinds = self.database.kinds()
        except DatabaseError as exc:
            self.post_message(self.Said(error_text(exc), error=True))
            return
        self.app.call_from_thread(self._push_form, tables, kinds, editing)

    def _push_form(self, tables: list[str], kinds: list[KindChoice], editing: Schedule | None) -> None:
        def saved(schedule_id: int | None) -> None:
            if schedule_id is not None:
                self.notify(f"schedule {schedule_id} saved")
                self.reload()

        self.app.push_screen(ScheduleModal(Forms(self.database), tables, kinds, editing), saved)

    def action_toggle(self) -> None:
        row = self.table.current
        if row is not None and self._writable():
            self._write(
                lambda: self.database.update_schedule(row.id, enabled=not row.enabled),
                f"schedule {row.id} {'paused' if row.enabled else 'resumed'}",
            )

    def action_run_now(self) -> None:
        row = self.table.current
        if row is not None and self._writable():
            self._run(row.id)

    @work(thread=True, exit_on_error=False, exclusive=True, group="schedule-write")
    def _run(self, schedule_id: int) -> None:
        try:
            name, error = self.database.run_schedule(schedule_id)
        except DatabaseError as exc:
            self.post_message(self.Said(error_text(exc), error=True))
            return
        if name is not None:
            self.changed = True
            self.post_message(self.Said(f"schedule {schedule_id} made {name}"))
        else:
            self.post_message(self.Said(f"schedule {schedule_id} failed: {error}", error=True))
        self.app.call_from_thread(self.reload)

    def action_delete(self) -> None:
        row = self.table.current
        if row is None or not self._writable():
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._write(lambda: self.database.remove_schedule(row.id), f"schedule {row.id} deleted")

        body = f"{row.source}, {row.backup_kind}, {row.words}. The {row.backups} backup(s) it made stay."
        modal = ConfirmModal(f"Delete schedule {row.id}?", body, yes="Delete", no="Cancel", typed=str(row.id))
        self.app.push_screen(modal, answered)

    @work(thread=True, exit_on_error=False, exclusive=True, group="schedule-write")
    def _write(self, change, said: str) -> None:
        try:
            change()
        except DatabaseError as exc:
            self.post_message(self.Said(error_text(exc), error=True))
            return
        self.post_message(self.Said(said))
        self.app.call_from_thread(self.reload)

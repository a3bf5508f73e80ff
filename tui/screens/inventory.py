"""The main screen: the inventory table, its filter, summary and every key of the contract."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from tui.actions import ArchiveJob, DropJob, Forms, VerifyJob, siblings_of
from tui.config import default_archive_target, last_archive_target
from tui.db import Database, DatabaseError, Settings
from tui.inventory_state import InventoryState, Totals, total_size
from tui.listing import Prepared, quote_term
from tui.loading import Prefetch, bulk, reload_rows, thaw
from tui.modals.adopt import AdoptModal
from tui.modals.confirm import ConfirmModal
from tui.modals.create import CreateBackupModal
from tui.modals.drop import DropModal
from tui.modals.hold import HoldModal
from tui.model import (
    Backup,
    FleetTarget,
    KindChoice,
    Rule,
    SchemaState,
    ServerInfo,
    Status,
    TableEstimate,
    WriteResult,
)
from tui.screens.check import CheckScreen
from tui.screens.details import DetailsScreen
from tui.screens.diff import DiffScreen
from tui.screens.host import host
from tui.screens.listing_screen import SORT_BINDINGS, ListingScreen
from tui.screens.prune import PruneScreen
from tui.screens.schedules import SchedulesScreen
from tui.screens.sources import SourcesScreen, SourcesState
from tui.widgets.bars import ConnectionBar, Shown, SummaryBar, summary_line
from tui.widgets.inventory_table import InventoryTable
from tui.widgets.text import error_text, literal

EMPTY_TEXT = (
    "No backups yet.\n\n"
    "Back up a table before a risky change with\n"
    "  backup-tui create TABLE --reason 'why'\n"
    "or, in psql:  SELECT backup.create_table_backup('table', 'why');"
)

MARK_WORDS = "mark every row shown / clear every mark / invert the marks of rows shown"


class Loaded(Message):
    """A worker's rows, prepared off the UI thread (one of a progressive load's steps)."""

    def __init__(
        self,
        generation: int,
        info: ServerInfo,
        state: SchemaState,
        prepared: Prepared[Backup],
        totals: Totals,
        focus: str | None,
        estimated: bool,
        partial_of: int | None,
        widths: dict[str, int] | None = None,
    ) -> None:
        super().__init__()
        self.generation, self.info, self.state, self.prepared = generation, info, state, prepared
        self.totals, self.focus, self.estimated, self.partial_of = totals, focus, estimated, partial_of
        self.widths = widths  # the columns' ideal widths, measured in the worker (None: measure them)


class LoadFailed(Message):
    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


class Flagged(Message):
    """Rows with findings (drift, dependants): the cheap check after a load."""

    def __init__(self, names: set[str]) -> None:
        super().__init__()
        self.names = names


class Patched(Message):
    """Rows a write touched, read again (a create, an archive, an adoption, a verification)."""

    def __init__(self, asked: tuple[int, int], rows: list[Backup], focus: str | None) -> None:
        super().__init__()
        self.asked, self.rows, self.focus = asked, rows, focus


class OpenFleet(Message):
    """F: show the fleet (handled by the App, which owns the screens)."""

    def __init__(self, targets: list[FleetTarget], settings: Settings) -> None:
        super().__init__()
        self.targets, self.settings = targets, settings


_STATE_BANNERS: dict[SchemaState, tuple[str, str]] = {
    SchemaState.LEGACY: (
        "2025 backup layout, not upgraded: browsing only. Run `backup-tui install` to upgrade "
        "(every row and id is kept).",
        "warning",
    ),
    SchemaState.OUTDATED: ("The backup schema is older than this backup-tui: run `backup-tui install`.", "warning"),
    SchemaState.NEWER: ("The backup schema was installed by a newer backup-tui: browsing only.", "warning"),
}


class InventoryScreen(ListingScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        *SORT_BINDINGS,
        Binding("space", "mark", "Mark", id="mark", tooltip="mark / unmark the row (marks feed drop)"),
        Binding("asterisk", "mark_shown", "Mark all", show=False, id="mark-all", tooltip=MARK_WORDS),
        Binding("u", "clear_marks", "Unmark", show=False, id="mark-clear", tooltip=MARK_WORDS),
        Binding("i", "invert_marks", "Invert", show=False, id="mark-invert", tooltip=MARK_WORDS),
        Binding(
            "g",
            "grouped",
            "Tables",
            id="grouped",
            priority=True,
            tooltip="sizes per source table: count, size, reclaimable, share; enter: its backups",
        ),
        # priority: these open another screen, and the keys typed right after them (a name to
        # confirm, say) must reach that screen, not this one (see on_key for the same with "/").
        Binding(
            "enter",
            "details",
            "Info",
            show=False,
            id="details",
            priority=True,
            tooltip="details: columns, sizes, dependants, exact row count",
        ),
        Binding("c", "create", "Create", id="create", priority=True, tooltip="create a backup (table, reason, kind)"),
        Binding(
            "d",
            "drop",
            "Drop",
            id="drop",
            priority=True,
            tooltip="drop the marked backups, or the current one (typed confirmation)",
        ),
        Binding(
            "p",
            "prune",
            "Prune",
            id="prune",
            priority=True,
            tooltip="prune preview: decision and reason per backup; x applies, v marks reviewed",
        ),
        Binding(
            "exclamation_mark",
            "check",
            "Check",
            id="check",
            priority=True,
            tooltip="check: missing, unregistered, drift, dependants, exposure, and the fixing SQL",
        ),
        Binding(
            "F",
            "fleet",
            "Fleet",
            show=False,
            id="fleet",
            priority=True,
            tooltip="every database of the fleet (services, or the config's [fleet])",
        ),
        Binding(
            "S",
            "schedules",
            "Schedules",
            show=False,
            id="schedules",
            priority=True,
            tooltip="scheduled backups: next and last runs, pg_cron's jobs; add, edit, run",
        ),
        Binding(
            "R",
            "adopt",
            "Register",
            show=False,
            id="adopt",
            priority=True,
            tooltip="register (adopt) the unregistered table under the cursor",
        ),
        Binding(
            "A",
            "archive",
            "Archive",
            show=False,
            id="archive",
            priority=True,
            tooltip="archive the current backup to a directory or s3://…, verified, then dropped",
        ),
        Binding(
            "D",
            "diff",
            "Diff",
            show=False,
            id="diff",
            priority=True,
            tooltip="what changed since this backup: rows deleted, added and changed in its live table",
        ),
        Binding(
            "h",
            "hold",
            "Hold",
            show=False,
            id="hold",
            priority=True,
            tooltip="hold the marked backups or the current one (reason, until): never deleted; on held ones: release",
        ),
        Binding(
            "V",
            "verify",
            "Verify",
            show=False,
            id="verify",
            priority=True,
            tooltip="verify an archive: re-read it against its manifest and the catalogue",
        ),
        Binding(
            "r",
            "refresh",
            "Refresh",
            show=False,
            id="refresh",
            tooltip="refresh, keeping sort, filter, marks and cursor; reconnects when lost",
        ),
    ]

    def __init__(self, database: Database, prefetch: Prefetch, target: str | None = None) -> None:
        super().__init__()
        self.database = database
        self.prefetch = prefetch
        self.target = target  # opened from the fleet: this target's name (escape goes back)
        self.inventory = InventoryState()  # rows, totals, and the writes since the load in flight began
        self.listing = self.inventory.listing
        self.sizes_estimated = False
        self.partial_of: int | None = None  # only the biggest backups are loaded yet, of about this many
        self.info: ServerInfo | None = None
        self.database_bytes: int | None = None  # the whole database's size, once known
        self.state: SchemaState | None = None
        self.sources_state = SourcesState()
        self.from_groups: str | None = None  # the filter the grouped view's enter set: escape goes back

    def compose(self) -> ComposeResult:
        yield ConnectionBar(id="connection")
        yield Static(id="banner")
        yield InventoryTable(self.listing, id="inventory")
        yield Static(EMPTY_TEXT, id="empty")
        yield Static(id="filter")
        yield SummaryBar(id="summary")
        yield Footer(compact=True)

    @property
    def table(self) -> InventoryTable:
        return self.query_one(InventoryTable)

    def on_mount(self) -> None:
        if self.target:
            self.query_one(ConnectionBar).for_target(self.target)
        self.query_one(ConnectionBar).show(None, None, self.database.settings.as_of)
        self.query_one("#filter", Static).display = False
        self.query_one("#empty").display = False
        self.query_one("#banner").display = False
        self.table.focus()
        self.reload()

    # -- loading ---------------------------------------------------------------------
    def reload(self, focus: str | None = None) -> None:
        """Load the inventory again; the cursor stays on its backup, or moves to `focus`."""
        if self.info is None:  # (again) connecting
            self.query_one(ConnectionBar).show(None, None, self.database.settings.as_of)
            self.query_one("#empty", Static).update(Text("connecting…", "dim"))
        generation = self.inventory.begin_load()
        self.table.loading = True
        self._load(generation, focus)

    @work(thread=True, exit_on_error=False, exclusive=True, group="inventory")
    def _load(self, generation: int, focus: str | None = None) -> None:
        # Progressive on a large inventory: the first screen (the biggest backups, prefetched
        # while the UI was importing when the CLI started one), then every row with catalog size
        # estimates, then exact sizes (opening every table for pg_total_relation_size is most of a
        # cold query's time). Rows are sorted and indexed here, in the worker, and handed over as
        # messages: the UI thread only swaps them in, so keys stay responsive while 100,000 load.
        # The exact step reads sizes alone and shares every other value with the estimated rows:
        # the rows are not built twice (at 100,000 backups, the difference is ~100 MB at peak).
        try:
            if self.info is None:
                first = self.prefetch.take()
                step = (first.info, first.state, first.rows, focus, first.estimated, first.partial_of)
                if not (estimated := self._deliver(generation, *step)):
                    return
                info, state, rows = first.info, first.state, first.rows
                if first.partial_of is not None:
                    rows = self.prefetch.take_rest(state)
                    if not (estimated := self._deliver(generation, info, state, rows, focus, True)):
                        return
                if not first.estimated:
                    return
                if state is SchemaState.CURRENT:
                    rows = self.database.with_exact_sizes(rows)
                    self._deliver(generation, info, state, rows, focus, same_text=estimated)
                    return
                with bulk():
                    rows = self.database.inventory(state)
            else:
                thaw()
                info, state, rows = reload_rows(self.database)
        except DatabaseError as exc:
            self.post_message(LoadFailed(error_text(exc)))
            return
        self._deliver(generation, info, state, rows, focus)

    def _deliver(
        self,
        generation: int,
        info: ServerInfo,
        state: SchemaState,
        rows: list[Backup],
        focus: str | None,
        estimated: bool = False,
        partial_of: int | None = None,
        same_text: Prepared[Backup] | None = None,
    ) -> Prepared[Backup] | None:
        """From the worker: prepare rows (O(n log n) here) and post them to the screen; returns
        them prepared (a later step with the same text reuses their haystacks). None when a newer
        load replaced this one (its rows are the ones to show)."""
        with bulk():
            prepared = self.listing.prepare(rows, same_text, lean=estimated)
        totals = Totals.of(rows)
        widths = self.table.ideal_widths(prepared.base)  # O(n) here, not on the UI thread
        if get_current_worker().is_cancelled:
            return None
        self.post_message(Loaded(generation, info, state, prepared, totals, focus, estimated, partial_of, widths))
        return prepared

    def on_load_failed(self, message: LoadFailed) -> None:
        self._load_failed(message.message)

    def _load_failed(self, message: str) -> None:
        self.table.loading = False
        if self.info is None:  # never connected: the screen says so, and how to try again
            self._banner(None)
            self.query_one(ConnectionBar).failed()
            empty = self.query_one("#empty", Static)
            empty.update(Text.assemble(literal(message), ("\n\nq quits", "dim")))
            empty.display, self.table.display = True, False
            return
        self._banner(message, "error")
        self.notify(message, title="database error", severity="error", timeout=8)

    def on_loaded(self, message: Loaded) -> None:
        keep = message.focus or self.current_name()
        patched = self.inventory.loaded(message.generation, message.prepared, message.totals)
        if patched is None:
            return  # an older load's rows, overtaken by a newer one
        self.sizes_estimated, self.partial_of = message.estimated, message.partial_of
        self.info, self.state = message.info, message.state
        self.query_one(ConnectionBar).show(message.info, message.state, self.database.settings.as_of)
        self.table.loading = message.estimated and not message.prepared.base
        self.table.rows_changed(keep, reloaded=True, ideal=message.widths)
        if patched and message.widths is not None:
            self.table.widen_for(patched)
        self.update_summary()
        self._banner(*_STATE_BANNERS.get(message.state, (None, "warning")))
        self._show_empty_state()
        if not message.estimated and message.partial_of is None:
            self._flag_findings()  # once per load, on its final rows: not on each progressive step
            self._load_database_size()
        if message.state is SchemaState.ABSENT:
            self._offer_install()

    def _show_empty_state(self) -> None:
        empty = self.query_one("#empty", Static)
        if self.state is SchemaState.ABSENT:
            empty.update(
                "There is no backup schema in this database.\n\n"
                + (
                    "This session is read-only: ask someone with DDL rights to run `backup-tui install`."
                    if self.info and self.info.read_only
                    else "Run `backup-tui install`, or press r to be asked again."
                )
            )
        else:
            empty.update(EMPTY_TEXT)
        empty.display = self.listing.total == 0
        self.table.display = not empty.display

    def _offer_install(self, upgrade: bool = False) -> None:
        if self.info is None or self.info.read_only:
            return
        if upgrade:
            title = "Upgrade the backup schema first?"
            body = (
                "Creating and dropping need the current backup schema. The upgrade keeps every "
                "metadata row and id, widens row_count, replaces the broken inventory view and the "
                "definer function, and never widens grants — exactly `backup-tui install`."
            )
        else:
            title = "Install the backup schema?"
            body = (
                "This database has no `backup` schema yet. Install creates it (tables, functions, the "
                "inventory view) exactly as `backup-tui install` does. Nothing outside schema `backup` "
                "changes except two read-only compatibility wrappers in public."
            )

        def answered(yes: bool | None) -> None:
            if yes:
                self._install()

        self.app.push_screen(ConfirmModal(title, body, yes="Upgrade" if upgrade else "Install", no="Not now"), answered)

    @work(thread=True, exit_on_error=False, exclusive=True, group="inventory")
    def _install(self) -> None:
        try:
            report = self.database.install()
        except DatabaseError as exc:
            self.app.call_from_thread(self._load_failed, f"install failed: {error_text(exc)}")
            return
        applied = ", ".join((*report.migrations, *report.definitions)) or "nothing to do"
        self.app.call_from_thread(self.notify, f"installed: {applied}", title="backup schema")
        self.app.call_from_thread(self.reload)

    def _banner(self, message: str | None, kind: str = "warning") -> None:
        banner = self.query_one("#banner", Static)
        banner.set_classes(kind)
        banner.update(literal(message or ""))
        banner.display = bool(message)

    def update_summary(self) -> None:
        bar = self.query_one(SummaryBar)
        if self.partial_of is not None:
            total, about = self.listing.total, self.partial_of
            bar.show(
                lambda width: Text.assemble(
                    (f"the {total:,} biggest", "bold"),
                    f" of about {about:,} backups  ·  ",
                    ("loading the rest…", "dim italic"),
                )
            )
            return
        visible = self.listing.visible
        filtered = bool(self.listing.query)
        marked = self.listing.marked_rows()
        shown = Shown(
            visible=len(visible),
            visible_size=self.listing.visible_measure if filtered else self.inventory.totals.size,
            filtered=filtered,
            marked=len(marked),
            marked_size=total_size(marked),
            estimated=self.sizes_estimated,
            database_bytes=self.database_bytes,
        )
        totals = self.inventory.totals
        bar.show(lambda width: summary_line(totals, shown, width))

    # -- keys --------------------------------------------------------------------------
    def action_mark(self) -> None:
        current = self.table.current
        if current is None:
            return
        self.listing.toggle_mark(current)
        self.table.action_cursor(1)
        self.table.refresh()
        self.update_summary()

    def action_mark_shown(self) -> None:
        self.listing.mark_visible()
        self._marks_changed()

    def action_clear_marks(self) -> None:
        self.listing.clear_marks()
        self._marks_changed()

    def action_invert_marks(self) -> None:
        self.listing.invert_visible()
        self._marks_changed()

    def _marks_changed(self) -> None:
        self.table.refresh()
        self.update_summary()

    def action_grouped(self) -> None:
        """g: one row per source table; enter comes back filtered to that table's backups."""
        if self.info is None:
            return

        def chosen(source: str | None) -> None:
            if source is None:
                return
            self.from_groups = f"source:={quote_term(source)}"
            self.set_filter(self.from_groups)

        screen = SourcesScreen(self.listing.all, self.sources_state, partial=self.partial_of is not None)
        self.app.push_screen(screen, chosen)

    def action_clear_filter(self) -> None:
        if self.target and not self.filtering and not self.listing.query:
            self.dismiss(None)  # back to the fleet
            return
        back = self.from_groups is not None and not self.filtering and self.filter_text == self.from_groups
        super().action_clear_filter()
        self.from_groups = None
        if back:
            self.action_grouped()

    def action_details(self) -> None:
        current = self.table.current
        if current is None or self.state is None:
            return
        self.app.push_screen(DetailsScreen(current, self.database, self.state))

    def action_diff(self) -> None:
        current = self.table.current
        if current is None or self.state is not SchemaState.CURRENT:
            return
        if current.status in (Status.ARCHIVED, Status.MISSING, Status.UNREGISTERED):
            self.notify(
                f"D compares a backup's table with its source: this one is {current.status}.", severity="warning"
            )
            return
        self.app.push_screen(DiffScreen(self.database, current.backup_table_name))

    def action_refresh(self) -> None:
        self.reload()

    def action_check(self) -> None:
        if self.state is not None and self.state is not SchemaState.ABSENT:
            self.app.push_screen(CheckScreen(self.database, self.state))

    def action_adopt(self) -> None:
        current = self.table.current
        if current is None or current.status is not Status.UNREGISTERED:
            self.notify("R registers an unregistered table: put the cursor on one.", severity="warning")
            return
        if self._may_write():
            self._open_adopt(current)

    @work(thread=True, exit_on_error=False, exclusive=True, group="adopt-form")
    def _open_adopt(self, backup: Backup) -> None:
        try:
            kinds = self.database.kinds()
        except DatabaseError as exc:
            self.app.call_from_thread(self.notify, error_text(exc), title="database error", severity="error")
            return

        def adopted(name: str | None) -> None:
            if name:
                self.notify(f"registered {name}")
                self.after_write(changed=[name], focus=name)

        self.app.call_from_thread(self.app.push_screen, AdoptModal(Forms(self.database), backup, kinds), adopted)

    def _flag_findings(self) -> None:
        """Rows with findings (drift, dependants) get a flag; a cheap, estimate-based check."""
        if self.state is not None and self.state is not SchemaState.ABSENT:
            self._load_flags(self.state)

    @work(thread=True, exit_on_error=False, exclusive=True, group="database-size")
    def _load_database_size(self) -> None:
        """The database's size, after the rows (pg_database_size reads every file's size: on a big
        inventory it must not hold up the first screen)."""
        try:
            size = self.database.database_size()
        except DatabaseError:
            return  # a courtesy figure; the load itself reports database errors
        self.app.call_from_thread(self._database_size_known, size)

    def _database_size_known(self, size: int | None) -> None:
        self.database_bytes = size
        self.update_summary()

    @work(thread=True, exit_on_error=False, exclusive=True, group="flags")
    def _load_flags(self, state: SchemaState) -> None:
        try:
            findings = self.database.flags(state)
        except DatabaseError:
            return  # flags are a hint; the load itself reports database errors
        self.post_message(Flagged({f.subject for f in findings}))

    def on_flagged(self, message: Flagged) -> None:
        self.table.set_flags(message.names)

    # -- after a write: patch the rows it touched, no whole reload ----------------------------
    def after_write(
        self, removed: set[str] | None = None, changed: list[str] | None = None, focus: str | None = None
    ) -> None:
        """Rows a write removed go at once (O(n), no re-sort); rows it changed or made are read
        again by name (backup.inventory_rows(names): an indexed look-up) and patched in. Both are
        kept until the next whole load: a load step still running was read before the write."""
        if self.state is None:
            self.reload(focus)
            return
        if removed:
            keep = self.current_name()
            self.inventory.remove(removed)
            self.table.flags -= set(removed)
            self.table.rows_changed(keep)
            self.update_summary()
            self._show_empty_state()
        if changed:
            self._patch(self.inventory.ask_patch(), list(changed), focus)

    @work(thread=True, exit_on_error=False, group="patch")
    def _patch(self, asked: tuple[int, int], names: list[str], focus: str | None) -> None:
        try:
            rows = self.database.inventory(self.state, names=names) if self.state is not None else []
        except DatabaseError as exc:
            self.post_message(LoadFailed(error_text(exc)))
            return
        self.post_message(Patched(asked, rows, focus))

    def on_patched(self, message: Patched) -> None:
        keep = message.focus or self.current_name()
        taken = self.inventory.patch(message.asked, message.rows)
        if taken is None:
            return  # a whole load began meanwhile: it reads them itself
        self.table.widen_for(taken)
        self.table.rows_changed(keep)
        self.update_summary()
        self._show_empty_state()

    def action_archive(self) -> None:
        current = self.table.current
        if current is None or not self._may_write():
            return
        if current.status is Status.UNREGISTERED:
            self.notify("This table is not registered yet: register it first (R), then archive it.", severity="warning")
            return
        if current.status is Status.ARCHIVED:
            self.notify("This backup is archived already: V verifies its archive.", severity="warning")
            return
        if current.status is Status.MISSING:
            self.notify("This backup's table is gone: there is nothing to archive.", severity="warning")
            return

        def archived(result: WriteResult | None) -> None:
            if result:
                self.after_write(changed=[i.name for i in result.items])

        place = self.info.place if self.info else None
        target = (place and last_archive_target(place)) or default_archive_target(host(self).config)
        job = ArchiveJob(self.database, [current], target, siblings_of([current], self.listing.all))
        self.app.push_screen(DropModal(job, place), archived)

    def action_verify(self) -> None:
        """V: re-read the archives of the marked archived backups, or of the current one."""
        if self.info is None or self.state is None or not self.state.writable:
            return
        chosen = self.listing.marked_rows() or ([self.table.current] if self.table.current else [])
        archived = [b for b in chosen if b.status is Status.ARCHIVED]
        if not archived:
            self.notify("V verifies archives: put the cursor on an archived backup (or mark some).", severity="warning")
            return

        def verified(result: WriteResult | None) -> None:
            if result:
                self.after_write(changed=[i.name for i in result.items])

        self.app.push_screen(DropModal(VerifyJob(self.database, archived)), verified)

    def action_hold(self) -> None:
        """h: hold the marked backups (or the current one); when every one is held already, release."""
        if not self._may_write():
            return
        chosen = self.listing.marked_rows() or ([self.table.current] if self.table.current else [])
        chosen = [b for b in chosen if b.status is not Status.UNREGISTERED]
        if not chosen:
            self.notify("h holds registered backups: register this table first (R).", severity="warning")
            return
        names = [b.backup_table_name for b in chosen]
        if all(b.rule is Rule.HELD for b in chosen):
            what = names[0] if len(names) == 1 else f"these {len(names)} backups"

            def answered(yes: bool | None) -> None:
                if yes:
                    self._hold_write(names, None)

            body = "The retention policy applies to them again (they may be due for deletion at once)."
            modal = ConfirmModal(f"Release the hold on {what}?", body, yes="Release", no="Cancel")
            self.app.push_screen(modal, answered)
            return

        def held(answer: tuple[str, str | None] | None) -> None:
            if answer:
                self._hold_write(names, answer)

        self.app.push_screen(HoldModal(names), held)

    @work(thread=True, exit_on_error=False, group="hold")
    def _hold_write(self, names: list[str], hold: tuple[str, str | None] | None) -> None:
        forms = Forms(self.database)
        result = forms.release(names) if hold is None else forms.hold(names, *hold)
        verb = "released" if hold is None else "held"
        words = f"{verb} {len(result.done)}" + (f", failed {len(result.failed)}" if result.failed else "")
        for item in result.failed:
            words += f"\n{item.name}: {item.error}"
        severity = "information" if result.complete else "warning"
        self.app.call_from_thread(self.notify, words, severity=severity)
        self.app.call_from_thread(self.after_write, None, [i.name for i in result.items])

    def action_fleet(self) -> None:
        if self.target:
            self.dismiss(None)  # this database was opened from the fleet: back to it
            return
        targets = Database.fleet_targets((), (), host(self).config.fleet)
        if len(targets) < 2:
            self.notify(
                "No fleet: list targets in the config's [fleet] or define services in ~/.pg_service.conf.",
                severity="warning",
            )
            return
        self.post_message(OpenFleet(targets, self.database.settings))  # the App opens it (it knows the screens)

    def action_schedules(self) -> None:
        if self.state is None or self.info is None:
            return
        if self.state is not SchemaState.CURRENT:
            self.notify("Schedules need the current backup schema: run `backup-tui install`.", severity="warning")
            return

        def closed(_: None) -> None:
            if screen.changed:
                self.reload()

        screen = SchedulesScreen(self.database, self.info.read_only)
        self.app.push_screen(screen, closed)

    def action_prune(self) -> None:
        if self.state is None or self.info is None:
            return
        if not self.state.writable:
            self.notify("The prune plan needs the current backup schema: run `backup-tui install`.", severity="warning")
            return

        def closed(_: None) -> None:
            if screen.changed:
                self.reload()

        screen = PruneScreen(
            self.database, self.listing.get, self.info.read_only, self.database.settings.as_of, self.info.place
        )
        self.app.push_screen(screen, closed)

    # -- writes: create and drop ----------------------------------------------------------
    def _may_write(self) -> bool:
        """Explain and refuse when this session cannot write; offer the upgrade on a legacy layout."""
        if self.info is None or self.state is None:
            self.notify("Still loading: try again in a moment.", severity="warning")
            return False
        if self.info.read_only:
            self.notify(
                "This session is read-only (--read-only): nothing can be created or dropped.",
                title="read-only",
                severity="warning",
            )
            return False
        if self.state is SchemaState.NEWER:
            self.notify("The backup schema was installed by a newer backup-tui: use that version to write.")
            return False
        if not self.state.writable:
            self._offer_install(upgrade=self.state is not SchemaState.ABSENT)
            return False
        return True

    def action_create(self) -> None:
        if self._may_write():
            self._open_create()

    @work(thread=True, exit_on_error=False, exclusive=True, group="create-form")
    def _open_create(self) -> None:
        try:
            tables = self.database.source_tables()
            kinds = self.database.kinds()
        except DatabaseError as exc:
            self.app.call_from_thread(self.notify, error_text(exc), title="database error", severity="error")
            return
        self.app.call_from_thread(self._push_create, tables, kinds)

    def _push_create(self, tables: list[TableEstimate], kinds: list[KindChoice]) -> None:
        def created(name: str | None) -> None:
            if name:
                self.notify(f"created {name}", title="backup created")
                self.after_write(changed=[name], focus=name)

        self.app.push_screen(CreateBackupModal(Forms(self.database), tables, kinds), created)

    def action_drop(self) -> None:
        if not self._may_write():
            return
        chosen = self.listing.marked_rows() or ([self.table.current] if self.table.current else [])
        droppable = [b for b in chosen if b.status is not Status.UNREGISTERED]  # archived: forgotten, in words
        skipped = len(chosen) - len(droppable)
        if skipped:
            self.notify(
                f"{skipped} unregistered table(s) left out: register them first (backup-tui adopt).", severity="warning"
            )
        if not droppable:
            return

        job = DropJob(self.database, droppable, siblings_of(droppable, self.listing.all))

        def dropped(result: WriteResult | None) -> None:
            if not result:
                return
            self.notify(job.summary(result), severity="information" if result.complete else "warning")
            self.after_write(removed={i.name for i in result.done}, changed=[i.name for i in result.failed])

        self.app.push_screen(DropModal(job), dropped)

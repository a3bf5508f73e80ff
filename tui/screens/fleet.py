"""`backup-tui fleet --tui` (or `F`): one row per database of the fleet, as each answers; enter opens
that database's inventory (every screen and key as usual, its header in its own colour), escape
comes back with the fleet as it was and that row asked again. The fleet screen itself never writes."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Footer, Static

from tui import format as fmt
from tui.db import Database, Settings
from tui.loading import Prefetch
from tui.model import FleetRow, FleetTarget
from tui.screens.inventory import InventoryScreen
from tui.screens.listing_screen import SORT_BINDINGS, ListingScreen
from tui.widgets.bars import SummaryBar
from tui.widgets.fleet_table import FleetTable, fleet_listing


class FleetScreen(ListingScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        *SORT_BINDINGS,
        Binding("enter", "open", "Open", id="fleet-open", priority=True, tooltip="open this database's inventory"),
        Binding("r", "refresh", "Refresh", id="fleet-refresh", tooltip="ask every database again"),
        Binding(
            "R", "refresh_row", "Refresh row", show=False, id="fleet-refresh-row", tooltip="ask this database again"
        ),
    ]

    class Arrived(Message):
        """One database's summary, from a worker (they arrive in any order)."""

        def __init__(self, row: FleetRow) -> None:
            super().__init__()
            self.row = row

    def __init__(self, targets: list[FleetTarget], settings: Settings, workers: int = 8) -> None:
        super().__init__()
        self.targets = targets
        self.settings = settings  # lock and statement timeouts, what-if: every database opened gets them
        self.pool_size = workers
        self.listing = fleet_listing()

    def compose(self) -> ComposeResult:
        yield Static(Text("Fleet: every database", style="bold"), id="fleet-title")
        yield FleetTable(self.listing, id="fleet")
        yield Static(id="filter")
        yield SummaryBar(id="summary")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#filter", Static).display = False
        self.table.focus()
        self.action_refresh()

    def action_refresh(self) -> None:
        keep = self.current_name()
        self.listing.set_rows([self.listing.get(t.label) or FleetRow(t) for t in self.targets])
        self.table.rows_changed(keep, reloaded=True)
        self._ask(self.targets)

    def action_refresh_row(self) -> None:
        row = self.table.current
        if row is not None:
            self.listing.upsert([FleetRow(row.target)])
            self.table.rows_changed(row.target.label)
            self._ask([row.target])

    @work(thread=True, exit_on_error=False, group="fleet")
    def _ask(self, targets: list[FleetTarget]) -> None:
        for row in Database.fleet_summaries(targets, self.pool_size, self.settings.connect_timeout):
            self.post_message(self.Arrived(row))

    def on_fleet_screen_arrived(self, message: Arrived) -> None:
        # The cursor stays on its row, unless it is on the first: rows sort themselves as they
        # arrive, and the first line is where the eye is (the most reclaimable so far).
        keep = self.current_name() if self.table.cursor else None
        self.listing.upsert([message.row])
        self.table.rows_changed(keep, reloaded=True)
        self.update_summary()

    def update_summary(self) -> None:
        rows = self.listing.all
        up = [r for r in rows if r.reachable and r.state is not None]
        down = sum(1 for r in rows if r.error)
        waiting = len(rows) - len(up) - down
        text = Text.assemble(
            (f"{len(rows)} databases", "bold"),
            f"  ·  {sum(r.backups for r in up):,} backups  ·  {fmt.size(sum(r.size for r in up))}  ·  ",
            (fmt.size(sum(r.reclaimable for r in up)), "bold"),
            " reclaimable now",
            f"  ·  {sum(r.findings for r in up)} findings",
        )
        if down:
            text.append(f"  ·  {down} unreachable", "bold red")
        if waiting:
            text.append(f"  ·  {waiting} asking…", "dim italic")

        def fit(width: int) -> Text:
            line = text.copy()
            line.truncate(width, overflow="ellipsis")
            return line

        self.query_one(SummaryBar).show(fit)

    def action_open(self) -> None:
        row = self.table.current
        if row is None:
            return
        if row.error:
            self.notify(f"{row.target.label} is unreachable: {row.error}", severity="warning")
            return
        database = Database(replace(self.settings, dsn=row.target.dsn))
        screen = InventoryScreen(database, Prefetch.start(database), target=row.target.label)

        def back(_: None) -> None:
            database.close()
            self.listing.upsert([replace(row, state=None)])  # asking again: what was done there shows
            self._ask([row.target])

        self.app.push_screen(screen, back)

"""`!`: the same report as `backup-tui check`, grouped, with the SQL that fixes each finding."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.db import Database, DatabaseError
from tui.model import Category, Finding, SchemaState
from tui.widgets.text import error_text, literal


def report_text(findings: list[Finding]) -> Text:
    if not findings:
        return Text("Clean: nothing missing or unregistered, no drift, no dependants, nothing exposed.", style="bold")
    text = Text()
    for category in Category:
        group = [f for f in findings if f.category is category]
        if not group:
            continue
        text.append(f"{category.heading} ({len(group)})\n", "bold underline")
        for f in group:
            text.append("  ")
            text.append(literal(f.subject, "bold"))
            text.append(": ")
            text.append(literal(f.detail))
            text.append("\n")
            if f.fix:
                text.append("    ")
                text.append(literal(f.fix, "italic"))
                text.append("\n")
        text.append("\n")
    return text


class CheckScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back", id="check-back", tooltip="back to the backups"),
        Binding("e", "exact", "Exact row counts", id="check-exact", tooltip="count every backup's rows exactly (slow)"),
        Binding("r", "refresh", "Refresh", id="check-refresh", tooltip="check again"),
    ]

    def __init__(self, database: Database, state: SchemaState) -> None:
        super().__init__()
        self.database = database
        self.state = state
        self.exact = False

    def compose(self) -> ComposeResult:
        yield Static(Text("Check — integrity and exposure", style="bold"), id="check-title")
        with VerticalScroll(id="check-body"):
            yield Static(Text("checking…", style="dim"), id="check-report")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.run_check()

    def action_back(self) -> None:
        self.dismiss()

    def action_refresh(self) -> None:
        self.run_check()

    def action_exact(self) -> None:
        self.exact = True
        self.query_one("#check-report", Static).update(Text("counting every backup's rows…", style="dim"))
        self.run_check()

    @work(thread=True, exit_on_error=False, exclusive=True, group="check")
    def run_check(self) -> None:
        try:
            findings = self.database.check(self.state, fast=not self.exact)
        except DatabaseError as exc:
            self.app.call_from_thread(self._show, literal(error_text(exc), "bold red"))
            return
        how = "exact row counts" if self.exact else "row drift from estimates (press e for exact counts)"
        text = Text(f"{len(findings)} finding(s) · {how}\n\n", style="dim")
        self.app.call_from_thread(self._show, text + report_text(findings))

    def _show(self, text: Text) -> None:
        self.query_one("#check-report", Static).update(text)

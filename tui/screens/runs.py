"""The main screen: every run in a table, a filter, and the highlighted run's live progress."""

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Input

from vitlab.tui.widgets.run_summary import RunSummary
from vitlab.tui.widgets.runs_table import SORT_KEYS, RunsTable

FILTER_DELAY_S = 0.15


class RunsScreen(Screen):
    BINDINGS = [
        Binding("n", "launch", "New run", id="runs.launch"),
        Binding("enter", "open", "Open", id="runs.open", show=False),
        Binding("slash", "focus_filter", "Filter", id="runs.filter"),
        Binding("escape", "clear_filter", "Clear filter", id="runs.clear_filter", show=False),
        Binding("space", "mark", "Mark", id="runs.mark"),
        Binding("c", "compare", "Compare marked", id="runs.compare"),
        Binding("x", "cancel_run", "Cancel run", id="runs.cancel"),
        Binding("s", "sort", "Sort", id="runs.sort"),
        Binding("o", "open_report", "Report PNGs", id="runs.open_report"),
        Binding("r", "reload", "Reload", id="runs.reload", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="filter: type words (model, dataset, status, …)  / to focus, esc to clear", id="filter")
        yield RunsTable(id="runs")
        yield RunSummary(id="summary")
        yield Footer()

    def on_mount(self):
        self.query_one(RunsTable).focus()

    @property
    def table(self) -> RunsTable:
        return self.query_one(RunsTable)

    def apply(self, changed, removed):
        table = self.table
        table.apply(changed, removed)
        current = table.current_row
        if current is not None and (current.id in {row.id for row in changed} or removed):
            self.query_one(RunSummary).show(current)
        elif current is None:
            self.query_one(RunSummary).show(None)
        self.sub_title = f"{len(table.all_rows)} runs in {self.app.runs_root}"

    # --- events -------------------------------------------------------------------------------
    _filter_timer = None

    def on_input_changed(self, event: Input.Changed):
        """Filter as you type, once typing pauses (a burst of keys costs one redraw)."""
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_DELAY_S, lambda: self._apply_filter(event.value))

    def _apply_filter(self, text):
        self._filter_timer = None
        self.table.set_filter(text)
        self.query_one(RunSummary).show(self.table.current_row)

    def on_input_submitted(self, event: Input.Submitted):
        self.table.focus()

    def on_data_table_row_highlighted(self, event):
        self.query_one(RunSummary).show(self.table.current_row)

    def on_data_table_row_selected(self, event):
        if event.data_table is self.table:
            self.action_open()

    # --- actions ------------------------------------------------------------------------------
    def action_focus_filter(self):
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self):
        box = self.query_one("#filter", Input)
        if box.value:
            box.value = ""
            self._apply_filter("")
        self.table.focus()

    def action_open(self):
        row = self.table.current_row
        if row is None:
            return
        from vitlab.tui.screens.detail import DetailScreen

        self.app.push_screen(DetailScreen(row))

    def action_launch(self):
        self.app.action_launch()

    def action_mark(self):
        self.table.toggle_mark()

    def action_compare(self):
        rows = self.table.marked_rows()
        if len(rows) < 2:
            self.notify("Mark two or more runs with space first.", severity="warning")
            return
        from vitlab.tui.screens.compare import CompareScreen

        self.app.push_screen(CompareScreen(rows))

    def action_cancel_run(self):
        self.app.cancel_run(self.table.current_row)

    def action_sort(self):
        keys = list(SORT_KEYS)
        table = self.table
        table.sort_by(keys[(keys.index(table.sort_column) + 1) % len(keys)])
        self.notify(f"sorted by {table.sort_column}{' (descending)' if table.sort_reverse else ''}", timeout=2)

    def action_open_report(self):
        self.app.open_report(self.table.current_row)

    def action_reload(self):
        self.app.refresh_runs()

"""One run: its resolved config, the log as it grows, result charts with tables, images."""

import json

from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane

from vitlab.results import Run, RunStoreError, run_facts
from vitlab.tui.run_images import run_images
from vitlab.tui.run_index import RunRow, format_duration
from vitlab.tui.widgets.curve_plot import CurvePlot
from vitlab.tui.widgets.event_log import EventLog
from vitlab.tui.widgets.image_view import ImagePanel
from vitlab.tui.widgets.result_table import ResultTable
from vitlab.tui.widgets.run_summary import RunSummary


def overview_text(row: RunRow):
    info = row.info or {}
    lines = [Text(row.id, style="bold"), f"status: {row.status}" + (f" — {row.reason}" if row.reason else "")]
    for key in ("name", "kind", "models", "dataset", "seed", "created", "finished", "host", "vitlab_version"):
        value = run_facts.models_of(info) if key == "models" else info.get(key)
        if value is not None and value != []:
            lines.append(f"{key}: {', '.join(map(str, value)) if isinstance(value, list) else value}")
    named = run_facts.headline_pattern(info)
    if row.headline:
        lines.append(f"headline: {row.headline}" + (" (named by the run)" if named else ""))
    elif named:
        lines.append(f"headline: {named} (named by the run; not written yet)")
    if row.duration_s is not None:
        lines.append(f"duration: {format_duration(row.duration_s)}")
    steps = info.get("steps") or {}
    if steps:
        lines.append("steps: " + ", ".join(f"{name} ({state})" for name, state in steps.items()))
    summary = info.get("summary") or {}
    if summary:
        lines.append(Text("summary", style="bold"))
    for key, value in summary.items():
        lines.append(f"  {key}: {value:.4g}" if isinstance(value, float) else f"  {key}: {value}")
    return Text("\n").join(line if isinstance(line, Text) else Text(line) for line in lines)


class DetailScreen(Screen):
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back", id="detail.back"),
        Binding("1", "tab('overview')", "Overview", id="detail.overview"),
        Binding("2", "tab('results')", "Results", id="detail.results"),
        Binding("3", "tab('log')", "Log", id="detail.log"),
        Binding("4", "tab('images')", "Images", id="detail.images"),
        Binding("o", "open_report", "Report PNGs", id="detail.open_report"),
        Binding("x", "cancel_run", "Cancel run", id="detail.cancel"),
        Binding("r", "reload", "Reload results", id="detail.reload"),
        Binding("e", "export_tables", "Export tables", id="detail.export"),
    ]

    def __init__(self, row: RunRow):
        super().__init__()
        self.row = row
        self.stored_run = Run(row.path)
        self.events_offset = 0

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="overview"):
            with TabPane("Overview", id="overview"):
                with Horizontal():
                    with VerticalScroll(id="overview-facts"):
                        yield Static(overview_text(self.row), id="facts")
                        yield RunSummary(id="detail-summary")
                    with VerticalScroll(id="overview-config"):
                        yield Static(id="config")
            with TabPane("Results", id="results"):
                yield VerticalScroll(Static("loading results…"), id="results-body")
            with TabPane("Log", id="log"):
                yield EventLog(id="events")
            with TabPane("Images", id="images"):
                yield Static("loading…", id="images-hint")
        yield Footer()

    def on_mount(self):
        self.title = "vitlab"
        self.sub_title = self.row.id
        self.query_one("#detail-summary", RunSummary).show(self.row)
        config = (self.row.info or {}).get("config")
        body = json.dumps(config, indent=2, sort_keys=True) if config is not None else "(no resolved config)"
        self.query_one("#config", Static).update(Syntax(body, "json", theme="ansi_dark", word_wrap=True))
        self.follow_events()
        self.load_results()
        self.set_interval(1.0, self.follow_events)

    # --- live parts ---------------------------------------------------------------------------
    def follow_events(self):
        events, self.events_offset = self.stored_run.events(since=self.events_offset)
        if events:
            self.query_one(EventLog).add_events(events)
        row = self.app.index_row(self.row.id)
        if row is not None and row is not self.row:
            finished = self.row.status in ("running", "starting", "created") and row.status not in (
                "running",
                "starting",
                "created",
            )
            self.row = row
            self.query_one("#facts", Static).update(overview_text(row))
            if finished:
                self.load_results()
        self.query_one("#detail-summary", RunSummary).show(self.row)

    @work(thread=True, exclusive=True, group="results")
    def load_results(self):
        try:
            results = self.stored_run.results()
            error = None
        except RunStoreError as problem:
            results, error = {}, str(problem)
        log = self.app.launch_log(self.row.id)
        images = run_images(self.row.path, [image for result in results.values() for image in result.images])
        self.app.call_from_thread(self.show_results, results, error, log, images)

    def show_results(self, results, error, log_line, images=()):
        body = self.query_one("#results-body", VerticalScroll)
        body.remove_children()
        if error:
            body.mount(Static(Text.assemble(("results unreadable: ", "bold red"), error)))
        elif not results:
            reason = self.row.reason or log_line or "no results yet"
            body.mount(Static(Text(f"No results stored yet ({reason}).")))
        widgets = []
        for key, result in results.items():
            title = Text.assemble(
                (key, "bold"), f" — {result.experiment}; models: {', '.join(map(str, result.models))}"
            )
            widgets.append(Static(title, classes="result-title"))
            plots = [CurvePlot([("", curve)]) for curve in result.curves]
            tables = [ResultTable(table) for table in result.tables]
            widgets.append(
                Horizontal(Vertical(*plots, classes="plots"), Vertical(*tables, classes="tables"), classes="result-row")
            )
            for note in result.notes:
                widgets.append(Static(Text(f"note: {note}"), classes="note"))
        if widgets:
            body.mount_all(widgets)
        pane = self.query_one("#images", TabPane)
        pane.remove_children()
        pane.mount(ImagePanel(self.row.path, images))

    # --- actions ------------------------------------------------------------------------------
    def action_tab(self, tab):
        self.query_one(TabbedContent).active = tab

    def action_open_report(self):
        self.app.open_report(self.row)

    def action_cancel_run(self):
        self.app.cancel_run(self.row)

    def action_reload(self):
        self.load_results()

    @work(thread=True, exclusive=True, group="export")
    def action_export_tables(self):
        """What `vitlab runs export RUN` writes: every result as tidy CSV tables in RUN/tables."""
        from vitlab.errors import UserError
        from vitlab.results.frames import export_run

        try:
            paths = export_run(self.stored_run, "csv", self.stored_run.path / "tables")
        except UserError as error:
            self.app.call_from_thread(self.notify, f"export failed: {error}", severity="error", timeout=10)
            return
        self.app.call_from_thread(self.notify, f"wrote {len(paths)} CSV tables to {paths[0].parent}", timeout=8)

"""Several runs side by side: the same experiment's curves overlaid, headline numbers in a table."""

from rich.table import Table as RichTable
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Select, Static

from vitlab.results import Run, RunStoreError
from vitlab.tui.widgets.curve_plot import CurvePlot


def overlay(results_by_run, key):
    """{curve title: [(run prefix, Curve)]} for result `key` across runs, in run order."""
    grouped = {}
    for run_id, results in results_by_run.items():
        result = results.get(key)
        if result is None:
            continue
        for curve in result.curves:
            grouped.setdefault(curve.title, []).append((f"{run_id[-6:]}:", curve))
    return grouped


class CompareScreen(Screen):
    BINDINGS = [Binding("escape,backspace", "app.pop_screen", "Back", id="compare.back")]

    def __init__(self, rows):
        super().__init__()
        self.rows = rows
        self.results_by_run = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Select([], prompt="experiment", id="compare-key", allow_blank=True)
        yield VerticalScroll(Static("loading results…"), id="compare-body")
        yield Footer()

    def on_mount(self):
        self.sub_title = f"comparing {len(self.rows)} runs"
        self.load()

    @work(thread=True, exclusive=True, group="compare")
    def load(self):
        loaded, problems = {}, []
        for row in self.rows:
            try:
                loaded[row.id] = Run(row.path).results()
            except RunStoreError as error:
                problems.append(f"{row.id}: {error}")
        self.app.call_from_thread(self.loaded, loaded, problems)

    def loaded(self, loaded, problems):
        self.results_by_run = loaded
        keys = []
        for results in loaded.values():
            keys += [key for key in results if key not in keys]
        shared = [key for key in keys if sum(key in results for results in loaded.values()) >= 2] or keys
        select = self.query_one(Select)
        select.set_options([(key, key) for key in shared])
        for problem in problems:
            self.notify(problem, severity="warning")
        if shared:
            select.value = shared[0]
        else:
            self.show(None)

    def on_select_changed(self, event: Select.Changed):
        self.show(event.value if isinstance(event.value, str) else None)

    def show(self, key):
        body = self.query_one("#compare-body", VerticalScroll)
        body.remove_children()
        if key is None:
            body.mount(Static("The marked runs have no stored results to compare."))
            return
        table = RichTable(title=f"{key}: headline numbers", box=None, header_style="bold")
        table.add_column("run")
        names = []
        for results in self.results_by_run.values():
            if key in results:
                names += [name for name in results[key].summary if name not in names]
        for name in names[:6]:
            table.add_column(name, justify="right")
        for run_id, results in self.results_by_run.items():
            summary = results[key].summary if key in results else {}
            table.add_row(run_id, *[_fmt(summary.get(name)) for name in names[:6]])
        widgets = [Static(table, classes="compare-table")]
        for title, curves in overlay(self.results_by_run, key).items():
            widgets.append(CurvePlot(curves))
        body.mount_all(widgets)


def _fmt(value):
    if value is None:
        return "—"
    return f"{value:.4g}" if isinstance(value, float) else str(value)

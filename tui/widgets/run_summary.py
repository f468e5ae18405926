"""The panel under the runs table: the highlighted run's state, live progress and latest metrics."""

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from vitlab.tui.run_index import RunRow, format_value


def metrics_text(metrics, limit=6):
    items = list(metrics.items())[-limit:]
    return "  ".join(f"{key}={format_value(value)}" for key, value in items)


class RunSummary(Vertical):
    """Shows one RunRow: what it is, why it is broken if it is, and how far it got."""

    DEFAULT_CSS = """
    RunSummary { height: auto; max-height: 7; padding: 0 1; border-top: solid $primary-darken-2; }
    RunSummary #summary-title { text-style: bold; }
    RunSummary ProgressBar { display: none; }
    RunSummary.-active ProgressBar { display: block; }
    """

    def compose(self) -> ComposeResult:
        yield Static("No run selected.", id="summary-title")
        yield Static("", id="summary-detail")
        yield ProgressBar(total=100, show_eta=False, id="summary-progress")
        yield Static("", id="summary-metrics")

    def show(self, row: RunRow | None):
        title = self.query_one("#summary-title", Static)
        detail = self.query_one("#summary-detail", Static)
        metrics = self.query_one("#summary-metrics", Static)
        bar = self.query_one(ProgressBar)
        if row is None:
            title.update("No run selected. Press n to launch one.")
            detail.update("")
            metrics.update("")
            self.remove_class("-active")
            return
        title.update(Text.assemble((row.id, "bold"), "  ", (row.status, "italic")))
        lines = []
        if row.reason:
            lines.append(Text(f"{'why' if row.status != 'starting' else 'note'}: {row.reason}", style="italic"))
        elif row.headline:
            lines.append(Text(f"headline: {row.headline}"))
        if row.info:
            lines.append(Text(f"path: {row.path}", style="dim"))
        detail.update(Text("\n").join(lines))
        progress = row.progress
        active = row.status in ("running", "starting", "created") and progress is not None
        self.set_class(active, "-active")
        if active:
            bar.update(total=max(progress.total, 1), progress=progress.done)
            label = f"{progress.step}  {progress.done}/{progress.total}" if progress.total else progress.step
            text = "  ".join(part for part in (label, metrics_text(progress.metrics), progress.message) if part)
            metrics.update(text)
        else:
            metrics.update("")

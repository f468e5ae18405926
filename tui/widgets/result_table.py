"""A Result Table (title, columns, rows) as a DataTable beside the charts."""

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from vitlab.tui.run_index import format_value


class ResultTable(Vertical):
    DEFAULT_CSS = """
    ResultTable { height: auto; margin-bottom: 1; }
    ResultTable > Static { text-style: bold; }
    ResultTable DataTable { height: auto; max-height: 20; }
    """

    def __init__(self, table, **kwargs):
        super().__init__(**kwargs)
        self.table = table

    def compose(self) -> ComposeResult:
        yield Static(self.table.title)
        yield DataTable(zebra_stripes=True, cursor_type="row")

    def on_mount(self):
        grid = self.query_one(DataTable)
        grid.add_columns(*[str(c) for c in self.table.columns])
        grid.add_rows([[format_value(v) for v in row] for row in self.table.rows])

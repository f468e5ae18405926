"""The runs table: sort, filter as you type, mark runs to compare, update cells in place.

A row is as tall as its models need (widgets/run_cells.py): a study's eight models all show.
"""

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from vitlab.tui.run_index import RunRow, format_duration
from vitlab.tui.widgets.run_cells import MODELS_WIDTH, clip, headline_lines, model_lines

STATUS_STYLE = {  # colours that read on both the light and the dark theme
    "running": "bold dodger_blue1",
    "starting": "dodger_blue1",
    "created": "dodger_blue1",
    "done": "green3",
    "failed": "bold red3",
    "interrupted": "dark_orange",
    "corrupt": "italic red3",
    "other version": "italic dark_orange",
    "incomplete": "italic grey50",
}
# (key, label, width): fixed widths spare DataTable measuring every cell of every rebuild
COLUMNS = (
    ("mark", " ", 1),
    ("time", "time", 16),
    ("name", "recipe / experiment", 20),
    ("models", "models", MODELS_WIDTH),
    ("dataset", "dataset", 16),
    ("status", "status", 13),
    ("duration", "duration", 8),
    ("headline", "headline metric", None),
)
SORT_KEYS = {
    "time": lambda row: row.sort_time,
    "name": lambda row: row.name,
    "models": lambda row: row.models,
    "dataset": lambda row: row.dataset,
    "status": lambda row: row.status,
    "duration": lambda row: row.duration_s or 0.0,
    "headline": lambda row: row.headline,
}
MODELS_COLUMN = [key for key, _, _ in COLUMNS].index("models")


def _height(cells):
    """A row is as tall as its models cell (the only one that wraps)."""
    return str(cells[MODELS_COLUMN]).count("\n") + 1


class RunsTable(DataTable):
    """DataTable of RunRows keyed by run id; keeps the cursor on the same run across updates."""

    DEFAULT_CSS = "RunsTable { height: 1fr; }"
    BINDINGS = [
        Binding("home,g", "first", "First run", show=False, id="runs.first"),
        Binding("end,G", "last", "Last run", show=False, id="runs.last"),
    ]

    def __init__(self, **kwargs):
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.all_rows: dict[str, RunRow] = {}
        self.visible_ids: list[str] = []
        self.filter_text = ""
        self.sort_column = "time"
        self.sort_reverse = True
        self.marked: set[str] = set()
        self._cell_cache: dict = {}
        self._sort_cache: dict = {}

    def on_mount(self):
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    # --- cells ------------------------------------------------------------------------------
    def _status_cell(self, row):
        text = row.status
        if row.status == "running" and row.progress is not None and row.progress.total:
            text = f"running {row.progress.fraction:4.0%}"
        style = STATUS_STYLE.get(row.status, "")
        return Text(text, style=style)

    def cells(self, row):
        models = model_lines(row.models.split(", ")) if row.models else [""]
        headline = row.reason if row.reason and row.status != "done" else row.headline
        return {
            "mark": Text("●", style="bold") if row.id in self.marked else " ",
            "time": row.when,
            "name": clip(row.name or row.id, 20),
            "models": Text("\n".join(models)),
            "dataset": clip(row.dataset, 16),
            "status": self._status_cell(row),
            "duration": format_duration(row.duration_s),
            "headline": Text("\n".join(headline_lines(headline, len(models)))),
        }

    # --- rows -------------------------------------------------------------------------------
    @property
    def current_id(self):
        if not self.visible_ids or self.cursor_row < 0 or self.cursor_row >= len(self.visible_ids):
            return None
        return self.visible_ids[self.cursor_row]

    @property
    def current_row(self):
        run_id = self.current_id
        return self.all_rows.get(run_id) if run_id else None

    def _cached_cells(self, row):
        """Cells of a row, computed once per RunRow object (a changed run is a new object)."""
        key = (id(row), row.id in self.marked, row.status == "running")
        cached = self._cell_cache.get(row.id)
        if cached is not None and cached[0] == key and row.status != "running":
            return cached[1]
        cells = tuple(self.cells(row).values())
        self._cell_cache[row.id] = (key, cells)
        return cells

    def _ordered(self):
        rows = [row for row in self.all_rows.values() if not self.filter_text or row.matches(self.filter_text)]
        key = SORT_KEYS[self.sort_column]
        rows.sort(key=lambda row: self._sort_value(row, key), reverse=self.sort_reverse)
        return rows

    def _sort_value(self, row, key):
        cached = self._sort_cache.get((row.id, self.sort_column))
        if cached is not None and cached[0] is row:
            return cached[1]
        value = key(row)
        self._sort_cache[(row.id, self.sort_column)] = (row, value)
        return value

    def rebuild(self):
        """Redraw every row (filter, sort or membership changed); the cursor stays on its run."""
        keep = self.current_id
        rows = self._ordered()
        self.clear(columns=False)
        self.visible_ids = [row.id for row in rows]
        for row in rows:
            cells = self._cached_cells(row)
            self.add_row(*cells, height=_height(cells))
        if keep in self.visible_ids:
            self.move_cursor(row=self.visible_ids.index(keep), animate=False)

    def apply(self, changed, removed):
        """Merge a refresh: update cells in place, rebuild only when rows appear, vanish or
        change height (their models came with their run.json)."""
        structural = bool(removed)
        for run_id in removed:
            self.all_rows.pop(run_id, None)
            self._cell_cache.pop(run_id, None)
            self.marked.discard(run_id)
        positions = {run_id: index for index, run_id in enumerate(self.visible_ids)}
        updates = []
        for row in changed:
            self.all_rows[row.id] = row
            shown = row.id in positions
            wanted = not self.filter_text or row.matches(self.filter_text)
            if shown != wanted:
                structural = True
            elif shown:
                cells = self.cells(row)
                if _height(tuple(cells.values())) != self.ordered_rows[positions[row.id]].height:
                    structural = True
                updates.append((row, cells))
        if structural:
            self.rebuild()
            return
        for row, cells in updates:
            index = positions[row.id]
            for key, value in cells.items():
                self.update_cell_at((index, self._column_index(key)), value)

    def _column_index(self, key):
        return [column_key.value for column_key in self.columns].index(key)

    def set_filter(self, text):
        self.filter_text = text.strip()
        self.rebuild()

    def sort_by(self, column):
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, column in ("time", "duration")
        self.rebuild()

    def toggle_mark(self):
        row = self.current_row
        if row is None:
            return
        self.marked.symmetric_difference_update({row.id})
        self.update_cell_at((self.cursor_row, 0), self.cells(row)["mark"])

    def marked_rows(self):
        return [self.all_rows[run_id] for run_id in self.visible_ids if run_id in self.marked]

    def action_first(self):
        self.move_cursor(row=0)

    def action_last(self):
        self.move_cursor(row=max(0, len(self.visible_ids) - 1))

    def on_data_table_header_selected(self, event):
        if event.column_key.value in SORT_KEYS:
            self.sort_by(event.column_key.value)

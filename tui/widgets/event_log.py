"""The run's events.jsonl as a log that follows new lines (progress lines merged)."""

import datetime as dt

from rich.text import Text
from textual.widgets import RichLog

from vitlab.tui.run_index import format_value

KIND_STYLE = {"error": "bold red3", "done": "green3", "step": "bold", "metric": "dodger_blue1", "log": ""}


def event_text(event):
    stamp = dt.datetime.fromtimestamp(event.get("time", 0)).strftime("%H:%M:%S")
    kind = str(event.get("kind", "?"))
    step = str(event.get("step", "") or "")
    if kind == "progress":
        extra = {k: v for k, v in event.items() if k not in ("time", "kind", "step", "done", "total")}
        body = f"{event.get('done')}/{event.get('total')} " + " ".join(
            f"{k}={format_value(v)}" for k, v in extra.items()
        )
    elif kind == "metric":
        body = f"{event.get('name')} = {format_value(event.get('value'))}"
    else:
        body = str(event.get("message", ""))
    return Text.assemble(
        (stamp + " ", "dim"), (f"{kind:<8} ", KIND_STYLE.get(kind, "")), (f"[{step}] " if step else "", "dim"), body
    )


class EventLog(RichLog):
    """Appends events; consecutive progress events of one step replace each other."""

    DEFAULT_CSS = "EventLog { height: 1fr; }"

    def __init__(self, **kwargs):
        super().__init__(wrap=True, markup=False, highlight=False, max_lines=2000, **kwargs)
        self._pending_progress = None

    def add_events(self, events):
        for event in events:
            if event.get("kind") == "progress":
                self._pending_progress = event
                continue
            self._flush()
            self.write(event_text(event))
        self._flush()

    def _flush(self):
        if self._pending_progress is not None:
            self.write(event_text(self._pending_progress))
            self._pending_progress = None

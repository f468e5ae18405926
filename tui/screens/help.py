"""`?`: every key of the screen underneath and of the app, with what it does."""

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

INTRO = """[b]vitlab tui[/b] — launch the paper's experiments and browse their results.
Runs live under the runs root; each is a directory with run.json, events.jsonl and results.h5.
The table refreshes by itself. Runs you launch keep running when you quit.
Ctrl+P opens the command palette: every action is there too."""


def bindings_table(screen, app):
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("action")
    table.add_column("where", style="dim")
    seen = set()
    for where, owner in (("this screen", screen), ("everywhere", app)):
        for binding in owner.BINDINGS:
            if not isinstance(binding, Binding) or not binding.description:
                continue
            key = app.get_key_display(binding)
            if (key, binding.description) in seen:
                continue
            seen.add((key, binding.description))
            table.add_row(key, binding.description, where)
    return table


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Close help", id="help.close")]

    def __init__(self, target):
        super().__init__()
        self.target = target

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Static(INTRO, id="help-intro")
            yield Static(bindings_table(self.target, self.app), id="help-keys")
            yield Static("[dim]escape closes this help[/dim]")

"""The vitlab dashboard: an app factory separate from the CLI, so tests build the app directly.

The app owns the run index (polled in a worker thread) and the launcher; screens ask it to
start, cancel and open things, so every screen behaves the same way.
"""

import functools
from pathlib import Path

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding

from vitlab.tui.launcher import DEFAULT_PROGRAM, Launcher, LaunchRequest, last_line
from vitlab.tui.run_index import ACTIVE, RunIndex, RunRow
from vitlab.tui.screens.runs import RunsScreen


class VitlabApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "vitlab"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("ctrl+t", "toggle_theme", "Light/dark", id="app.theme"),
    ]

    def __init__(self, runs_root="runs", program=DEFAULT_PROGRAM, poll_interval=1.0):
        super().__init__()
        self.runs_root = Path(runs_root)
        self.index = RunIndex(self.runs_root)
        self.launcher = Launcher(self.runs_root, program=program)
        self.poll_interval = poll_interval
        self.focus_run = None
        self._scanning = False
        self.theme = "textual-dark"

    def get_default_screen(self):
        return RunsScreen()

    def on_mount(self):
        self.sub_title = str(self.runs_root)
        self.refresh_runs()
        self.set_interval(self.poll_interval, self.tick)

    @property
    def runs_screen(self) -> RunsScreen:
        return self.screen_stack[0]

    # --- polling ------------------------------------------------------------------------------
    def tick(self):
        for launch, code, line in self.launcher.finished():
            name = launch.run_dir.name
            if code != 0 and not (launch.run_dir / "run.json").exists():
                self.index.launch_failed(launch.run_dir, line or f"exited with code {code}")
                self.notify(f"{name} did not start: {line}", severity="error", timeout=10)
            elif code == 0:
                self.notify(f"{name} finished", timeout=5)
            elif code == 130 or "interrupt" in line:
                self.notify(f"{name} interrupted; it can be resumed", severity="warning")
            else:
                self.notify(f"{name} failed: {line}", severity="error", timeout=10)
        self.refresh_runs()

    def refresh_runs(self):
        if not self._scanning:
            self._scanning = True
            self._scan()

    @work(thread=True, group="scan")
    def _scan(self):
        try:
            changed, removed = self.index.refresh()
        finally:
            self._scanning = False
        if changed or removed:
            self.call_from_thread(self._apply_scan, changed, removed)

    def _apply_scan(self, changed, removed):
        screen = self.runs_screen
        screen.apply(changed, removed)
        table = screen.table
        if self.focus_run and self.focus_run in table.visible_ids:
            table.move_cursor(row=table.visible_ids.index(self.focus_run), animate=False)
            self.focus_run = None

    def index_row(self, run_id) -> RunRow | None:
        return self.index.get(run_id)

    def launch_log(self, run_id):
        path = self.runs_root / ".logs" / f"{run_id}.log"
        return last_line(path) if path.exists() else ""

    # --- actions shared by the screens ------------------------------------------------------------
    def action_launch(self):
        from vitlab.tui.screens.launch import LaunchScreen

        self.push_screen(LaunchScreen())

    def start_run(self, request: LaunchRequest):
        launch = self.launcher.start(request)
        self.index.expect(launch.run_dir, "launched; waiting for the process to create the run")
        self.focus_run = launch.run_dir.name
        self.notify(f"started {request.label} → {launch.run_dir.name}", timeout=4)
        self.refresh_runs()
        return launch

    def cancel_run(self, row: RunRow | None):
        if row is None:
            return
        row = self.index.get(row.id) or row
        if row.status not in ACTIVE:
            self.notify(f"{row.id} is {row.status}; nothing to cancel", severity="warning")
            return
        from vitlab.tui.screens.confirm import ConfirmScreen

        def answer(yes):
            if not yes:
                return
            if self.launcher.cancel(row.path, row.info):
                self.notify(f"cancelling {row.id}: it will stop as 'interrupted' and can be resumed")
            else:
                self.notify(f"{row.id}: no process to stop (already ended?)", severity="warning")
            self.refresh_runs()

        question = (
            f"Cancel run {row.id}?\n\nIt stops now and is marked interrupted; finished steps are kept "
            "and the run can be resumed."
        )
        self.push_screen(ConfirmScreen(question, yes="Cancel run", no="Keep running"), answer)

    def open_report(self, row: RunRow | None):
        if row is None:
            return
        from vitlab.tui.viewer import open_files

        pngs = sorted((row.path / "report").glob("*.png"))
        if not pngs:
            self.notify(f"no report PNGs in {row.path / 'report'}", severity="warning")
        elif not open_files(pngs[:12]):
            self.notify("no system viewer (xdg-open/open); the PNGs are in " + str(row.path / "report"), timeout=10)
        else:
            self.notify(f"opening {min(len(pngs), 12)} PNG(s) from {row.path / 'report'}")

    def action_help(self):
        from vitlab.tui.screens.help import HelpScreen

        if type(self.screen).__name__ != "HelpScreen":
            self.push_screen(HelpScreen(self.screen))

    def action_toggle_theme(self):
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def get_system_commands(self, screen):
        """The palette lists every action of the current screen and of the app, with its key."""
        yield from super().get_system_commands(screen)
        for owner in (screen, self):
            for binding in owner.BINDINGS:
                if isinstance(binding, Binding) and binding.description and binding.action != "quit":
                    key = self.get_key_display(binding)
                    yield SystemCommand(
                        binding.description, f"key: {key}", functools.partial(owner.run_action, binding.action)
                    )


def create_app(runs_root="runs", program=DEFAULT_PROGRAM, poll_interval=1.0) -> VitlabApp:
    """Build the dashboard for a runs root; `program` is what launches runs (tests inject a stand-in)."""
    return VitlabApp(runs_root=runs_root, program=program, poll_interval=poll_interval)

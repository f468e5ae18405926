"""Start and cancel runs as `vitlab` subprocesses, so the TUI never loads TensorFlow.

Each launch gets its run directory named up front (passed as --out), so the new run shows
in the table at once; its stdout/stderr go to RUNS/.logs/<run id>.log (outside the run, so
a launch that fails before creating the run still leaves its reason). Processes start in
their own session: quitting the TUI does not stop them. The program is injectable, so
tests stand a small script in for `vitlab`.
"""

import dataclasses
import datetime as dt
import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path

DEFAULT_PROGRAM = (sys.executable, "-m", "vitlab.cli")


@dataclasses.dataclass
class LaunchRequest:
    """What the form asks for: an experiment (kind = its name) or a recipe (kind = 'recipe')."""

    kind: str
    models: list = dataclasses.field(default_factory=list)
    dataset: str = "shapes"
    recipe: str = ""
    split: str = "test"
    limit: int | None = None
    seed: int = 0
    options: list = dataclasses.field(default_factory=list)  # key=value strings

    @property
    def label(self):
        return self.recipe if self.kind == "recipe" else self.kind

    def arguments(self, runs_root, run_dir):
        """The `vitlab` arguments for this request."""
        if self.kind == "recipe":
            args = ["recipe", "run", self.recipe, "--runs", str(runs_root), "--out", str(run_dir), "--quiet"]
        else:
            args = ["eval", self.kind]
            for model in self.models:
                args += ["--model", model]
            args += [
                "--dataset",
                self.dataset,
                "--split",
                self.split,
                "--seed",
                str(self.seed),
                "--runs",
                str(runs_root),
                "--out",
                str(run_dir),
                "--quiet",
            ]
            if self.limit is not None:
                args += ["--limit", str(self.limit)]
        for option in self.options:
            args += ["--set", option]
        return args


@dataclasses.dataclass
class Launch:
    run_dir: Path
    log_path: Path
    command: list
    process: subprocess.Popen


def _slug(text):
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)
    return "-".join(part for part in keep.split("-") if part)[:40] or "run"


class Launcher:
    def __init__(self, runs_root, program=DEFAULT_PROGRAM):
        self.runs_root = Path(runs_root)
        self.program = list(program)
        self.launches: dict[str, Launch] = {}

    def new_run_dir(self, label):
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        return self.runs_root / f"{stamp}-{_slug(label)}-{secrets.token_hex(3)}"

    def start(self, request: LaunchRequest) -> Launch:
        run_dir = self.new_run_dir(request.label)
        logs = self.runs_root / ".logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / f"{run_dir.name}.log"
        command = self.program + request.arguments(self.runs_root, run_dir)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
        with open(log_path, "w") as log:
            log.write("$ " + " ".join(command) + "\n")
            log.flush()
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, env=env
            )
        launch = Launch(run_dir=run_dir, log_path=log_path, command=command, process=process)
        self.launches[run_dir.name] = launch
        return launch

    def finished(self):
        """Launches whose process ended since the last call: [(launch, return code, last log line)]."""
        ended = []
        for name, launch in list(self.launches.items()):
            code = launch.process.poll()
            if code is None:
                continue
            del self.launches[name]
            ended.append((launch, code, last_line(launch.log_path)))
        return ended

    def cancel(self, run_dir, info=None):
        """SIGTERM the run's process (the run records 'interrupted' and stays resumable)."""
        launch = self.launches.get(Path(run_dir).name)
        pid = None
        if info and info.get("status") == "running" and info.get("host") == socket.gethostname():
            pid = info.get("pid")
        if pid is None and launch is not None:
            pid = launch.process.pid
        if not pid:
            return False
        try:
            os.kill(int(pid), signal.SIGTERM)
        except ProcessLookupError:
            return False
        return True


def last_line(path, limit=4096):
    """The last non-empty line of a log: where `vitlab` prints `error: ...`."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - limit))
            text = handle.read().decode(errors="replace")
    except OSError:
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    return (errors or lines or [""])[-1]

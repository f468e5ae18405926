"""A run's committed checkpoint state, read without Keras: which weights file is the newest,
how long the step has trained, and a copy of what a resume needs. The study's and the
learning curves' packers call it from processes that never load TensorFlow."""

import json
import shutil
import time
from pathlib import Path

STATE_FILE = "state.json"


def read_state(directory):
    """{'epoch', 'batch', 'weights'} of the last committed checkpoint, or None."""
    file = Path(directory) / STATE_FILE
    try:
        state = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if not (Path(directory) / state.get("weights", "")).is_file():
        return None
    return state


def copy_newest(run_dir, out_dir):
    """Copy each step's last committed checkpoint (weights and state, nothing older) from
    `run_dir/checkpoints/STEP` into `out_dir/checkpoints/STEP`: what a resume needs, for packs
    that carry a run to another machine."""
    for step in sorted((Path(run_dir) / "checkpoints").glob("*")):
        state = read_state(step)
        if state:
            target = Path(out_dir) / "checkpoints" / step.name
            target.mkdir(parents=True)
            shutil.copyfile(step / state["weights"], target / state["weights"])
            shutil.copyfile(step / STATE_FILE, target / STATE_FILE)


class TrainingClock:
    """CPU and wall seconds spent training a step, across resumes: what the checkpoint recorded
    before this process, plus this process's own since the clock started (the time between a
    kill and the resume is not counted). Learning curves are plotted against the CPU-seconds as
    well as against steps; like wall time they depend on the load beside the run."""

    def __init__(self, cpu_before=0.0, wall_before=0.0):
        self.cpu_before, self.wall_before = float(cpu_before), float(wall_before)
        self.cpu_start, self.wall_start = time.process_time(), time.monotonic()

    @classmethod
    def resumed(cls, directory):
        """The clock of the last committed checkpoint in `directory` (from 0 without one)."""
        state = read_state(directory) or {}
        return cls(state.get("cpu_s", 0.0), state.get("wall_s", 0.0))

    def seconds(self):
        """CPU-seconds so far."""
        return round(self.cpu_before + time.process_time() - self.cpu_start, 2)

    def wall_seconds(self):
        return round(self.wall_before + time.monotonic() - self.wall_start, 1)


def trained_wall_seconds(directory):
    """The training wall seconds the last committed checkpoint recorded (0 without one)."""
    return float((read_state(directory) or {}).get("wall_s", 0.0))

"""Resume state saved by steps, not only at epoch ends, so a kill loses minutes, not an epoch.

Keras' BackupAndRestore can save every N batches, but it restores only the epoch number:
a kill in the middle of an hour-long epoch restarts that epoch. StepCheckpoint records
(epoch, batch) with the weights and optimizer state (model.save_weights holds both, the
optimizer's step counter included, so the learning-rate schedule continues), and `fit`
resumes at that batch on the same data stream: the training pipeline is one endless,
seeded stream, and skipping the batches already trained (read, not trained on) gives the
resumed run the same data order as an uninterrupted one.

Crash safety: the weights go to a new file, then state.json (replaced atomically) points at
it; the previous weights file is kept until the next one is committed. A kill at any
moment leaves either the old or the new state, never a torn one.
"""

import json
import time
from pathlib import Path

import keras

from vitlab import atomic

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
    import shutil

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


def restore(model, directory):
    """Load the last checkpoint into `model` (built, compiled); (epoch, batch) to resume at, (0, 0) if none."""
    state = read_state(directory)
    if state is None:
        return 0, 0
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    try:
        model.load_weights(str(Path(directory) / state["weights"]))
    except (OSError, ValueError, KeyError):
        return 0, 0  # unreadable or from another model: start the step over rather than guess
    return int(state["epoch"]), int(state["batch"])


class StepCheckpoint(keras.callbacks.Callback):
    """Save the resume state every `every_steps` batches and/or `minutes` of training, and at epoch ends.

    `batch_offset`: the batch a resumed partial epoch starts at (that fit call holds one epoch).
    """

    def __init__(self, directory, steps_per_epoch, every_steps=0, minutes=0.0, batch_offset=0, clock=None):
        super().__init__()
        self.directory = Path(directory)
        self.clock = clock  # TrainingClock: its figures go into the state, so a resume continues them
        self.steps_per_epoch, self.every_steps, self.seconds = steps_per_epoch, every_steps, minutes * 60
        self.batch_offset = batch_offset
        self.epoch, self.last_saved = 0, time.monotonic()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        done = batch + 1 + self.batch_offset  # a fit call with an offset holds one (partial) epoch
        if done >= self.steps_per_epoch:
            return  # the epoch end saves it
        by_steps = self.every_steps and done % self.every_steps == 0
        by_time = self.seconds and time.monotonic() - self.last_saved >= self.seconds
        if by_steps or by_time:
            self.save(self.epoch, done)

    def on_epoch_end(self, epoch, logs=None):
        self.save(epoch + 1, 0)

    def save(self, epoch, batch):
        self.directory.mkdir(parents=True, exist_ok=True)
        previous = read_state(self.directory)
        name = f"ckpt-{epoch:05d}-{batch:07d}.weights.h5"
        with atomic.replacing(self.directory / name, suffix=".weights.h5") as partial:  # Keras wants the ending
            self.model.save_weights(str(partial), overwrite=True)
        state = {"epoch": epoch, "batch": batch, "weights": name, "time": round(time.time(), 3)}
        if self.clock is not None:
            state.update(cpu_s=self.clock.seconds(), wall_s=self.clock.wall_seconds())
        atomic.write_json(self.directory / STATE_FILE, state)
        keep = {name, previous["weights"] if previous else name}
        for old in self.directory.glob("ckpt-*.weights.h5"):
            if old.name not in keep:
                old.unlink(missing_ok=True)
        self.last_saved = time.monotonic()

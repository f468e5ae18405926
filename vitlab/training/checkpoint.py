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

import time
from pathlib import Path

import keras

from vitlab import atomic
from vitlab.training.checkpoint_state import (  # noqa: F401 (the names callers import from here)
    STATE_FILE,
    TrainingClock,
    copy_newest,
    read_state,
    trained_wall_seconds,
)


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

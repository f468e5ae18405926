"""One trainer, driven three ways.

TrainingModel holds the student (and a frozen teacher) and defines the objective once, as
Keras' `compute_loss` / `compute_metrics`, so Keras' own per-backend `train_step` runs it:
tf.GradientTape on TensorFlow, jax.grad on JAX. Under one device, MirroredStrategy or (on
JAX) keras.distribution.DataParallel, model.fit drives it (with StepCheckpoint for
resume); under MultiWorkerMirroredStrategy, where model.fit fails (keras-team/keras#20585),
`custom_loop` runs the same `train_step` with strategy.run and resumes from a
tf.train.CheckpointManager. Both paths feed the same callbacks, so the progress bar,
TensorBoard logs and events.jsonl look the same.
"""

import contextlib
import math
import os
import statistics
from pathlib import Path

import keras
from keras import ops

from vitlab.training import distill
from vitlab.training.recipe_sections import DistillSection, OptimSection

TEACHER = "teacher"  # key of the teacher's logits among the heads `TrainingModel.call` returns


class TrainingModel(keras.Model):
    """The student, an optional frozen teacher, and the objective of vitlab.training.distill.

    `call` returns every head the loss needs ({'class'[, 'dist'][, 'teacher']}), so the
    teacher runs inside the model's forward pass: on JAX its weights then travel with the
    model's state instead of being baked into the compiled step as constants.
    """

    def __init__(self, student, teacher=None, distill_config=None, **kwargs):
        super().__init__(**kwargs)
        self.student = student
        self.teacher = teacher
        if teacher is not None:
            teacher.trainable = False
        self.distill_config = distill_config or DistillSection()
        self.accuracy_tracker = keras.metrics.CategoricalAccuracy(name="accuracy")
        self.built = True  # no weights of its own; the student is built (BackupAndRestore checks)

    def call(self, images, training=False):
        heads = distill.student_heads(self.student, images, training)
        if self.teacher is not None:
            heads[TEACHER] = distill.teacher_logits(self.teacher, images)
        return heads

    @staticmethod
    def split(outputs):
        heads = {k: v for k, v in outputs.items() if k != TEACHER}
        return heads, outputs.get(TEACHER)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Mean distillation loss over the batch (scaled per replica under tf.distribute) plus
        the student's own losses."""
        from keras.src.losses.loss import scale_loss_for_distribution

        heads, teacher_out = self.split(y_pred)
        per_example = distill.per_example_loss(heads, y, teacher_out, self.distill_config)
        loss = scale_loss_for_distribution(ops.mean(per_example))
        for extra in self.losses:
            loss = loss + self._aggregate_additional_loss(extra)
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        heads, _ = self.split(y_pred)
        self.accuracy_tracker.update_state(y, distill.combined_logits(heads))
        return {m.name: m.result() for m in self.metrics}


def learning_rate(optim: OptimSection, steps_per_epoch):
    """Linear warmup to `learning_rate`, then cosine decay to `min_learning_rate` (DeiT)."""
    total = max(1, optim.epochs * steps_per_epoch)
    warmup = min(int(round(optim.warmup_epochs * steps_per_epoch)), total - 1)
    alpha = optim.min_learning_rate / optim.learning_rate
    if warmup <= 0:
        return keras.optimizers.schedules.CosineDecay(optim.learning_rate, total, alpha=alpha)
    return keras.optimizers.schedules.CosineDecay(
        optim.min_learning_rate, total - warmup, alpha=alpha, warmup_target=optim.learning_rate, warmup_steps=warmup
    )


def optimizer(optim: OptimSection, steps_per_epoch):
    return keras.optimizers.AdamW(
        learning_rate=learning_rate(optim, steps_per_epoch),
        weight_decay=optim.weight_decay,
        global_clipnorm=optim.clip_norm or None,
    )


class EventsCallback(keras.callbacks.Callback):
    """events.jsonl for the TUI: progress every `every` steps, metrics once per epoch."""

    def __init__(self, run, step, total_epochs, steps_per_epoch, every=20):
        super().__init__()
        self.run, self.step, self.every = run, step, every
        self.total_epochs, self.steps_per_epoch = total_epochs, steps_per_epoch
        self.epoch = 0
        self.batch_offset = 0  # where a resumed partial epoch starts (set by `fit`)
        self.clock = None  # checkpoint.TrainingClock, shared with the StepCheckpoint (set by `fit`)

    def on_train_begin(self, logs=None):
        if self.clock is None:  # one clock for all the fit calls of a step (a resume makes two)
            from vitlab.training.checkpoint import TrainingClock

            self.clock = TrainingClock()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        batch += self.batch_offset
        done = self.epoch * self.steps_per_epoch + batch + 1
        if (batch + 1) % self.every == 0:
            numbers = {k: float(v) for k, v in (logs or {}).items() if _is_number(v)}
            self.run.event(
                "progress",
                step=self.step,
                done=done,
                total=self.total_epochs * self.steps_per_epoch,
                epoch=self.epoch + 1,
                cpu_s=self.cpu_seconds(),
                **numbers,
            )

    def on_epoch_end(self, epoch, logs=None):
        done = (epoch + 1) * self.steps_per_epoch
        cpu = self.cpu_seconds()
        self.run.event(
            "progress",
            step=self.step,
            done=done,
            total=self.total_epochs * self.steps_per_epoch,
            epoch=epoch + 1,
            cpu_s=cpu,
        )
        for name, value in (logs or {}).items():
            if _is_number(value):
                self.run.event(
                    "metric", step=self.step, name=name, value=float(value), epoch=epoch + 1, done=done, cpu_s=cpu
                )

    def cpu_seconds(self):
        """CPU-seconds of training this step so far, a resumed step's included (checkpoint.TrainingClock)."""
        return self.clock.seconds()


def cumulative_cpu_seconds(events, step_key):
    """[(event, CPU-seconds so far)] for the step's events that carry cpu_s, in order.

    Runs logged before the clock carried over resumes restart at 0 after each resume; such a
    restart is rebased on the figure logged at the resume point, taken as the last one at or
    before the restart's first `done` less one logging interval (exact to that interval). A
    carried-over clock also steps back after a kill, to the checkpoint's figure (the work after
    it is redone), but not below the figure at the resume point: that is logged as it is."""
    rows = [e for e in events if e.get("step") == step_key and isinstance(e.get("cpu_s"), (int, float))]
    out, offset = [], 0.0
    for index, event in enumerate(rows):
        if out and event["cpu_s"] + offset < out[-1][1] - 1e-6:  # a resume: the old clock restarted, or a rollback
            later = [e["done"] for e in rows[index + 1 : index + 2]]
            interval = (later[0] - event["done"]) if later and later[0] > event["done"] else 0
            before = [total for e, total in out if e.get("done", 0) <= event["done"] - interval]
            resume_point = before[-1] if before else out[-1][1]
            if event["cpu_s"] + offset < resume_point:  # the old clock, restarted near 0
                offset = resume_point
        out.append((event, round(event["cpu_s"] + offset, 2)))
    return out


def steady_wall_seconds(events, step_key):
    """The step's training time at its steady pace: the last step reached times the median wall
    seconds a step between consecutive progress events. A pause (SIGSTOP), a kill and restart,
    a neighbour's burst, compilation and the epochs' validation passes each stretch only a few
    intervals, so the median leaves them out: what a quiet machine takes to train, without its
    start-up. None with fewer than 3 intervals."""
    rows = [
        e
        for e in events
        if e.get("step") == step_key
        and e.get("kind") == "progress"
        and _is_number(e.get("done"))
        and _is_number(e.get("time"))
    ]
    paces = [(b["time"] - a["time"]) / (b["done"] - a["done"]) for a, b in zip(rows, rows[1:]) if b["done"] > a["done"]]
    if len(paces) < 3:
        return None
    return round(statistics.median(paces) * max(e["done"] for e in rows), 1)


def _is_number(value):
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False


class SafeBackupAndRestore(keras.callbacks.BackupAndRestore):
    """BackupAndRestore that survives a kill while it writes (epoch-level; `fit` now resumes by steps
    with vitlab.training.checkpoint): with double_checkpoint the previous backup is used; when
    there is none (killed during the first save), the step starts over instead of failing."""

    def on_train_begin(self, logs=None):
        try:
            super().on_train_begin(logs)
        except OSError:
            for path in (
                self._weights_path,
                self._training_metadata_path,
                self._prev_weights_path,
                self._prev_training_metadata_path,
            ):
                if os.path.exists(path):
                    os.remove(path)


def stream_from(train, position):
    """The training stream from batch `position` on: `train` is a function start -> pipeline,
    which builds it there (augment.training_batches skips before augmenting: a resume at step
    18,000 of DeiT's recipe would otherwise augment 18,000 batches to discard them, half an
    hour on 2 cores), or a pipeline, read again and discarded up to it. Same order either way."""
    if callable(train):
        return train(position)
    return train.skip(position) if position else train


def fit(model, strategy, train, validation, epochs, steps_per_epoch, callbacks, checkpoint_dir, verbose, optim=None):
    """Train with model.fit, resuming at the last saved batch (vitlab.training.checkpoint).

    A resume inside an epoch runs that epoch's remaining batches as one short fit, then the
    remaining epochs; both read the seeded stream from where the checkpoint left it. `train`
    is the pipeline or a function start -> pipeline (`stream_from`): a rebuilt pipeline replays
    the seeded order, where a second iterator over one pipeline would be reshuffled.
    """
    import warnings

    from vitlab.training import checkpoint

    every, minutes = (optim.checkpoint_every_steps, optim.checkpoint_minutes) if optim else (0, 0.0)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():  # optimizer slots live there
        epoch, batch = checkpoint.restore(model, checkpoint_dir)
    clock = checkpoint.TrainingClock.resumed(checkpoint_dir) if epoch or batch else checkpoint.TrainingClock()
    logs = {}

    def run(start, end, steps, offset):
        saver = checkpoint.StepCheckpoint(
            checkpoint_dir, steps_per_epoch, every, minutes, batch_offset=offset, clock=clock
        )
        for callback in callbacks:
            if isinstance(callback, EventsCallback):
                callback.batch_offset, callback.clock = offset, clock
            if isinstance(callback, SnapshotCallback):
                callback.batch_offset = offset
        position = start * steps_per_epoch + offset
        data = stream_from(train, position)
        with warnings.catch_warnings():
            # Rebatched validation (full batches only) has no known length, so Keras reads the end
            # of each pass as the data running out; it is the end of the pass.
            warnings.filterwarnings("ignore", message="Your input ran out of data")
            history = model.fit(
                data,
                validation_data=validation,
                epochs=end,
                initial_epoch=start,
                steps_per_epoch=steps,
                shuffle=False,  # the tf.data pipeline shuffles
                callbacks=[saver, *callbacks],
                verbose=verbose,
            )
        logs.update({k: float(v[-1]) for k, v in history.history.items() if v})

    if batch and epoch < epochs:
        run(epoch, epoch + 1, steps_per_epoch - batch, batch)
        epoch += 1
    if epoch < epochs:
        run(epoch, epochs, steps_per_epoch, 0)
    return logs


def custom_loop(
    model,
    strategy,
    train,
    validation,
    epochs,
    steps_per_epoch,
    callbacks,
    checkpoint_dir,
    verbose,
    chief=True,
    every_steps=0,
    minutes=0.0,
):
    """The same train/test steps under strategy.run, resumable by steps like `fit`.

    The chief saves the resume state (vitlab.training.checkpoint: weights with the optimizer,
    epoch and batch) every `every_steps` batches and/or `minutes` of training and at each
    epoch end; a resume restores it on every worker (the run directory must be shared, as for
    Keras' BackupAndRestore), skips the batches already trained in a rebuilt stream (`train`:
    a pipeline or a function start -> pipeline) and continues inside the epoch, so the data
    order is the uninterrupted run's.
    """
    import tensorflow as tf

    from vitlab.training import checkpoint

    with strategy.scope():
        epoch, offset = checkpoint.restore(model, checkpoint_dir)  # builds the optimizer's slots
        if not model.optimizer.built:
            model.optimizer.build(model.student.trainable_variables)
    done = epoch * steps_per_epoch + offset
    clock = checkpoint.TrainingClock.resumed(checkpoint_dir) if done else checkpoint.TrainingClock()
    for callback in callbacks:
        if isinstance(callback, EventsCallback):
            callback.clock = clock
    data = stream_from(train, done)
    saver = (
        [checkpoint.StepCheckpoint(checkpoint_dir, steps_per_epoch, every_steps, minutes, clock=clock)] if chief else []
    )

    iterator = iter(strategy.experimental_distribute_dataset(data))
    distributed_train = tf.function(lambda it: strategy.run(model.train_step, args=(next(it),)))
    distributed_test = tf.function(lambda batch: strategy.run(model.test_step, args=(batch,)))
    callback_list = keras.callbacks.CallbackList(
        [*saver, *callbacks],
        add_history=True,
        add_progbar=verbose != 0,
        model=model,
        verbose=verbose,
        epochs=epochs,
        steps=steps_per_epoch,
    )
    results = lambda: {m.name: float(m.result()) for m in model.metrics}  # noqa: E731
    logs = {}
    callback_list.on_train_begin()
    for current in range(epoch, epochs):
        model.reset_metrics()
        callback_list.on_epoch_begin(current)
        for step in range(offset if current == epoch else 0, steps_per_epoch):  # absolute batch indices
            callback_list.on_train_batch_begin(step)
            distributed_train(iterator)
            callback_list.on_train_batch_end(step, results())
        logs = results()
        if validation is not None:
            model.reset_metrics()
            for batch in strategy.experimental_distribute_dataset(validation):
                distributed_test(batch)
            logs.update({f"val_{k}": v for k, v in results().items()})
        callback_list.on_epoch_end(current, logs)
    callback_list.on_train_end(logs)
    return logs


# Transformers with at most this many tokens train with XLA on TensorFlow; longer ones as graphs.
XLA_MAX_TOKENS = 128


def use_xla(student, strategy):
    """Always on JAX (its only fast path). On TensorFlow, XLA for float32 transformers of at most
    XLA_MAX_TOKENS tokens on one replica; graphs for the rest.

    Measured on 2 CPU threads, XLA against a graph step in alternating rounds (images per
    CPU-second, benchmarks/bench_throughput.py --variants default,train_graph): vit_nano_patch8_64
    (65 tokens) trains 1.08-1.16x as fast with XLA, resnet_nano_64 0.8x; DeiT-Ti/16 and DeiT-S/16
    at 224 (197 tokens) train 1.02-1.10x and 1.07x as fast as graphs, since XLA's CPU dots run the
    transposed products of attention's backward pass (dK, dV) at half the speed of the others, a
    cost that grows with the square of the tokens. Under mixed_bfloat16 on a CPU, graphs too:
    oneDNN runs bfloat16 matmuls with the CPU's bf16 instructions where XLA's CPU dots gain nothing
    (DeiT-Ti/16 trained 1.5x, vit_nano_patch8_64 1.13x as fast as a graph, AVX512-BF16 CPU).
    Under MirroredStrategy the XLA-compiled step fails on CPU logical devices.
    """
    from vitlab import compilation
    from vitlab.models.vit import VisionTransformer

    if keras.backend.backend() == "jax":
        return True
    if not isinstance(student, VisionTransformer) or student.num_prefix_tokens + student.num_patches > XLA_MAX_TOKENS:
        return False
    if student.compute_dtype == "bfloat16" and not _has_gpu():
        return False
    return compilation.xla_enabled() and strategy.num_replicas_in_sync == 1


def _has_gpu():
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def steps_for(num_examples, batch_size, optim: OptimSection):
    if optim.steps_per_epoch:
        return optim.steps_per_epoch
    return max(1, math.floor((num_examples or batch_size) / batch_size))


def progress_verbosity():
    """A live progress bar in a terminal, one line per epoch in logs and pipes."""
    return 1 if os.isatty(1) else 2


def tensorboard_available():
    """tf.summary needs the tensorboard package, which TensorFlow no longer pulls in by itself."""
    import importlib.util

    return importlib.util.find_spec("tensorboard") is not None


class SnapshotCallback(keras.callbacks.Callback):
    """Saves the student at every epoch end as `directory/epoch-NNN.keras` (1-based) and after each
    of `at_steps` training steps as `directory/step-NNNNNNN.keras`, each written whole or not at
    all; a step trained again after a resume writes the same file again."""

    def __init__(self, directory, steps_per_epoch=0, at_steps=()):
        super().__init__()
        self.directory = Path(directory)
        self.steps_per_epoch, self.at_steps = steps_per_epoch, frozenset(at_steps)
        self.epoch, self.batch_offset = 0, 0  # batch_offset: where a resumed partial epoch starts (set by `fit`)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        done = self.epoch * self.steps_per_epoch + batch + 1 + self.batch_offset
        if done in self.at_steps:
            self._save(step_snapshot_path(self.directory, done))

    def on_epoch_end(self, epoch, logs=None):
        self.batch_offset = 0
        self._save(snapshot_path(self.directory, epoch + 1))

    def _save(self, path):
        from vitlab import atomic

        self.directory.mkdir(parents=True, exist_ok=True)
        student = getattr(self.model, "student", self.model)
        with atomic.replacing(path, suffix=".keras") as partial:
            student.save(str(partial))


def snapshot_path(directory, epoch):
    """Where SnapshotCallback keeps the model after `epoch` (1-based) epochs."""
    return Path(directory) / f"epoch-{epoch:03d}.keras"


def step_snapshot_path(directory, steps):
    """Where SnapshotCallback keeps the model after `steps` training steps."""
    return Path(directory) / f"step-{steps:07d}.keras"


def snapshot_dir(run_path, step_name):
    return Path(run_path) / "snapshots" / step_name


def callbacks_for(
    run, step_key, epochs, steps_per_epoch, every, tensorboard=True, snapshots_to=None, snapshot_steps=()
):
    callbacks = [EventsCallback(run, step_key, epochs, steps_per_epoch, every)] if run is not None else []
    if snapshots_to is not None:
        callbacks.append(SnapshotCallback(snapshots_to, steps_per_epoch, snapshot_steps))
    if tensorboard and run is not None and not tensorboard_available():
        run.event(
            "log", step=step_key, message="tensorboard is not installed: no TensorBoard logs (pip install tensorboard)"
        )
    elif tensorboard and run is not None:
        log_dir = Path(run.path) / "tensorboard" / step_key.replace(":", "_")
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=False))
    return callbacks

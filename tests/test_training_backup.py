"""A backup torn by a kill mid-write never blocks a resume."""

import json

import keras
import numpy as np
import pytest

from vitlab.training.trainer import EventsCallback, SafeBackupAndRestore


def _model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_torn_backup_without_a_previous_one_restarts_the_step(tmp_path):
    (tmp_path / "latest.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n torn by kill -9")
    (tmp_path / "training_metadata.json").write_text(json.dumps({"epoch": 1, "batch": 0}))
    history = _model().fit(
        np.zeros((8, 4)),
        np.zeros((8, 2)),
        epochs=2,
        verbose=0,
        callbacks=[SafeBackupAndRestore(str(tmp_path), delete_checkpoint=False, double_checkpoint=True)],
    )
    assert len(history.history["loss"]) == 2  # started over from epoch 0
    assert json.loads((tmp_path / "training_metadata.json").read_text())["epoch"] == 2


def test_torn_backup_falls_back_to_the_previous_one(tmp_path):
    model = _model()
    backup = SafeBackupAndRestore(str(tmp_path), delete_checkpoint=False, double_checkpoint=True)
    model.fit(np.zeros((8, 4)), np.zeros((8, 2)), epochs=2, verbose=0, callbacks=[backup])
    assert (tmp_path / "latest.weights.h5.bkp").exists()
    (tmp_path / "latest.weights.h5").write_bytes(b"torn")
    history = _model().fit(
        np.zeros((8, 4)),
        np.zeros((8, 2)),
        epochs=3,
        verbose=0,
        callbacks=[SafeBackupAndRestore(str(tmp_path), delete_checkpoint=False, double_checkpoint=True)],
    )
    assert len(history.history["loss"]) == 2  # resumed after epoch 1 (the previous backup)


def _resnet_fit(strategy, optim, checkpoints, epochs, batches, model_name="resnet_test", callbacks=()):
    from vitlab import models
    from vitlab.training import trainer

    keras.utils.set_random_seed(3)
    with strategy.scope():
        model = trainer.TrainingModel(models.create(model_name, num_classes=4))
        model.compile(
            optimizer=trainer.optimizer(optim, optim.steps_per_epoch), jit_compile=False, run_eagerly=True
        )  # as fast as tiny gets
    trainer.fit(
        model, strategy, batches, None, epochs, optim.steps_per_epoch, list(callbacks), checkpoints, 0, optim=optim
    )
    return [np.asarray(w) for w in model.student.weights]


def test_resumed_fit_ends_with_the_uninterrupted_weights(tmp_path):
    """Stopped after epoch 1 (and after batch 2) and resumed by a fresh model, `fit` under the
    recipe's one-device strategy ends with exactly the weights of one uninterrupted fit, with
    flips and a shuffle buffer: the stream is the seed's alone (OneDeviceStrategy's extra
    iterators made it differ by up to 0.06 here)."""
    from vitlab.data.dataset import from_arrays
    from vitlab.training import augment
    from vitlab.training import strategy as strategy_lib
    from vitlab.training.recipe_sections import AugmentSection, OptimSection

    rng = np.random.default_rng(0)
    data = from_arrays(rng.random((48, 32, 32, 3), dtype=np.float32), np.arange(48) % 4, batch_size=8)
    batches = lambda start=0: augment.training_batches(
        data.pipeline, AugmentSection(flip=True), 4, 8, seed=3, start=start
    )  # noqa: E731
    strategy = strategy_lib.select("one_device")
    assert strategy_lib.strategy_name(strategy) == "OneDevice"
    optim = OptimSection(epochs=2, batch_size=8, steps_per_epoch=3, warmup_epochs=0.5)
    whole = _resnet_fit(strategy, optim, tmp_path / "whole", 2, batches)
    _resnet_fit(strategy, optim, tmp_path / "resumed", 1, batches)  # epoch 1, then a new model resumes
    first = json.loads((tmp_path / "resumed" / "state.json").read_text())
    trained = first["cpu_s"]
    events = _Events()
    resumed = _resnet_fit(
        strategy, optim, tmp_path / "resumed", 2, batches, callbacks=[EventsCallback(events, "train:t", 2, 3, every=1)]
    )
    for a, b in zip(whole, resumed):
        np.testing.assert_array_equal(a, b)
    # the CPU-seconds clock continues from the checkpoint's figure instead of restarting at 0
    logged = [e["cpu_s"] for e in events.logged]
    assert trained > 0 and len(logged) == 4 and logged[0] > trained and logged == sorted(logged)
    last = json.loads((tmp_path / "resumed" / "state.json").read_text())
    assert logged[-2] <= last["cpu_s"] <= logged[-1]  # saved at the epoch end, just before the last event
    assert 0 < first["wall_s"] < last["wall_s"]  # the wall clock continues too


class _Events:
    def __init__(self):
        self.logged = []

    def event(self, kind, **payload):
        if kind == "progress":
            self.logged.append(payload)


def test_cumulative_cpu_seconds_rebases_an_old_clock_on_the_resume_point():
    from vitlab.training.trainer import cumulative_cpu_seconds

    step = "train:vit"
    old = [{"step": step, "done": d, "cpu_s": c} for d, c in ((50, 30), (100, 60), (150, 90))]
    # killed after 150, resumed from the checkpoint at 100: 10 s to load, then 30 s per 50 steps
    resumed = [{"step": step, "done": d, "cpu_s": c} for d, c in ((150, 40), (200, 70))]
    other = [{"step": "train:resnet", "done": 50, "cpu_s": 5}]
    rows = cumulative_cpu_seconds(old + other + resumed, step)
    assert [total for _, total in rows] == [30, 60, 90, 100, 130]  # rebased on 60, the figure at step 100
    continued = [{"step": step, "done": d, "cpu_s": c} for d, c in ((50, 30), (100, 60), (150, 100))]
    assert [total for _, total in cumulative_cpu_seconds(continued, step)] == [30, 60, 100]  # new clock: as logged
    # new clock, killed at 130 and resumed from the checkpoint at 100 (its clock restored to 60):
    # it steps back to the checkpoint's figure and goes on from there, counted once
    rolled_back = [
        {"step": step, "done": d, "cpu_s": c} for d, c in ((50, 30), (100, 60), (130, 80), (110, 66), (150, 90))
    ]
    assert [total for _, total in cumulative_cpu_seconds(rolled_back, step)] == [30, 60, 80, 66, 90]


def test_steady_wall_seconds_leave_out_pauses_restarts_and_compilation():
    from vitlab.training.trainer import steady_wall_seconds

    step = "train:vit"
    # 0.3 s a step, logged every 50 steps after 40 s of compiling; one interval holds a 600 s
    # pause (SIGSTOP), and a restart resumes from the checkpoint at 200 after a kill at 250
    times = {50: 40.0, 100: 55.0, 150: 70.0, 200: 685.0, 250: 700.0, 300: 715.0, 350: 730.0}
    first = [{"step": step, "kind": "progress", "done": d, "time": t} for d, t in times.items() if d <= 250]
    resumed = [{"step": step, "kind": "progress", "done": d, "time": t + 100.0} for d, t in times.items() if d >= 200]
    other = [{"step": "train:resnet", "kind": "progress", "done": 400, "time": 5.0}]
    events = first + other + resumed
    assert steady_wall_seconds(events, step) == pytest.approx(0.3 * 350)
    assert steady_wall_seconds(first[:3], step) is None  # two intervals say nothing steady


class _Killed(Exception):
    pass


class _KillAt(keras.callbacks.Callback):
    """Raise after batch `at` of epoch `epoch` has trained (unsaved): a kill between checkpoints."""

    def __init__(self, epoch, at):
        super().__init__()
        self.epoch, self.at, self.current = epoch, at, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.current, batch) == (self.epoch, self.at):
            raise _Killed()


def test_custom_loop_resumes_inside_an_epoch(tmp_path):
    """The strategy.run loop (MultiWorkerMirroredStrategy's) checkpoints by steps: killed in
    epoch 1 after its last batch (saved after batch 2 of 3) and resumed by a fresh model, it
    ends with the uninterrupted weights, flips included (the stream skips to the saved batch)."""
    import pytest

    from vitlab import models
    from vitlab.data.dataset import from_arrays
    from vitlab.training import augment, trainer
    from vitlab.training import strategy as strategy_lib
    from vitlab.training.recipe_sections import AugmentSection, OptimSection

    rng = np.random.default_rng(0)
    data = from_arrays(rng.random((48, 32, 32, 3), dtype=np.float32), np.arange(48) % 4, batch_size=8)
    batches = lambda start=0: augment.training_batches(
        data.pipeline, AugmentSection(flip=True), 4, 8, seed=3, start=start
    )  # noqa: E731
    strategy = strategy_lib.select("one_device")
    optim = OptimSection(epochs=2, batch_size=8, steps_per_epoch=3, warmup_epochs=0.5)

    def loop(directory, callbacks=()):
        keras.utils.set_random_seed(3)
        with strategy.scope():
            model = trainer.TrainingModel(models.create("resnet_test", num_classes=4))
            model.compile(optimizer=trainer.optimizer(optim, 3), jit_compile=False, run_eagerly=True)
        trainer.custom_loop(model, strategy, batches, None, 2, 3, list(callbacks), directory, 0, every_steps=2)
        return [np.asarray(w) for w in model.student.weights]

    whole = loop(tmp_path / "whole")
    with pytest.raises(_Killed):
        loop(tmp_path / "resumed", [_KillAt(1, 2)])
    resumed = loop(tmp_path / "resumed")
    for a, b in zip(whole, resumed):
        np.testing.assert_array_equal(a, b)

"""Training pieces: augmentation layers, the distillation loss, the schedule, both loops."""

import numpy as np
import pytest
from helpers import keras_file_weights


def batches(config, batch_size=8, n=16, num_classes=10, seed=0):
    from vitlab.data.dataset import from_arrays
    from vitlab.training.augment import training_batches

    rng = np.random.default_rng(seed)
    data = from_arrays(rng.random((n, 32, 32, 3), dtype=np.float32), np.arange(n) % num_classes, batch_size=8)
    images, targets = next(
        iter(training_batches(data.pipeline, config, num_classes, batch_size, seed=seed, shuffle_buffer=0))
    )
    return images.numpy(), targets.numpy()


def test_label_smoothing_and_plain_batches():
    from vitlab.training.recipe_sections import AugmentSection

    images, targets = batches(AugmentSection(label_smoothing=0.1))
    assert images.shape == (8, 32, 32, 3) and targets.shape == (8, 10)
    np.testing.assert_allclose(targets[0], [0.91] + [0.01] * 9, atol=1e-6)  # label 0, 0.9 + 0.1 / 10


@pytest.mark.parametrize(
    "option",
    [{"rand_augment": True}, {"erasing_prob": 1.0}, {"flip": True}, {"crop": "random_resized"}, {"crop": "padded"}],
)
def test_image_augmenters_keep_shape_and_range_and_change_pixels(option):
    from vitlab.training.recipe_sections import AugmentSection

    plain, _ = batches(AugmentSection())
    images, targets = batches(AugmentSection(**option))
    assert images.shape == plain.shape
    if "erasing_prob" in option:  # timm's noise fill (model mean + std x N(0, 1)) is not clipped to [0, 1]
        assert images.min() < 0.0 and images.max() > 1.0
    else:
        assert images.min() >= 0.0 and images.max() <= 1.0
    assert np.abs(images - plain).mean() > 1e-3
    np.testing.assert_array_equal(targets.argmax(1), np.arange(8) % 10)  # labels untouched


@pytest.mark.parametrize("option", [{"mixup_alpha": 0.8}, {"cutmix_alpha": 1.0}])
def test_mixup_and_cutmix_mix_labels(option):
    from vitlab.training.recipe_sections import AugmentSection

    images, targets = batches(AugmentSection(**option))
    np.testing.assert_allclose(targets.sum(1), 1.0, atol=1e-5)
    assert ((targets > 1e-3).sum(1) >= 2).any()  # some rows hold two classes
    assert images.min() >= 0.0 and images.max() <= 1.0


def test_repeated_augmentation_repeats_each_image():
    from vitlab.training.recipe_sections import AugmentSection

    images, targets = batches(AugmentSection(repeats=2))
    assert images.shape == (8, 32, 32, 3)
    labels = sorted(targets.argmax(1).tolist())
    assert labels == sorted([0, 1, 2, 3] * 2)  # 4 images drawn, each twice
    np.testing.assert_array_equal(images[:4], images[4:])  # copy k in block k: a replica's slice holds distinct images
    flipped, _ = batches(AugmentSection(repeats=2, flip=True))
    assert not np.array_equal(flipped[:4], flipped[4:])  # each copy augmented on its own


def test_distillation_loss_matches_hand_computation():
    from vitlab.training.distill import per_example_loss
    from vitlab.training.recipe_sections import DistillSection

    def log_softmax(x):
        x = x - x.max(-1, keepdims=True)
        return x - np.log(np.exp(x).sum(-1, keepdims=True))

    cls = np.array([[2.0, 0.0, -1.0]], "float32")
    dist = np.array([[0.0, 1.0, 0.5]], "float32")
    teacher = np.array([[0.1, 0.3, 3.0]], "float32")
    targets = np.array([[1.0, 0.0, 0.0]], "float32")
    hard = per_example_loss({"class": cls, "dist": dist}, targets, teacher, DistillSection())
    expected = 0.5 * -log_softmax(cls)[0, 0] + 0.5 * -log_softmax(dist)[0, 2]
    np.testing.assert_allclose(np.asarray(hard), [expected], rtol=1e-5)
    soft = per_example_loss(
        {"class": cls, "dist": dist}, targets, teacher, DistillSection(kind="soft", temperature=2.0)
    )
    p_t = np.exp(log_softmax(teacher / 2))
    kl = (p_t * (np.log(p_t) - log_softmax(dist / 2))).sum() * 4
    np.testing.assert_allclose(np.asarray(soft), [0.5 * -log_softmax(cls)[0, 0] + 0.5 * kl], rtol=1e-4)
    plain = per_example_loss({"class": cls}, targets)
    np.testing.assert_allclose(np.asarray(plain), [-log_softmax(cls)[0, 0]], rtol=1e-5)


def test_schedule_warms_up_then_decays_to_the_floor():
    from vitlab.training.recipe_sections import OptimSection
    from vitlab.training.trainer import learning_rate

    schedule = learning_rate(OptimSection(epochs=4, learning_rate=1e-3, min_learning_rate=1e-5, warmup_epochs=1), 10)
    values = [float(schedule(step)) for step in (0, 5, 10, 25, 40)]
    np.testing.assert_allclose(values[0], 1e-5, rtol=1e-4)
    assert values[0] < values[1] < values[2]
    np.testing.assert_allclose(values[2], 1e-3, rtol=1e-4)
    np.testing.assert_allclose(values[4], 1e-5, rtol=1e-3)


def tiny_step(distill_teacher=""):
    from vitlab.training.recipe import TrainStep
    from vitlab.training.recipe_sections import AugmentSection, DataSection, DistillSection, OptimSection

    return TrainStep(
        name="student",
        model="deit_test_distilled",
        drop_path_rate=0.0,
        data=DataSection(limit=32),
        augment=AugmentSection(),
        optim=OptimSection(epochs=2, batch_size=8, warmup_epochs=0.5),
        distill=DistillSection(teacher=distill_teacher),
    )


def make_model(step, teacher=None, seed=1):
    import keras

    from vitlab.training import trainer
    from vitlab.training.plan import build_student

    keras.utils.set_random_seed(seed)
    model = trainer.TrainingModel(build_student(step, 10, 32), teacher, step.distill)
    model.compile(optimizer=trainer.optimizer(step.optim, 2))
    return model


@pytest.mark.slow
def test_fit_and_custom_loop_share_one_train_step(tmp_path, tiny_arrays):
    """Same data, same initial weights: model.fit and the strategy.run loop end equal."""
    import tensorflow as tf

    from vitlab import models
    from vitlab.data.dataset import from_arrays
    from vitlab.training import augment, trainer

    images, labels, _ = tiny_arrays
    data = from_arrays(images, labels, batch_size=8, num_classes=10)
    strategy = tf.distribute.get_strategy()
    teacher = models.create("resnet_test", num_classes=10)
    step = tiny_step("teacher")
    results = []
    for loop in (trainer.fit, trainer.custom_loop):
        model = make_model(step, teacher)
        train = augment.training_batches(data.pipeline, step.augment, 10, 8, shuffle_buffer=0)
        logs = loop(model, strategy, train, None, 2, 2, [], tmp_path / loop.__name__, 0)
        results.append((logs, [w.numpy() for w in model.student.weights]))
    (fit_logs, fit_weights), (loop_logs, loop_weights) = results
    np.testing.assert_allclose(fit_logs["loss"], loop_logs["loss"], rtol=1e-4)
    for a, b in zip(fit_weights, loop_weights):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert not np.allclose(fit_weights[-1], make_model(step, teacher).student.weights[-1].numpy())  # it trained


def test_recipe_run_trains_distils_and_records(tmp_path, tiny_arrays):
    """A whole recipe in-process on array data: models saved, steps done, events per epoch."""
    from vitlab.data.dataset import from_arrays
    from vitlab.results import RunStore
    from vitlab.training import plan
    from vitlab.training import recipe as recipe_lib

    path = tmp_path / "r.toml"
    path.write_text(
        'name = "t"\nlog_every = 1\n[data]\neval_limit = 8\n[optim]\nepochs = 2\nbatch_size = 8\n'
        'warmup_epochs = 0.5\n[[train]]\nname = "teacher"\nmodel = "resnet_test"\n'
        '[[train]]\nname = "student"\nmodel = "deit_test_distilled"\ndistill.teacher = "teacher"\n'
    )
    recipe = recipe_lib.load(path, check_data=False)
    images, labels, _ = tiny_arrays
    arrays = (
        lambda step, size, seed: (
            from_arrays(images, labels, batch_size=8, num_classes=10),  # noqa: E731
            from_arrays(images[:8], labels[:8], batch_size=8, num_classes=10),
        )
    )
    run = plan.start(recipe, runs_root=tmp_path / "runs")
    plan.execute(recipe, run, quiet=True, data_loader=arrays)
    info = RunStore(tmp_path / "runs").open(run.path).read_info()
    assert info["status"] == "done" and info["steps"] == {"train:teacher": "done", "train:student": "done"}
    assert info["config"]["train"][1]["distill"]["teacher"] == "teacher"
    assert set(info["training"]["student"]) >= {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"}
    assert (run.path / "models" / "student.keras").exists() and (run.path / "report" / "index.md").exists()
    events, _ = run.events()
    metrics = [e for e in events if e["kind"] == "metric" and e["step"] == "train:student" and e["name"] == "loss"]
    assert [e["epoch"] for e in metrics] == [1, 2]
    progress = [e for e in events if e["kind"] == "progress" and e["step"] == "train:student"]
    assert progress[-1]["done"] == progress[-1]["total"] == 4
    plan.execute(
        recipe, plan.start(recipe, runs_root=tmp_path / "runs", resume=run.path), quiet=True, data_loader=arrays
    )  # resuming a finished run redoes nothing
    events, _ = run.events()
    assert sum("already done, skipped" in e.get("message", "") for e in events) == 2


def test_snapshots_keep_the_model_at_every_epoch_end(tmp_path, tiny_arrays):
    """optim.snapshots: one loadable model per epoch; the last equals the step's saved model."""
    from vitlab import models
    from vitlab.data.dataset import from_arrays
    from vitlab.training import plan
    from vitlab.training import recipe as recipe_lib

    path = tmp_path / "r.toml"
    path.write_text(
        'name = "t"\n[data]\neval_split = ""\n[optim]\nepochs = 2\nbatch_size = 8\nsteps_per_epoch = 2\n'
        'warmup_epochs = 0.5\nsnapshots = true\n[[train]]\nname = "net"\nmodel = "resnet_test"\n'
    )
    recipe = recipe_lib.load(path, check_data=False)
    images, labels, _ = tiny_arrays
    arrays = lambda step, size, seed: (from_arrays(images, labels, batch_size=8, num_classes=10), None)  # noqa: E731
    run = plan.start(recipe, runs_root=tmp_path / "runs")
    plan.execute(recipe, run, quiet=True, data_loader=arrays)
    folder = run.path / "snapshots" / "net"
    assert sorted(p.name for p in folder.iterdir()) == ["epoch-001.keras", "epoch-002.keras"]  # no temporaries left
    first, last = (keras_file_weights(folder / f"epoch-00{n}.keras") for n in (1, 2))
    final = keras_file_weights(run.path / "models" / "net.keras")
    assert last.keys() == final.keys() and all(np.array_equal(last[k], final[k]) for k in final)
    assert not all(np.array_equal(first[k], last[k]) for k in last)  # the second epoch trained
    assert models.load(str(folder / "epoch-001.keras"))(images[:2]).shape == (2, 10)  # loads and runs

"""`recipe run --dry-run`: the plan, and a few real training steps of every model on
generated images, so a recipe meant for ImageNet can be checked on a laptop.

Nothing is written outside a temporary directory; datasets are not opened.
"""

import dataclasses
import tempfile
import time

import numpy as np

from vitlab.training.recipe import Recipe

DRY_STEPS = 2
DRY_BATCH = 4


def describe_plan(recipe: Recipe):
    lines = [
        f"recipe {recipe.name} ({recipe.path}): strategy {recipe.top.strategy}, precision "
        f"{recipe.top.precision}, seed {recipe.top.seed}{', smoke' if recipe.top.smoke else ''}"
    ]
    for step in recipe.train:
        teacher = f", distilled from {step.distill.teacher} ({step.distill.kind})" if step.distill.teacher else ""
        lines.append(
            f"  train {step.name}: {step.model} on {step.data.dataset}:{step.data.split}, "
            f"{step.optim.epochs} epochs x batch {step.optim.batch_size}, lr {step.optim.learning_rate}"
            f"{teacher}"
        )
    for step in recipe.evaluate:
        lines.append(
            f"  evaluate {step.name}: {step.fields.experiment} on {', '.join(step.fields.models)} "
            f"({step.fields.dataset}:{step.fields.split}, limit {step.fields.limit or 'all'})"
        )
    for name in recipe.export.models:
        lines.append(f"  export {name}: SavedModel, top {recipe.export.top_k}")
    return "\n".join(lines)


def dry_run(recipe: Recipe, quiet=False):
    """Print the plan, then train every step for DRY_STEPS steps on random images."""
    from vitlab import models
    from vitlab.data.dataset import from_arrays
    from vitlab.training import augment, trainer
    from vitlab.training import strategy as strategy_lib
    from vitlab.training.plan import build_student, build_teacher

    if not quiet:
        print(describe_plan(recipe), flush=True)
    strategy = strategy_lib.select("one_device" if recipe.top.strategy == "multi_worker" else recipe.top.strategy)
    strategy_lib.set_precision(recipe.top.precision)
    built, timings = {}, {}
    for step in recipe.train:
        started = time.time()
        image_size = step.data.image_size or models.get_spec(step.model).image_size
        num_classes = step.data.num_classes or 10
        rng = np.random.default_rng(0)
        images = rng.random((DRY_BATCH * DRY_STEPS, image_size, image_size, 3), dtype=np.float32)
        data = from_arrays(images, np.arange(len(images)) % num_classes, batch_size=DRY_BATCH, num_classes=num_classes)
        optim = dataclasses.replace(
            step.optim,
            epochs=1,
            steps_per_epoch=DRY_STEPS,
            warmup_epochs=0.5,
            batch_size=DRY_BATCH * step.augment.repeats,
        )
        with strategy.scope():
            student = build_student(step, num_classes, image_size)
            teacher = build_teacher(step, None, num_classes, image_size, built=built)
            model = trainer.TrainingModel(student, teacher, step.distill)
            model.compile(optimizer=trainer.optimizer(optim, DRY_STEPS))
        batches = augment.training_batches(
            data.pipeline,
            step.augment,
            num_classes,
            optim.batch_size,
            seed=0,
            mean=getattr(student, "mean", None),
            std=getattr(student, "std", None),
        )
        logs = trainer.fit(
            model, strategy, batches, None, 1, DRY_STEPS, [], tempfile.mkdtemp(prefix="vitlab-dry-"), verbose=0
        )
        built[step.name] = student
        timings[step.name] = round(time.time() - started, 1)
        if not quiet:
            print(
                f"  dry-run {step.name}: {DRY_STEPS} steps, loss {logs['loss']:.4f} ({timings[step.name]} s)",
                flush=True,
            )
    return timings

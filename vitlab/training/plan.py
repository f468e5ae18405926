"""Executing a recipe: train steps, then evaluation steps, then exports, inside one run.

Every step is recorded in run.json (`steps`), so `--resume RUN_DIR` skips what finished
and training picks up from its last checkpoint. Models land in RUN/models/<step>.keras.
"""

import time
from pathlib import Path

from vitlab.errors import UserError
from vitlab.results import RunStore
from vitlab.results.run_status import active
from vitlab.training import strategy as strategy_lib
from vitlab.training.recipe import Recipe, TrainStep


def _say(quiet, message):
    if not quiet:
        print(message, flush=True)


def start(recipe: Recipe, runs_root="runs", out=None, resume=None):
    """The run to work in: a new one, or the one being resumed."""
    if resume:
        run = RunStore(runs_root).open(resume)
        run.update(error=None)
        if run.status() == "done":
            run.event("log", message="resumed a finished run: nothing left to do but the report")
        return run
    dataset = recipe.train[0].data.dataset if recipe.train else recipe.evaluate[0].fields.dataset
    return RunStore(runs_root).create(
        name=recipe.name,
        kind="recipe",
        config=recipe.resolved,
        seed=recipe.top.seed,
        models=recipe.models,
        dataset=dataset,
        path=out,
        headline=recipe.top.headline,
    )


def distribution_for(recipe: Recipe):
    """The strategy (checked against the recipe's batch sizes), with the precision policy set;
    call it before anything initialises TensorFlow's or JAX's devices."""
    strategy = strategy_lib.select(recipe.top.strategy)
    strategy_lib.set_precision(recipe.top.precision)
    check_batches(recipe, strategy)
    return strategy


def execute(recipe: Recipe, run, quiet=False, data_loader=None, strategy=None):
    """Run every step of the recipe in `run`; `data_loader(step, image_size)` replaces vitlab.data (tests)."""
    strategy = strategy or distribution_for(recipe)
    import keras

    keras.utils.set_random_seed(recipe.top.seed)
    total = len(recipe.train) + len(recipe.evaluate) + len(recipe.export.models)
    loaded = {}  # saved models, loaded once for every evaluate step that names them
    with active(run):
        number = 0
        for step in recipe.train:
            number += 1
            _say(quiet, f"[{number}/{total}] train {step.name}: {step.model} on {step.data.dataset}:{step.data.split}")
            train_step(run, recipe, step, strategy, quiet=quiet, data_loader=data_loader)
        for step in recipe.evaluate:
            number += 1
            _say(
                quiet,
                f"[{number}/{total}] evaluate {step.name}: {step.fields.experiment} on {', '.join(step.fields.models)}",
            )
            evaluate_step(run, recipe, step, quiet=quiet, loaded=loaded)
        for name in recipe.export.models:
            number += 1
            target = run.path / "export" / name
            _say(quiet, f"[{number}/{total}] export {name} -> {target}")
            export_step(run, name, target, recipe.export.top_k)
    _say(quiet, f"report: {run.path / 'report' / 'index.md'}")
    return run


def check_batches(recipe: Recipe, strategy):
    """DataParallel (JAX) shards every batch over its devices: refuse a batch that does not split,
    before anything trains."""
    replicas = strategy.num_replicas_in_sync
    if not isinstance(strategy, strategy_lib.DataParallelStrategy):
        return
    for step in recipe.train:
        if step.optim.batch_size % replicas:
            raise UserError(
                f"train.{step.name}.optim.batch_size: {step.optim.batch_size} does not split evenly "
                f"over {replicas} devices (keras.distribution.DataParallel shards each batch)"
            )


def _load_data(step: TrainStep, image_size, seed):
    from vitlab import data as data_lib

    common = dict(
        image_size=image_size, batch_size=step.optim.batch_size, seed=seed, data_dir=step.data.data_dir or None
    )
    train = data_lib.load(step.data.dataset, split=step.data.split, limit=step.data.limit or None, **common)
    validation = None
    if step.data.eval_split:
        validation = data_lib.load(
            step.data.dataset, split=step.data.eval_split, limit=step.data.eval_limit or None, **common
        )
    return train, validation


def model_path(run, name):
    return Path(run.path) / "models" / f"{name}.keras"


def build_student(step: TrainStep, num_classes, image_size):
    from vitlab import models

    extra = {"drop_path_rate": step.drop_path_rate} if models.get_spec(step.model).family == "vit" else {}
    if extra and not step.drop_path_rate:
        extra = {}
    return models.create(step.model, num_classes=num_classes, image_size=image_size, **extra)


def build_teacher(step: TrainStep, run_dir, num_classes, image_size, built=None):
    """The teacher: an earlier step's model (in `built` or on disk), a .keras file or a registry name."""
    from vitlab import models

    teacher = step.distill.teacher
    if not teacher:
        return None
    if built and teacher in built:
        return built[teacher]
    if run_dir is not None and model_path_in(run_dir, teacher).exists():
        return models.load(str(model_path_in(run_dir, teacher)))
    if teacher.endswith(".keras"):
        return models.load(teacher)
    return models.create(teacher, num_classes=num_classes, image_size=image_size)


def model_path_in(run_dir, name):
    return Path(run_dir) / "models" / f"{name}.keras"


def train_step(run, recipe, step: TrainStep, strategy, quiet=False, data_loader=None):
    """Train one model (resuming from its checkpoint) and save it as RUN/models/<name>.keras."""
    from vitlab import compilation, models
    from vitlab.training import augment, checkpoint, trainer

    target = model_path(run, step.name)
    if run.step_done(step.key) and target.exists():
        run.event("step", step=step.key, message=f"{step.key}: already done, skipped")
        return models.load(str(target))
    import keras

    # Each step's randomness starts from the recipe's seed and the step's place in the recipe
    # alone, so a resumed process (which skips earlier steps) trains exactly as an uninterrupted one.
    keras.utils.set_random_seed(recipe.top.seed + 1000 * recipe.train.index(step))
    image_size = step.data.image_size or models.get_spec(step.model).image_size
    train_data, validation_data = (data_loader or _load_data)(step, image_size, recipe.top.seed)
    num_classes = step.data.num_classes or train_data.num_classes
    if (num_classes or 0) < 2:
        raise UserError(
            f"train.{step.name}.data: {step.data.dataset} has {num_classes or 0} class "
            f"({', '.join(map(str, train_data.class_names or [])) or 'none'}); training a classifier "
            "needs two or more (point at the folder that holds one folder per class)"
        )
    steps = trainer.steps_for(train_data.num_examples, step.optim.batch_size, step.optim)
    run.mark_step(step.key, "running")
    run.event(
        "step",
        step=step.key,
        message=f"{step.key}: started",
        model=step.model,
        epochs=step.optim.epochs,
        steps_per_epoch=steps,
    )
    started = time.time()
    checkpoints = run.subdir("checkpoints") / step.name
    trained_before = checkpoint.trained_wall_seconds(checkpoints)  # a resumed step's earlier processes
    with strategy.scope():
        student = build_student(step, num_classes, image_size)
        teacher = build_teacher(step, run.path, num_classes, image_size)
        model = trainer.TrainingModel(student, teacher, step.distill)
        model.compile(
            optimizer=trainer.optimizer(step.optim, steps),
            jit_compile=trainer.use_xla(student, strategy),
            run_eagerly=compilation.eager_training(),
        )

    def batches(start=0):  # built afresh for each fit call, from the batch a resume starts at (trainer.fit)
        return augment.training_batches(
            train_data.pipeline,
            step.augment,
            num_classes,
            step.optim.batch_size,
            seed=recipe.top.seed,
            shuffle_buffer=step.data.shuffle_buffer,
            image_size=image_size if train_data.image_size != image_size else None,
            count=train_data.num_examples,
            mean=getattr(student, "mean", None),
            std=getattr(student, "std", None),
            start=start,
        )

    validation = None
    if validation_data is not None:
        validation = augment.evaluation_batches(validation_data.pipeline, num_classes)
    chief = strategy_lib.is_chief(strategy)
    snapshots_to = trainer.snapshot_dir(run.path, step.name) if step.optim.snapshots and chief else None
    callbacks = trainer.callbacks_for(
        run,
        step.key,
        step.optim.epochs,
        steps,
        recipe.top.log_every,
        snapshots_to=snapshots_to,
        snapshot_steps=step.optim.snapshot_steps,
    )
    verbose = 0 if quiet else trainer.progress_verbosity()
    if validation is not None and strategy_lib.needs_even_batches(strategy):
        validation = validation.unbatch().batch(step.optim.batch_size, drop_remainder=True)
    if strategy_lib.uses_fit(strategy):
        logs = trainer.fit(
            model,
            strategy,
            batches,
            validation,
            step.optim.epochs,
            steps,
            callbacks,
            checkpoints,
            verbose,
            optim=step.optim,
        )
    else:
        logs = trainer.custom_loop(
            model,
            strategy,
            batches,
            validation,
            step.optim.epochs,
            steps,
            callbacks,
            checkpoints,
            verbose,
            chief=chief,
            every_steps=step.optim.checkpoint_every_steps,
            minutes=step.optim.checkpoint_minutes,
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    student.save(str(target))
    info = run.read_info()
    training = dict(info.get("training", {}))
    training[step.name] = {
        "model": step.model,
        "dataset": f"{step.data.dataset}:{step.data.split}",
        "epochs": step.optim.epochs,
        "steps_per_epoch": steps,
        "teacher": step.distill.teacher,
        "seconds": round(trained_before + time.time() - started, 1),
        "class_names": train_data.class_names,
        "strategy": strategy_lib.strategy_name(strategy),
        "replicas": strategy.num_replicas_in_sync,
        **{k: round(v, 5) for k, v in logs.items()},
    }
    run.update(training=training)
    run.mark_step(step.key, "done")
    run.event("step", step=step.key, message=f"{step.key}: done", **{k: v for k, v in logs.items()})
    return student


def evaluate_step(run, recipe, step, quiet=False, loaded=None):
    """One experiment on the named models via the shared evaluation path (skipped, loading
    nothing, when already done); `loaded` keeps the run's saved models loaded across steps."""
    from vitlab.experiments import evaluation, runner

    done = runner.already_done(run, step.key)
    if done is not None:
        return done
    if step.config is None:
        raise UserError(f"evaluate {step.name}: experiment {step.fields.experiment!r} is not available")
    trained = {t.name for t in recipe.train}
    specs = [str(model_path(run, spec)) if spec in trained else spec for spec in step.fields.models]
    names = {i: spec for i, spec in enumerate(step.fields.models) if spec in trained}
    options = evaluation.Options(
        experiment=step.fields.experiment,
        config=step.config,
        split=step.fields.split,
        limit=step.fields.limit or None,
        batch_size=step.fields.batch_size,
        seed=recipe.top.seed,
        data_dir=step.fields.data_dir or None,
        crop=getattr(step, "crop", None) or evaluation.CropOptions(),
    )
    prepared = evaluation.prepare(options, specs, step.fields.dataset, loaded=loaded, names=names)
    return evaluation.execute(prepared, run=run, step=step.key, quiet=quiet)


def export_step(run, name, target, top_k):
    from vitlab import export, models

    key = f"export:{name}"
    if run.step_done(key):
        return target
    class_names = run.read_info().get("training", {}).get(name, {}).get("class_names")
    export.export_saved_model(models.load(str(model_path(run, name))), target, class_names=class_names, top_k=top_k)
    run.mark_step(key, "done")
    run.event("step", step=key, message=f"{key}: SavedModel in {target}")
    return target

"""The one way an evaluation is assembled: model specs, a dataset and options -> what an
experiment runs on (adapters, data, config, the preprocessing used).

`vitlab eval`, recipe evaluate steps (vitlab.training.plan.evaluate_step) and
`vitlab.evaluate` (stored and in memory) all build an `Options` object and call `prepare`;
none of them turns a validated config back into `--set` text. The evaluation crop comes from
the first model (what it stores: vitlab/models/preprocessing.py), or from the run's
`crop_pct` / `interpolation` options, or else is the paper's 256/224 bilinear; the choice and
its source go into run.json and the run's events.
"""

import dataclasses

from vitlab import config as config_lib
from vitlab.errors import UserError


@dataclasses.dataclass
class CropOptions:
    """A run's override of the models' stored evaluation crop (`--set crop_pct=0.9 --set
    interpolation=bicubic`); None keeps what the model stores."""

    crop_pct: float | None = None
    interpolation: str | None = None

    def validate(self):
        from vitlab.models import preprocessing

        try:
            preprocessing.check(self.crop_pct, self.interpolation)
        except ValueError as error:
            raise config_lib.ConfigError(str(error)) from None


CROP_KEYS = tuple(f.name for f in dataclasses.fields(CropOptions))


@dataclasses.dataclass
class Options:
    """Everything an evaluation takes besides its models and dataset, validated once."""

    experiment: str
    config: object  # the experiment's Config dataclass
    split: str = "test"
    limit: int | None = None
    batch_size: int = 64
    seed: int = 0
    data_dir: str | None = None
    crop: CropOptions = dataclasses.field(default_factory=CropOptions)

    def record(self):
        """The options as run.json keeps them (the experiment's config as values, not text)."""
        return {
            "experiment": self.experiment,
            "split": self.split,
            "limit": self.limit,
            "batch_size": self.batch_size,
            "data_dir": self.data_dir,
            "options": dataclasses.asdict(self.config),
            "crop": dataclasses.asdict(self.crop),
        }


def options(experiment, values=None, overrides=(), **fields):
    """Options from typed values (TOML, Python) and `key=value` texts (the CLI's `--set`):
    crop_pct / interpolation go to the run's crop, every other key to the experiment's Config.
    fields: split, limit, batch_size, seed, data_dir."""
    from vitlab.experiments import runner

    values = dict(values or {})
    crop_values = {key: values.pop(key) for key in CROP_KEYS if key in values}
    crop_texts = [item for item in overrides if item.split("=", 1)[0].strip() in CROP_KEYS]
    texts = [item for item in overrides if item not in crop_texts]
    config = runner.build_config(experiment, values=values, overrides=texts)
    try:
        crop = config_lib.build(CropOptions, crop_values, crop_texts)
    except config_lib.ConfigError as error:
        raise config_lib.ConfigError(f"{experiment}: {error}") from None
    return Options(experiment=experiment, config=config, crop=crop, **fields)


@dataclasses.dataclass
class Prepared:
    """What an experiment runs on, and what the run records about it."""

    options: Options
    adapters: list
    data: object  # vitlab.data.Dataset
    preprocessing: dict  # the data's preprocessing plus the model's data config and its source

    def record(self):
        return {**self.options.record(), "preprocessing": self.preprocessing}


def prepare(options, models, dataset, loaded=None, names=None):
    """Adapters for `models` (specs, .keras paths, Keras models or adapters), the dataset (a
    name, loaded with the first model's crop, or a Dataset) and a check of the experiment's
    requirements, all before any run directory exists. names: {position: display name}
    (recipes name their trained models by step); loaded: a recipe's cache of loaded files."""
    import keras

    from vitlab import data as data_lib
    from vitlab import experiments
    from vitlab.experiments import runner
    from vitlab.models import preprocessing

    experiments.get(options.experiment)  # an unknown experiment is refused before models load
    models = list(models) if isinstance(models, (list, tuple)) else [models]
    if not models:
        raise UserError("evaluate: give at least one model")
    keras.utils.set_random_seed(options.seed)  # registry names build the same random weights on every run
    if isinstance(dataset, str):
        num_classes = data_lib.describe(dataset, split=options.split, data_dir=options.data_dir).num_classes
    else:
        num_classes = getattr(dataset, "num_classes", None)
    adapters = [adapter_for(model, num_classes, loaded) for model in models]
    for position, name in (names or {}).items():
        adapters[position].name = name
    runner.unique_names(adapters)
    chosen = preprocessing.of(adapters[0], options.crop.crop_pct, options.crop.interpolation)
    if isinstance(dataset, str):
        data = data_lib.load(
            dataset,
            split=options.split,
            image_size=adapters[0].image_size,
            batch_size=options.batch_size,
            limit=options.limit,
            seed=options.seed,
            data_dir=options.data_dir,
            **chosen.crop(),
        )
        applied = data.preprocessing
    else:
        data = dataset
        applied = {**(data.preprocessing or {}), "crop": "none: an in-memory Dataset is used as given"}
    experiments.get(options.experiment).verify(adapters, data, options.config)
    record = {**applied, "model": adapters[0].name, "model_data_config": chosen.record()}
    return Prepared(options=options, adapters=adapters, data=data, preprocessing=record)


def adapter_for(model, num_classes=None, loaded=None):
    """A ModelAdapter for a spec, a path, a Keras model or an adapter."""
    from pathlib import Path

    import keras

    from vitlab.experiments import runner
    from vitlab.models.adapter import ModelAdapter

    if isinstance(model, ModelAdapter):
        return model
    if isinstance(model, (str, Path)):
        return runner.resolve_model(str(model), num_classes=num_classes, loaded=loaded)
    if isinstance(model, keras.Model):
        return ModelAdapter(model)
    raise UserError(
        f"evaluate: {type(model).__name__} is not a model; give a Keras model, a .keras path or a registry name"
    )


def describe_crop(prepared):
    """One line for the run's events: the crop used and where it came from."""
    chosen = prepared.preprocessing["model_data_config"]
    applied = prepared.preprocessing
    if "crop_pct" not in applied:
        return f"preprocessing: {applied.get('resize') or applied.get('crop') or applied.get('source')}"
    return (
        f"preprocessing: crop_pct {applied['crop_pct']}, {applied['interpolation']} "
        f"({chosen['crop_from']}, model {prepared.preprocessing['model']})"
    )


def execute(prepared, run=None, step=None, quiet=True):
    """Run the prepared experiment (as step `step` of `run`, or in memory with run=None)."""
    from vitlab.experiments import runner

    options = prepared.options
    step = step or options.experiment
    if run is not None and not run.step_done(step):
        from vitlab.experiments.run_context import record_facts

        record_facts(run, step, preprocessing=prepared.preprocessing, crop=dataclasses.asdict(options.crop))
        run.event("log", step=step, message=f"{step}: {describe_crop(prepared)}")
    result = runner.run_step(
        run, step, options.experiment, prepared.adapters, prepared.data, options.config, seed=options.seed, quiet=quiet
    )
    skipped = getattr(prepared.data, "skipped_files", None)
    if run is not None and skipped:
        run.event("log", message=f"{len(skipped)} unreadable files skipped: {', '.join(map(str, skipped[:10]))}")
    return result

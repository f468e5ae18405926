"""The Python API: what the CLI does, callable from a notebook or a script.

It goes through the same runner and recipe code as `vitlab eval`, `vitlab recipe run` and
the TUI: options are validated by the same config parser as `--set`,
a run directory written here is the one the CLI would write. Names follow timm / keras-hub
habits: `list_models(filter)`, `create_model(name, **kwargs)`.

    >>> import vitlab
    >>> result = vitlab.evaluate("occlusion", models=["vit_nano_patch4_32"], dataset="shapes", limit=64)
    >>> result.to_frame().head()
"""

import dataclasses
import datetime as dt
import fnmatch
import secrets
from pathlib import Path

from vitlab.console import quiet_call
from vitlab.errors import UserError

__all__ = [
    "RunView",
    "create_model",
    "evaluate",
    "list_experiments",
    "list_models",
    "list_recipes",
    "list_runs",
    "load_model",
    "open_run",
    "train",
]


def list_models(filter="", family=None):
    """What `vitlab models list` lists: the trained zoo models (zoo:ROLE, family "zoo"), then the
    registered names, sorted (random weights). `filter` is a glob like timm's ("deit_*", "zoo:*")."""
    from vitlab import zoo
    from vitlab.models import registry

    rows = [(entry["spec"], "zoo") for entry in zoo.entries()]
    rows += [(name, registry.get_spec(name).family) for name in registry.list_models()]
    return [name for name, kind in rows if (not filter or fnmatch.fnmatchcase(name, filter)) and family in (None, kind)]


@quiet_call
def create_model(model_name, /, pretrained=False, checkpoint_path=None, cache_dir=None, **kwargs):
    """A registered model; kwargs override the variant's (num_classes, image_size, name, mean, std...).

    As in timm: pretrained=True takes the weights of a timm / Hugging Face name
    ("timm/deit_small_patch16_224.fb_in1k", or without the org) from the local Hugging Face cache
    (`cache_dir`, default $HF_HUB_CACHE); checkpoint_path imports a timm-layout file. Otherwise
    the weights are random. A ".tag" vitlab knows (resnet50.tv_in1k) gives the model that
    checkpoint's preprocessing (mean, std, crop); an unknown tag is ignored.
    """
    from vitlab import models
    from vitlab.models import hf_cache, registry

    def architecture_of(name):  # ARCHITECTURE.TAG when vitlab knows the tag's preprocessing
        repo_id, architecture = hf_cache.parse_name(name)
        tagged = repo_id.split("/", 1)[1]
        return tagged if tagged in registry.PRETRAINED else architecture

    if pretrained or checkpoint_path:
        allowed = {"num_classes", "image_size", "mean", "std"}
        if set(kwargs) - allowed:
            raise UserError(
                f"create_model: with pretrained weights only {', '.join(sorted(allowed))} can be set, "
                f"not {', '.join(sorted(set(kwargs) - allowed))}"
            )
        if checkpoint_path:
            from vitlab.models.timm_convert import import_checkpoint

            return import_checkpoint(architecture_of(model_name), checkpoint_path, **kwargs)[0]
        return hf_cache.import_cached(model_name, cache_dir=cache_dir, **kwargs)[0]
    name = architecture_of(model_name) if hf_cache.looks_like_hub_name(model_name) else model_name
    return models.create(name, **kwargs)


@quiet_call
def load_model(path):
    """A vitlab .keras model, loaded in Keras safe mode (nothing in the file is executed)."""
    from vitlab import models

    if not Path(path).exists():
        raise UserError(f"model file {path} does not exist")
    return models.load(str(path))


def list_experiments():
    """The experiment names `evaluate` accepts."""
    from vitlab import experiments

    return experiments.names()


def list_recipes():
    """The shipped recipe names `train` accepts (a .toml path works too)."""
    from vitlab.training.recipe import list_recipes as shipped

    return [name for name, _ in shipped()]


def _overrides(options):
    if isinstance(options, dict):
        return [f"{key}={_as_text(value)}" for key, value in options.items()]
    return [str(item) for item in options or ()]


def _as_text(value):
    """A Python value as the `key=value` text the recipe parser reads (train's overrides)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_as_text(v) for v in value)
    return repr(value) if isinstance(value, float) else str(value)


@quiet_call
def evaluate(
    experiment,
    models=None,
    dataset="shapes",
    *,
    split="test",
    limit=None,
    batch_size=64,
    seed=0,
    run_dir=None,
    runs_root=None,
    data_dir=None,
    quiet=True,
    verbose=False,
    **options,
):
    """Run one experiment on one or more models and return its Result.

    models: Keras models, .keras paths, registry names, zoo:ROLE, run directories (RUN or RUN:NAME);
    dataset: a name as the CLI takes it (shapes, shapes:cue_conflict, fashion_mnist, tfds:NAME,
    a folder) or, in memory only, a `vitlab.data.Dataset` (`vitlab.data.dataset.from_arrays`).
    options: the experiment's options (`vitlab eval NAME --help`), validated like `--set`, plus
    crop_pct / interpolation to override the models' stored evaluation crop.
    In memory by default; with run_dir (a new directory) or runs_root (a new run under it) the
    run is stored exactly as `vitlab eval` stores it, Keras models saved into its models/.
    quiet=False prints progress; verbose=True keeps TensorFlow's own output (quiet by default, as the CLI).
    Names, options, model specs and the dataset name are checked before TensorFlow loads.
    """
    from vitlab.experiments import evaluation, precheck

    if models is None:
        wrong = " (the argument is models=, not model=)" if "model" in options else ""
        raise UserError(f"evaluate: give the models to evaluate as models=[...]{wrong}")
    texts = [f"{key}={value}" for key, value in options.items() if isinstance(value, str)]  # "2x2,4x4" as --set
    typed = {key: value for key, value in options.items() if not isinstance(value, str)}
    precheck.check(experiment, models, dataset, values=typed, overrides=texts, arguments=_EVALUATE_ARGUMENTS)
    prepared_options = evaluation.options(
        experiment,
        values=typed,
        overrides=texts,
        split=split,
        limit=limit,
        batch_size=batch_size,
        seed=seed,
        data_dir=data_dir,
    )
    models = list(models) if isinstance(models, (list, tuple)) else [models]
    if not models:
        raise UserError("evaluate: give at least one model")
    if run_dir is None and runs_root is None:
        prepared = evaluation.prepare(prepared_options, models, dataset)
        return evaluation.execute(prepared, run=None, quiet=quiet)
    if not isinstance(dataset, str):
        raise UserError(
            "evaluate: a stored run needs a dataset name (it is recorded in run.json); "
            "evaluate a Dataset object in memory, without run_dir/runs_root"
        )
    from vitlab.experiments.eval_command import evaluate as stored_evaluate

    out = Path(run_dir) if run_dir is not None else None
    if out is None and any(not isinstance(m, (str, Path)) for m in models):
        out = _new_run_path(Path(runs_root), experiment)  # model objects are saved into it first
    specs = _specs_in(out, models) if out is not None else [str(m) for m in models]
    run = stored_evaluate(
        prepared_options,
        specs,
        dataset,
        out=None if out is None else str(out),
        runs_root=str(runs_root or out.parent),
        quiet=quiet,
    )
    return open_run(run.path).result(experiment)


_EVALUATE_ARGUMENTS = (
    "models",
    "dataset",
    "split",
    "limit",
    "batch_size",
    "seed",
    "run_dir",
    "runs_root",
    "data_dir",
    "quiet",
    "verbose",
)


def _new_run_path(root, experiment):
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return root / f"{stamp}-{experiment}-{secrets.token_hex(3)}"


def _specs_in(out, models):
    """Model specs for the runner; Keras model objects are saved into OUT/models/NAME.keras first."""
    specs, keras_models = [], [m for m in models if not isinstance(m, (str, Path))]
    if keras_models and (out / "run.json").exists():
        raise UserError(f"{out} already holds a run; choose another run_dir")
    for model in models:
        if isinstance(model, (str, Path)):
            specs.append(str(model))
            continue
        keras_model = getattr(model, "model", model)  # a ModelAdapter too
        path = out / "models" / f"{getattr(model, 'name', None) or keras_model.name}.keras"
        if path.exists():
            raise UserError(f"two models are named {path.stem!r}; give them distinct names")
        path.parent.mkdir(parents=True, exist_ok=True)
        keras_model.save(path)
        specs.append(str(path))
    return specs


@quiet_call
def train(recipe, overrides=(), *, runs_root="runs", run_dir=None, resume=None, quiet=False, verbose=False):
    """Run a training recipe (a shipped name or a .toml path) and return its run as a RunView.

    overrides: {"optim.epochs": 1, "smoke": True} or ["optim.epochs=1"], as `--set` takes them;
    resume: a run directory to continue (its recipe and overrides are reused);
    verbose=True keeps TensorFlow's own output (quiet by default, as the CLI).
    """
    from vitlab.results import RunStore
    from vitlab.training import plan
    from vitlab.training import recipe as recipe_lib

    if resume:
        if overrides:
            raise UserError("train: resume continues a run with the overrides it started with; drop overrides")
        loaded = recipe_lib.from_run(RunStore(runs_root).open(resume))
    else:
        loaded = recipe_lib.load(recipe, _overrides(overrides))
    strategy = plan.distribution_for(loaded)
    run = plan.start(loaded, runs_root=runs_root, out=run_dir, resume=resume)
    plan.execute(loaded, run, quiet=quiet, strategy=strategy)
    return RunView(run.path)


def open_run(path):
    """A stored run (from `vitlab eval`, `vitlab recipe run`, `evaluate(run_dir=...)` or `train`)."""
    from vitlab.results import RunStore

    return RunView(RunStore().open(path).path)


def list_runs(runs_root="runs"):
    """Every readable run under runs_root, newest first."""
    from vitlab.results import RunStore

    return [RunView(run.path) for run, info, _ in RunStore(runs_root).list() if info is not None]


@dataclasses.dataclass
class RunView:
    """A run directory seen from Python: its metadata, results, models and events."""

    path: Path

    def __post_init__(self):
        from vitlab.results import Run

        self.path = Path(self.path)
        self._run = Run(self.path)

    def __repr__(self):
        try:
            status = self.status
        except UserError as error:  # a run deleted or broken since it was opened
            status = f"unreadable: {error}"
        headline = self._headline()
        return f"RunView({str(self.path)!r}, status={status!r}" + (f", {headline})" if headline else ")")

    def _headline(self):
        from vitlab.results.run_facts import headline

        try:
            picked = headline(self.info)
        except UserError:
            return ""
        if picked is None:
            return ""
        key, value = picked
        text = f"{value:.4f}" if isinstance(value, float) else str(value)
        return f"{key}={text if len(text) <= 40 else text[:37] + '...'}"

    @property
    def id(self):
        """The directory name, as `vitlab runs list` shows it."""
        return self.path.name

    @property
    def info(self):
        """run.json as a dict: the resolved config, seed, versions, status, timings."""
        return self._run.read_info()

    @property
    def status(self):
        """created, running, done, failed or interrupted."""
        return self._run.status()

    def results(self):
        """{key: Result} of every stored experiment (the step name for recipes)."""
        results = self._run.results()
        for result in results.values():
            result.run_path = str(self.path)
        return results

    def result(self, key=None):
        """One Result by key; without a key, the only one (an error names the keys when there are several)."""
        results = self.results()
        if key is None and len(results) == 1:
            return next(iter(results.values()))
        if key not in results:
            raise UserError(f"{self.path}: choose a result with result(KEY); it has {sorted(results) or 'none'}")
        return results[key]

    def models(self, load=True):
        """{name: Keras model} of the models the run holds (models/*.keras); load=False gives the paths."""
        paths = {p.stem: p for p in sorted((self.path / "models").glob("*.keras"))}
        if not load:
            return paths
        return {name: load_model(path) for name, path in paths.items()}

    def events(self, kind=None):
        """The run's events (dicts with time, kind, message...), optionally only one kind."""
        events, _ = self._run.events()
        return [e for e in events if kind is None or e.get("kind") == kind]

    def to_frame(self, summary=True):
        """Every result as one tidy DataFrame, with `run` and `key` columns first (for comparing runs)."""
        from vitlab.results.frames import require_pandas, to_frame

        pandas = require_pandas()
        frames = [to_frame(r, summary=summary, run=self.id, key=k) for k, r in self.results().items()]
        if not frames:
            raise UserError(f"{self.path}: no results stored yet")
        return pandas.concat(frames, ignore_index=True)

    def export(self, out_dir, format="csv"):
        """Write every result as a tidy table (csv, parquet or json) into out_dir; returns the paths."""
        from vitlab.results.frames import export_run

        return export_run(self._run, format, out_dir)

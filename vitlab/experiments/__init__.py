"""Experiments, chosen by name from one explicit registry.

Each module declares `EXPERIMENT = base.Experiment(...)` (name, description, Config,
requires, run, metrics); the registry below only maps names to modules, so adding an
experiment is one module plus one line here. Modules import lazily: listing experiments
and their descriptions (CLI help, the TUI) reads the generated options.json and never
loads Keras.
"""

import importlib

from vitlab.errors import UserError

REGISTRY = {
    "occlusion": "vitlab.experiments.occlusion",
    "correlation": "vitlab.experiments.correlation",
    "shuffle": "vitlab.experiments.shuffle",
    "attention": "vitlab.experiments.attention",
    "segmentation": "vitlab.experiments.segmentation",
    "corruption": "vitlab.experiments.corruption",
    "adversarial": "vitlab.experiments.adversarial",
    "shape-bias": "vitlab.experiments.shape_bias",
    "token-similarity": "vitlab.experiments.token_similarity",
    "linear-probe": "vitlab.experiments.linear_probe",
    "few-shot": "vitlab.experiments.few_shot",
    "knn": "vitlab.experiments.knn",
}


class UnknownExperimentError(UserError):
    pass


def names():
    return list(REGISTRY)


def key(name):
    """The registry name for 'shape_bias' or 'shape-bias'; a one-line error for anything else."""
    text = str(name).replace("_", "-")
    if text not in REGISTRY:
        raise UnknownExperimentError(f"unknown experiment {name!r}; choose from {', '.join(REGISTRY)}")
    return text


def module_name(name):
    return REGISTRY[key(name)]


def get(name):
    """The declared Experiment for a name (imports its module, and with it Keras)."""
    registered = key(name)
    module = REGISTRY[registered]
    try:
        declared = importlib.import_module(module).EXPERIMENT
    except ModuleNotFoundError as error:
        if error.name == module:
            raise UnknownExperimentError(f"experiment {name!r} is not available in this build") from None
        raise
    if declared.name != registered:
        raise RuntimeError(f"{module} declares {declared.name!r} but is registered as {registered!r}")
    return declared


def describe(name):
    """The experiment's one-line description, from options.json when shipped (no import)."""
    from vitlab.experiments import options

    entry = options.shipped().get(key(name))
    return entry["description"] if entry else get(name).description

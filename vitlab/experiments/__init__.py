"""Experiments, chosen by name from one explicit registry.

Each module defines `DESCRIPTION`, a `Config` dataclass (defaults = the paper's protocol),
and `run(adapters, data, config, context) -> Result`. Modules import lazily, so listing
experiments (CLI help, the TUI) never loads TensorFlow. Every experiment runs on the
TensorFlow and JAX backends (keras.ops, compiled by vitlab.perturb.compiled).
"""

from vitlab.errors import UserError

import importlib

EXPERIMENTS = {
    # name: (module, one-line description shown by `vitlab eval --help` and the TUI)
    "occlusion": ("vitlab.experiments.occlusion", "PatchDrop: accuracy vs information loss (random, salient, non-salient)."),
    "correlation": ("vitlab.experiments.correlation", "Correlation of clean and occluded features per block / stage."),
    "shuffle": ("vitlab.experiments.shuffle", "Patch shuffle: accuracy vs shuffle grid size."),
    "attention": ("vitlab.experiments.attention", "Class-token attention maps per block and head, clean and occluded."),
    "segmentation": ("vitlab.experiments.segmentation", "Segmentation from attention: Jaccard vs ground-truth masks."),
    "corruption": ("vitlab.experiments.corruption", "Natural corruptions (ImageNet-C protocol): error, CE and mCE."),
    "adversarial": ("vitlab.experiments.adversarial", "FGSM / PGD accuracy vs epsilon, per head, with transfer."),
    "shape-bias": ("vitlab.experiments.shape_bias", "Shape vs texture bias on cue-conflict images, per head."),
    "token-similarity": ("vitlab.experiments.token_similarity", "Cosine similarity of class and shape tokens per block."),
    "linear-probe": ("vitlab.experiments.linear_probe", "Linear probe on frozen per-block features (off-the-shelf transfer)."),
    "few-shot": ("vitlab.experiments.few_shot", "N-way K-shot episodes on frozen features, with 95% intervals."),
    "knn": ("vitlab.experiments.knn", "k-NN (cosine) on frozen per-block features."),
}


class UnknownExperimentError(UserError):
    pass


def names():
    return list(EXPERIMENTS)


def describe(name):
    return EXPERIMENTS[_key(name)][1]


def _key(name):
    key = name.replace("_", "-")
    if key not in EXPERIMENTS:
        raise UnknownExperimentError(f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)}")
    return key


def get(name):
    """The experiment module for a name ('shape_bias' and 'shape-bias' both work)."""
    module_name = EXPERIMENTS[_key(name)][0]
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name == module_name:
            raise UnknownExperimentError(f"experiment {name!r} is not available in this build") from None
        raise


def require_backend(name):
    """Refuse, in one line, an experiment that cannot run on the current Keras backend."""
    import keras

    backend = keras.backend.backend()
    supported = getattr(get(name), "BACKENDS", ("tensorflow", "jax"))
    if backend not in supported:
        raise UserError(f"experiment {_key(name)!r} runs on the {' or '.join(supported)} backend only (its sweep is "
                        f"compiled with tf.function); unset KERAS_BACKEND={backend} to run it")

"""The one interface every experiment declares (big_vision's evaluators are the model).

An experiment module ends with `EXPERIMENT = Experiment(...)`: its name, a one-line
description, its `Config` dataclass (defaults = the paper's protocol), what it requires of
the models and the dataset, `run(adapters, data, config, context) -> Result`, and the
summary metrics it writes. The runner validates the config and checks the requirements
once, before any work, so `run` only computes. Everything here is light (no Keras), so
front ends can read declarations.

Summary keys of every Result are `<metric>/<subject>` (subject: a model name, or a model
with a head, `deit/dist`); a metric name may carry a `{placeholder}` for a value taken from
the config (`top1_{grid}`), and `metric_values(result, name)` reads one metric by name.
"""

import dataclasses
import fnmatch
import re
from collections.abc import Callable

from vitlab.config import ConfigError

# What an experiment may require of a model, and how a missing one is worded.
CAPABILITIES = {
    "logits": "a classification head",
    "attention": "attention maps per block and head (a vitlab vision transformer)",
    "tokens": "per-block token features (a vitlab vision transformer)",
    "dist_token": "a distillation (shape) token and head (a distilled DeiT)",
    "stages": "per-stage feature maps (a vitlab ResNet)",
    "block_features": "per-block features (a vitlab ViT or ResNet)",
}
# What an experiment may require of a dataset: the field of DatasetInfo that must be true.
DATA_FIELDS = {"mask": ("has_mask", "ground-truth masks"), "label2": ("has_label2", "a second (texture) label")}


class RequirementError(ConfigError):
    """A model or dataset lacks what the experiment needs; raised before any work starts."""


def capabilities(adapter):
    """The CAPABILITIES a ModelAdapter offers (read from the adapter, never from layer names)."""
    held = {"logits"} if getattr(adapter, "num_classes", 0) else set()
    if adapter.kind == "vit":
        held |= {"attention", "tokens", "block_features"}
        if adapter.has_dist_token:
            held.add("dist_token")
    elif adapter.kind == "cnn":
        held |= {"stages", "block_features"}
    return held


@dataclasses.dataclass(frozen=True)
class Requires:
    """every: each model must offer these; some: at least one model must (the others are
    skipped with a note); data: fields the dataset must carry (see DATA_FIELDS)."""

    every: tuple = ()
    some: tuple = ()
    data: tuple = ()

    def __post_init__(self):
        unknown = [c for c in (*self.every, *self.some) if c not in CAPABILITIES]
        unknown += [d for d in self.data if d not in DATA_FIELDS]
        if unknown:
            raise ValueError(f"unknown requirement {unknown[0]!r}; known: {', '.join([*CAPABILITIES, *DATA_FIELDS])}")

    def check(self, experiment, adapters, data=None):
        """Raise one RequirementError naming the first model or dataset that falls short."""
        for capability in self.every:
            for adapter in adapters:
                if capability not in capabilities(adapter):
                    raise RequirementError(f"{experiment}: model {adapter.name!r} lacks {CAPABILITIES[capability]}")
        for capability in self.some:
            if not any(capability in capabilities(a) for a in adapters):
                raise RequirementError(f"{experiment}: needs at least one model with {CAPABILITIES[capability]}")
        for field in self.data:
            attribute, words = DATA_FIELDS[field]
            if data is not None and not getattr(data, attribute, False):
                raise RequirementError(f"{experiment}: dataset {getattr(data, 'name', '?')!r} has no {words}")


@dataclasses.dataclass(frozen=True)
class Metric:
    """A summary metric: `name` may hold `{placeholders}` filled from the config."""

    name: str
    description: str
    higher_is_better: bool = True

    def pattern(self):
        return re.sub(r"\{[^}]*\}", "*", self.name)

    def matches(self, metric):
        return fnmatch.fnmatchcase(metric, self.pattern())


@dataclasses.dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    Config: type  # noqa: N815  (a dataclass; the name says it is the class users build)
    run: Callable  # run(adapters, data, config, context) -> Result
    requires: Requires = Requires()
    metrics: tuple = ()  # Metric, ... : every summary key's metric matches one of them
    check: Callable | None = None  # check(adapters, data, config): config-dependent refusals
    smoke: dict = dataclasses.field(default_factory=dict)  # Config values for a seconds-long run (tests)

    def metric(self, metric):
        """The declared Metric a summary metric name belongs to, or None."""
        return next((m for m in self.metrics if m.matches(metric)), None)

    def verify(self, adapters, data, config):
        """Validate the config and check models and data, once, before any work."""
        if not isinstance(config, self.Config):
            raise TypeError(f"{self.name}: expected a {self.Config.__module__}.Config, got {type(config).__name__}")
        validate = getattr(config, "validate", None)
        try:
            if validate is not None:
                validate()
        except ConfigError as error:
            message = str(error)
            raise ConfigError(message if message.startswith(f"{self.name}: ") else f"{self.name}: {message}") from None
        self.requires.check(self.name, adapters, data)
        if self.check is not None:
            self.check(adapters, data, config)


def split_key(key):
    """'top1_16x16/vit_test' -> ('top1_16x16', 'vit_test'); the subject may hold slashes."""
    metric, _, subject = key.partition("/")
    return metric, subject


def metric_values(result, name):
    """{subject: value} of one summary metric of a Result (exact name, placeholders filled)."""
    out = {}
    for key, value in (result.summary or {}).items():
        metric, subject = split_key(key)
        if metric == name:
            out[subject] = value
    return out


def metric_names(result):
    """Every metric name a Result's summary holds, in order."""
    return list(dict.fromkeys(split_key(key)[0] for key in (result.summary or {})))


def model_array(result, name, model):
    """One model's slice of a stored array, whichever layout the experiment wrote (a
    `<model>/<name>` key, or `<name>` with a leading model axis); None when absent."""
    import numpy as np

    arrays = result.arrays or {}
    if f"{model}/{name}" in arrays:
        return np.asarray(arrays[f"{model}/{name}"])
    if name in arrays and model in result.models:
        return np.asarray(arrays[name])[list(result.models).index(model)]
    return None


# What every frozen-feature experiment (linear-probe, knn, few-shot) reports, through
# vitlab.features.summary: one declaration for the three.
FROZEN_FEATURE_METRICS = (
    Metric("best_block_top1", "top-1 accuracy of the best single block"),
    Metric("best_block", "the best block (1-based)"),
    Metric("{feature}_top1", "top-1 accuracy of a concatenation of blocks"),
)

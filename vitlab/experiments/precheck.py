"""The checks of an evaluation that need no TensorFlow, run before anything loads it.

Loading TensorFlow and Keras takes about 10 s, so a typo found after that costs 10 s. Here the
experiment's name, its option names and value types (from the shipped options.json), the
model specs and the dataset name are checked in milliseconds, with the messages the full
checks give. The full checks still run once the experiment is imported (its own `validate`:
ranges, choices, a model's requirements); this module only moves what it can to the front.
"""

import dataclasses
import os
from pathlib import Path

from vitlab import config as config_lib
from vitlab.errors import UserError

# the run's crop overrides, accepted by every experiment (vitlab.experiments.evaluation.CropOptions)
CROP_OPTIONS = {"crop_pct": "float | None", "interpolation": "str | None"}
_TYPE_NAMES = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "None": None}
_CLASSES = {}  # experiment -> the Config stand-in built from the schema


def check(experiment, models=(), dataset=None, values=None, overrides=(), arguments=()):
    """Refuse a bad experiment name, option, model spec or dataset name; return the registry name.

    values: typed options (Python, TOML); overrides: `key=value` texts (`--set`); arguments:
    the caller's own keyword names (`limit`, `batch_size`...), suggested for a near-miss option."""
    from vitlab import experiments

    name = experiments.key(experiment)
    check_options(name, values, overrides, arguments)
    check_models(models)
    if isinstance(dataset, (str, os.PathLike)):
        check_dataset(dataset)
    return name


def check_options(experiment, values=None, overrides=(), arguments=()):
    """Option names and value types against the shipped schema (options.json)."""
    config_cls = _config_class(experiment)
    if config_cls is None:  # no shipped schema: the experiment's own check comes later
        return
    known = {field.name for field in dataclasses.fields(config_cls)}
    asked = list(values or {}) + [str(item).split("=", 1)[0].strip() for item in overrides if "=" in str(item)]
    for key in asked:
        if key not in known and arguments:
            import difflib

            close = difflib.get_close_matches(key, list(arguments), n=1)
            if close:
                raise config_lib.ConfigError(
                    f"{experiment}: unknown option {key!r}; did you mean the argument {close[0]}=?"
                )
    try:
        config_lib.build(config_cls, values, overrides)
    except config_lib.ConfigError as error:
        raise config_lib.ConfigError(f"{experiment}: {error}") from None


def _config_class(experiment):
    """A dataclass with the experiment's option names, types and defaults, built from options.json."""
    if experiment not in _CLASSES:
        from vitlab.experiments import options

        entry = options.shipped().get(experiment)
        if entry is None:
            return None
        rows = [(o["name"], o["type"], o["default"]) for o in entry["options"]]
        rows += [(key, text, None) for key, text in CROP_OPTIONS.items()]
        fields = [(name, _annotation(text), _default(value)) for name, text, value in rows]
        _CLASSES[experiment] = dataclasses.make_dataclass(f"{experiment.replace('-', '_')}_options", fields)
    return _CLASSES[experiment]


def _annotation(type_text):
    """int, list[float], str | None ... from the schema's text; `object` (anything) for other types."""
    try:
        return eval(type_text, {"__builtins__": {}}, dict(_TYPE_NAMES))  # noqa: S307 - names above only
    except Exception:  # a type the schema spells in a way this does not read: no check here
        return object


def _default(value):
    if isinstance(value, list):
        return dataclasses.field(default_factory=lambda: list(value))
    return dataclasses.field(default=value)


def check_models(models):
    """Each spec (name, .keras path, RUN[:NAME], zoo:ROLE, hf:NAME) names a model that exists (an hf:
    name: in the local Hugging Face cache); model objects pass."""
    from vitlab import model_spec
    from vitlab.models import registry

    names = None
    for spec in models if isinstance(models, (list, tuple)) else [models]:
        if not isinstance(spec, (str, Path)):
            continue  # a Keras model or an adapter: checked when it is adapted
        names = names if names is not None else registry.list_models()
        problem = model_spec.problem(str(spec), names)
        if problem:
            raise UserError(problem)


def check_dataset(name):
    """The dataset name's syntax; for generated sets (cheap to describe) its variant and keys too."""
    from vitlab import data

    if data.kind(name) in ("shapes", "objects64"):
        data.describe(str(name))

"""Checks the launch form runs before starting anything, with the CLI's own rules where they
are light: model specs by vitlab.model_spec (the grammar `vitlab eval` resolves), `--set`
values parsed by `vitlab.config.parse_value` against the experiment's field types (read from
options.json).
What needs TensorFlow (dataset contents, cross-field `validate()`) is left to `vitlab eval`,
whose `error: ...` line the TUI shows if the launch fails.
"""

import dataclasses
import typing

from vitlab import config as config_lib
from vitlab import model_spec

_SCALARS = {"int": int, "float": float, "str": str, "bool": bool}


def type_from_text(text):
    """'float', 'list[int]', 'str | None', 'Optional[float]' -> a type vitlab.config understands."""
    text = text.replace("typing.", "").strip()
    if text.startswith("Optional[") and text.endswith("]"):
        return typing.Optional[type_from_text(text[9:-1])]  # noqa: UP045 - built at run time from text
    if "|" in text:
        parts = [p.strip() for p in text.split("|")]
        inner = [p for p in parts if p not in ("None", "NoneType")]
        base = type_from_text(inner[0]) if inner else str
        return typing.Optional[base] if len(inner) < len(parts) else base  # noqa: UP045
    for prefix in ("list[", "List[", "tuple[", "Tuple["):
        if text.startswith(prefix) and text.endswith("]"):
            element = text[len(prefix) : -1].split(",")[0].strip()
            return list[_SCALARS.get(element, str)]
    return _SCALARS.get(text, str)


def config_class(options):
    """A stand-in dataclass with the experiment's field names and types (no defaults needed)."""
    fields = [(option.name, type_from_text(option.type), dataclasses.field(default=None)) for option in options]
    return dataclasses.make_dataclass("ProbedConfig", fields)


def check_options(options, assignments):
    """Errors for `key=value` strings: unknown keys and unparsable values, worded as the CLI words them."""
    errors = []
    cls = config_class(options) if options else None
    for item in assignments:
        if "=" not in item:
            errors.append(f"option {item!r} is not key=value")
            continue
        key, value = item.split("=", 1)
        if cls is None:
            continue
        try:
            config_lib.parse_value(cls, key.strip(), value)
        except config_lib.ConfigError as error:
            errors.append(str(error))
    return errors


def check_model(spec, registry):
    """None when `spec` names a model `vitlab eval --model` can resolve, else why not."""
    return model_spec.problem(spec, registry)


def parse_int(text, name, minimum=None):
    """(value or None, error or None) for an optional integer field."""
    text = text.strip()
    if not text:
        return None, None
    try:
        value = int(text)
    except ValueError:
        return None, f"{name}: expected an integer, got {text!r}"
    if minimum is not None and value < minimum:
        return None, f"{name}: must be at least {minimum}, got {value}"
    return value, None

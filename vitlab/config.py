"""Typed `key=value` overrides for dataclass configs (experiments, recipe sections).

One parser for the CLI's `--set`, recipes and the TUI's launch form, so the same input
is accepted or refused with the same message everywhere.
"""

import dataclasses
import types
import typing

from vitlab.errors import UserError


class ConfigError(UserError):
    """A config key or value that cannot be used; the message names it."""


def _parse_scalar(text, kind, key):
    text = text.strip()
    if kind is bool:
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{key}: expected true or false, got {text!r}")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{key}: expected an integer, got {text!r}") from None
    if kind is float:
        try:
            if "/" in text:  # "8/255" is how people write epsilons
                num, den = text.split("/", 1)
                return float(num) / float(den)
            return float(text)
        except (ValueError, ZeroDivisionError):
            raise ConfigError(f"{key}: expected a number, got {text!r}") from None
    return text


def _split_type(annotation):
    """(container, element type, optional) for int, float, str, bool, list[...], X | None."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    optional = False
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        optional = len(non_none) < len(args)
        annotation = non_none[0]
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (list, tuple):
        return list, (args[0] if args else str), optional
    return None, annotation, optional


def parse_value(config_cls, key, text):
    """Parse the text of one field of a dataclass config to its declared type."""
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    if key not in fields:
        import difflib

        close = difflib.get_close_matches(key, fields, n=2)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(f"unknown key {key!r}{hint}; valid keys: {', '.join(sorted(fields))}")
    hints = typing.get_type_hints(config_cls)
    container, element, optional = _split_type(hints[key])
    if optional and text.strip().lower() in ("none", "null", ""):
        return None
    if container is list:
        parts = [p for p in text.replace(";", ",").split(",") if p.strip()]
        return [_parse_scalar(p, element, key) for p in parts]
    return _parse_scalar(text, element, key)


def check_value(config_cls, key, value):
    """Validate a value already typed (from TOML): returns it, coerced int->float where declared."""
    hints = typing.get_type_hints(config_cls)
    container, element, optional = _split_type(hints[key])
    if value is None and optional:
        return None
    expected = f"a list of {element.__name__}" if container else element.__name__

    def one(item):
        if element is float and isinstance(item, (int, float)) and not isinstance(item, bool):
            return float(item)
        if element is float and isinstance(item, str):
            return _parse_scalar(item, float, key)
        if isinstance(item, element) and not (element is int and isinstance(item, bool)):
            return item
        raise ConfigError(f"{key}: expected {expected}, got {item!r}")

    if container is list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected {expected}, got {value!r}")
        return [one(item) for item in value]
    return one(value)


def build(config_cls, values=None, overrides=()):
    """A config from a dict of typed values (TOML) plus `key=value` override strings."""
    values = dict(values or {})
    fields = {f.name for f in dataclasses.fields(config_cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in fields:
            parse_value(config_cls, key, "")  # raises the unknown-key error
        kwargs[key] = check_value(config_cls, key, value)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not key=value")
        key, text = item.split("=", 1)
        kwargs[key.strip()] = parse_value(config_cls, key.strip(), text)
    config = config_cls(**kwargs)
    validate = getattr(config, "validate", None)
    if validate is not None:
        validate()
    return config


def describe(config_cls):
    """[(name, type text, default)] for help screens and the TUI form."""
    rows = []
    hints = typing.get_type_hints(config_cls)
    for field in dataclasses.fields(config_cls):
        if field.default is not dataclasses.MISSING:
            default = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            default = None
        type_text = getattr(hints[field.name], "__name__", None) or str(hints[field.name]).replace("typing.", "")
        rows.append((field.name, type_text, default))
    return rows

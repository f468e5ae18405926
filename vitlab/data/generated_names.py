"""The name grammar of vitlab's generated sets, `SET[:VARIANT][,key=value...]`, parsed once for
shapes and objects64: which variant, which split, and the options the name overrides."""

import dataclasses

from vitlab.data.errors import DatasetError

VARIANTS = ("default", "stylized", "cue_conflict")
SPLITS = ("train", "test")


def parse(name, split, label, options, types):
    """(variant, split, options with the name's overrides, validated). `types` maps each key the
    name may set to its type; `label` names the set in errors. SET:train / SET:test name the
    default variant's split."""
    head, *pairs = name.split(",")
    variant = head.split(":", 1)[1] if ":" in head else "default"
    if variant in SPLITS:
        variant, split = "default", variant
    if variant not in VARIANTS:
        raise DatasetError(f"unknown {label} variant {variant!r} in {name!r}; known: {', '.join(VARIANTS)}")
    if split not in SPLITS:
        raise DatasetError(f"{label} has no split {split!r}; splits: {', '.join(SPLITS)}")
    overrides = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if key not in types or not value:
            raise DatasetError(f"bad {label} option {pair!r} in {name!r}; use key=value with keys {', '.join(types)}")
        try:
            overrides[key] = types[key](value)
        except ValueError:
            raise DatasetError(f"bad value for {label} option {key!r}: {value!r}") from None
    options = dataclasses.replace(options, **overrides)
    try:
        options.validate()
    except ValueError as error:
        raise DatasetError(str(error)) from None
    return variant, split, options

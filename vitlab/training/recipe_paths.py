"""A recipe's [paths] table: folders its evaluate steps name as {NAME} (the paper recipe's
ImageNet, ImageNet-C, VOC... folders), given in the file or with `--set paths.NAME=DIR`."""

import re

from vitlab.config import ConfigError

PLACEHOLDER = r"\{(\w+)\}"


def fill(raw, paths):
    """An evaluate table with {NAME} replaced by paths[NAME] in its strings (dataset, models,
    set values); a NAME left empty stays {NAME}, refused when the data is checked (check_unset).
    {seed} is the recipe's seed, filled in by the recipe itself."""

    def one(value):
        if isinstance(value, list):
            return [one(v) for v in value]
        if isinstance(value, dict):
            return {k: one(v) for k, v in value.items()}
        if not isinstance(value, str):
            return value
        for name in re.findall(PLACEHOLDER, value):
            if name != "seed" and str(paths.get(name) or "").strip():
                value = value.replace(f"{{{name}}}", str(paths[name]))
        return value

    return {key: one(value) for key, value in raw.items()} if isinstance(raw, dict) else raw


def check_unset(steps):
    """A {NAME} still in an evaluate step: one error naming the step and the --set that fills it."""
    for step in steps:
        texts = [step.fields.dataset, *step.fields.models, *map(str, step.overrides.values())]
        names = [n for text in texts for n in re.findall(PLACEHOLDER, str(text)) if n != "seed"]
        if names:
            raise ConfigError(f"evaluate.{step.name}: {{{names[0]}}} is not set; give --set paths.{names[0]}=DIR")

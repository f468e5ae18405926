"""Every experiment's options as data, for front ends that must not import Keras.

`options.json` beside this module is generated from the experiments' Config dataclasses
(`python -m vitlab.experiments.options --write`); a test regenerates it and fails when the
shipped copy is stale. The TUI's launch form reads it instantly instead of importing the
experiment modules (which load Keras).
"""

import json
import sys
import typing
from pathlib import Path

SHIPPED = Path(__file__).with_name("options.json")


def type_text(hint):
    """'int', 'list[float]', 'str | None': the full type, so a form can check list elements too."""
    if typing.get_origin(hint) is None and isinstance(hint, type):
        return hint.__name__
    return str(hint).replace("typing.", "")


def schema():
    """{experiment: {"description", "requires", "metrics", "options": [{"name", "type", "default", "help"}]}}
    (imports every experiment; the help lines come from vitlab/experiments/option_help.py)."""
    from vitlab import experiments

    return {name: schema_for(name) for name in experiments.names()}


def schema_for(name):
    """One experiment's entry of the schema (imports that experiment)."""
    from vitlab import config, experiments
    from vitlab.experiments.option_help import help_for
    from vitlab.results.result import to_jsonable

    experiment = experiments.get(name)
    hints = typing.get_type_hints(experiment.Config)
    return {
        "description": experiment.description,
        "requires": {field: list(getattr(experiment.requires, field)) for field in ("every", "some", "data")},
        "metrics": [
            {"name": m.name, "description": m.description, "higher_is_better": m.higher_is_better}
            for m in experiment.metrics
        ],
        "options": [
            {"name": n, "type": type_text(hints[n]), "default": to_jsonable(d), "help": help_for(name, n)}
            for n, _, d in config.describe(experiment.Config)
        ],
    }


_READ = {}  # mtime -> schema: CLI help and the TUI ask once per experiment


def shipped():
    """The generated schema, read without importing any experiment; {} when absent or unreadable."""
    try:
        stamp = SHIPPED.stat().st_mtime_ns
        if stamp not in _READ:
            _READ.clear()
            _READ[stamp] = json.loads(SHIPPED.read_text())
        return _READ[stamp]  # shared: read it, do not edit it
    except (OSError, ValueError):
        return {}


def write():
    SHIPPED.write_text(json.dumps(schema(), indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
        print(f"wrote {SHIPPED}")
    else:
        print(json.dumps(schema(), indent=1, sort_keys=True))

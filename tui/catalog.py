"""What the launch form offers: experiment kinds, shipped recipes, models, and the options
of each experiment with their defaults.

Everything here is light (registry dicts, file listings). The options of an experiment
live in its Config dataclass, whose module imports Keras, so they are read from the
generated options.json (vitlab.experiments.options, kept fresh by a test).
"""

import dataclasses
import importlib.resources
from pathlib import Path

from vitlab import experiments

MAIN_KINDS = ("occlusion", "shuffle", "corruption", "adversarial", "shape-bias", "linear-probe")


def kinds():
    """[(label, value)] for the kind picker: the paper's main experiments first, then the rest, then recipes."""
    names = experiments.names()
    ordered = [k for k in MAIN_KINDS if k in names] + [k for k in names if k not in MAIN_KINDS]
    return [(f"{name} — {experiments.describe(name)}", name) for name in ordered] + [
        ("recipe — a training/evaluation plan (TOML)", "recipe")
    ]


def recipes():
    """[(name, one-line description)] of the recipes shipped in vitlab.recipes."""
    found = []
    try:
        files = importlib.resources.files("vitlab.recipes")
        entries = sorted((entry for entry in files.iterdir() if entry.name.endswith(".toml")), key=lambda e: e.name)
    except (ModuleNotFoundError, FileNotFoundError):
        return found
    for entry in entries:
        found.append((entry.name[: -len(".toml")], _header(entry.read_text())))
    return found


def _header(text):
    """The first comment line of a recipe: what it does."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#"):
            return line.lstrip("# ").strip()
        if line:
            break
    return ""


def registry_models():
    from vitlab.models.registry import list_models

    return list_models()


def model_choices(run_specs=()):
    """[(label, spec)] for the launch form's model list: trained models first (the zoo, then models
    of earlier runs), then the registry names, marked untrained (random initialisation)."""
    from vitlab import zoo

    choices = [
        (f"{entry['spec']}  trained: {entry['architecture']}, top-1 {entry['clean_accuracy']:.2f}", entry["spec"])
        for entry in zoo.entries()
    ]
    choices += [(f"{spec}  trained", spec) for spec in run_specs]
    return choices + [(f"{name}  (untrained)", name) for name in registry_models()]


def run_models(runs_root, limit=200):
    """Models trained by earlier runs, as RUN_DIR:NAME specs (newest runs first)."""
    root = Path(runs_root)
    specs = []
    try:
        dirs = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)
    except FileNotFoundError:
        return specs
    for run_dir in dirs[:limit]:
        for model in sorted((run_dir / "models").glob("*.keras")):
            specs.append(f"{run_dir}:{model.stem}")
    return specs


@dataclasses.dataclass
class Option:
    name: str
    type: str
    default: object
    help: str = ""  # one line (options.json, from vitlab/experiments/option_help.py)

    @property
    def default_text(self):
        if isinstance(self.default, (list, tuple)):
            return ",".join(map(str, self.default))
        return "none" if self.default is None else str(self.default)


def experiment_options(name):
    """The experiment's options [Option] (defaults = the paper's protocol), or raise RuntimeError."""
    from vitlab.experiments.options import shipped

    entry = shipped().get(name)
    if entry is None:
        raise RuntimeError(
            f"experiment {name!r} has no entry in options.json; regenerate it with "
            f"`python -m vitlab.experiments.options --write`"
        )
    return [Option(**item) for item in entry["options"]]


def experiment_metrics(name):
    """[(metric name, description)] an experiment's summary holds, read from options.json."""
    from vitlab.experiments.options import shipped

    return [(m["name"], m["description"]) for m in shipped().get(name, {}).get("metrics", [])]

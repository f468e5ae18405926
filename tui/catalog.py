"""What the launch form offers: experiment kinds, shipped recipes, models, and the options
of each experiment with their defaults.

Everything here is light (registry dicts, file listings). The options of an experiment
live in its Config dataclass, whose module imports Keras, so they are read by a helper
subprocess (`python -m vitlab.tui.option_probe NAME`) and cached per module mtime.
"""

import dataclasses
import importlib.resources
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

from vitlab.experiments import EXPERIMENTS

MAIN_KINDS = ("occlusion", "shuffle", "corruption", "adversarial", "shape-bias", "linear-probe")


def kinds():
    """[(label, value)] for the kind picker: the paper's main experiments first, then the rest, then recipes."""
    ordered = [k for k in MAIN_KINDS if k in EXPERIMENTS] + [k for k in EXPERIMENTS if k not in MAIN_KINDS]
    return [(f"{name} — {EXPERIMENTS[name][1]}", name) for name in ordered] + [("recipe — a training/evaluation plan (TOML)", "recipe")]


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

    choices = [(f"{entry['spec']}  trained: {entry['architecture']}, top-1 {entry['clean_accuracy']:.2f}",
                entry["spec"]) for entry in zoo.entries()]
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

    @property
    def default_text(self):
        if isinstance(self.default, (list, tuple)):
            return ",".join(map(str, self.default))
        return "none" if self.default is None else str(self.default)


_CACHE: dict = {}


def _module_stamp(name):
    try:
        spec = importlib.util.find_spec(EXPERIMENTS[name][0])
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin:
        return None
    try:
        return os.stat(spec.origin).st_mtime_ns
    except OSError:
        return None


def experiment_options(name, timeout=60):
    """The experiment's options [Option] (defaults = the paper's protocol), or raise RuntimeError."""
    from vitlab.experiments.options import shipped

    entry = shipped().get(name)
    if entry is not None:  # generated from the Config dataclasses and kept fresh by a test
        return [Option(**item) for item in entry["options"]]
    stamp = _module_stamp(name)
    if stamp is None:
        raise RuntimeError(f"experiment {name!r} is not available in this build")
    cached = _CACHE.get(name) or _disk_cache().get(name)
    if cached and cached[0] == stamp:
        return [Option(**item) if isinstance(item, dict) else item for item in cached[1]]
    command = [sys.executable, "-m", "vitlab.tui.option_probe", name]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        raise RuntimeError(lines[-1] if lines else f"option probe exited with {done.returncode}")
    options = [Option(**item) for item in json.loads(done.stdout.strip().splitlines()[-1])]
    _CACHE[name] = (stamp, options)
    _save_disk_cache(name, stamp, options)
    return options


def _cache_file():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vitlab" / "tui-options.json"


def _disk_cache():
    """Options probed by an earlier session, keyed by experiment, valid while its module is unchanged."""
    try:
        return {name: tuple(entry) for name, entry in json.loads(_cache_file().read_text()).items()}
    except (OSError, ValueError, TypeError):
        return {}


def _save_disk_cache(name, stamp, options):
    try:
        data = {key: list(value) for key, value in _disk_cache().items()}
        data[name] = [stamp, [dataclasses.asdict(option) for option in options]]
        _cache_file().parent.mkdir(parents=True, exist_ok=True)
        _cache_file().write_text(json.dumps(data))
    except (OSError, TypeError, ValueError):
        pass  # a cache that cannot be written only costs the next session a probe

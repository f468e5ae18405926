"""The model-spec grammar shared by the CLI, recipes and the TUI, with no heavy imports.

A spec is one of
  PREFIX:VALUE     a registered prefix (`zoo:ROLE`; `study:CELL[@SEED][/SNAPSHOT]`, a study cell's
                   model in the cache; `hf:ORG/NAME[@REV]`, a checkpoint of the local Hugging Face
                   cache imported once), resolved by the prefix's owner;
  PATH.keras       a saved model file;
  RUN_DIR[:NAME]   a model inside a run directory (its only model, or `final`, or NAME);
  NAME             a registry name, or ARCHITECTURE.TAG of a timm tag vitlab knows (random
                   initial weights, the tag's preprocessing: for tests and timing).
`parse` says which (touching the file system only to tell a run directory from a name);
`problem` says, in one line, why a spec cannot be used, or None. Building the model is the
runner's job (vitlab.experiments.runner.resolve_model), so the TUI can check specs without
Keras. A new prefix is one `register_prefix(prefix, expand)` call: expand(VALUE) returns the
spec it stands for (e.g. a .keras path) or raises a UserError saying why it cannot.
"""

import dataclasses
import difflib
from pathlib import Path

from vitlab.errors import UserError

PREFIXES = {}  # prefix -> expand(value) -> the spec it stands for


@dataclasses.dataclass(frozen=True)
class ModelRef:
    kind: str  # "prefix", "file", "run" or "registry"
    target: str  # the prefix's value, the file, the run directory or the registry name
    member: str = ""  # RUN_DIR:NAME's NAME
    prefix: str = ""

    @property
    def display_name(self):
        """The name results carry for this model when nothing better is known."""
        if self.kind == "file":
            return Path(self.target).stem
        if self.kind == "prefix":
            return f"{self.prefix}:{self.target}"
        return self.target


def register_prefix(prefix, expand):
    """Make `prefix:VALUE` a spec standing for expand(VALUE) (light: no Keras import)."""
    PREFIXES[prefix] = expand


def expand(spec):
    """The spec with registered prefixes replaced by what they stand for (a ModelRef)."""
    ref = parse(spec)
    seen = set()
    while ref.kind == "prefix":
        if (ref.prefix, ref.target) in seen:
            raise UserError(f"model spec {spec!r} expands into itself")
        seen.add((ref.prefix, ref.target))
        ref = parse(PREFIXES[ref.prefix](ref.target))
    return ref


def parse(spec):
    text = str(spec).strip()
    prefix, colon, value = text.partition(":")
    if colon and prefix in PREFIXES:
        return ModelRef("prefix", value, prefix=prefix)
    if text.endswith(".keras"):
        return ModelRef("file", text)
    if Path(text).is_dir():
        return ModelRef("run", text)
    head, colon, member = text.rpartition(":")
    if colon and head and Path(head).is_dir():
        return ModelRef("run", head, member=member)
    return ModelRef("registry", text)


def run_models(run_dir):
    """Names of the .keras models stored in a run directory."""
    return sorted(p.stem for p in (Path(run_dir) / "models").glob("*.keras"))


def choose_run_model(ref):
    """(model name, None) or (None, problem) for a run-directory reference."""
    found = run_models(ref.target)
    if ref.member:
        return (
            (ref.member, None)
            if ref.member in found
            else (None, f"{ref.target}: no model {ref.member!r} there (models: {', '.join(found) or 'none'})")
        )
    if len(found) == 1:
        return found[0], None
    if "final" in found:
        return "final", None
    return None, f"{ref.target}: choose a model with {ref.target}:NAME (models there: {', '.join(found) or 'none'})"


def problem(spec, registry):
    """None when `spec` names a usable model, else a one-line reason (with close names)."""
    first = parse(spec)
    if first.kind == "prefix" and first.prefix == "hf":  # checked in the cache without importing it (Keras)
        return _hub_problem(first.target)
    try:
        ref = expand(spec)
    except UserError as error:
        return str(error)
    if ref.kind == "file":
        return None if Path(ref.target).is_file() else f"model file {ref.target} does not exist"
    if ref.kind == "run":
        return choose_run_model(ref)[1]
    if ref.target in registry or _known_tag(ref.target, registry):
        return None
    close = difflib.get_close_matches(ref.target, list(registry), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"unknown model {ref.target!r}{hint}"


def _known_tag(name, registry):
    """ARCHITECTURE.TAG for a timm tag whose preprocessing vitlab knows (resnet50.tv_in1k)."""
    from vitlab.models.registry import PRETRAINED

    return name in PRETRAINED and name.split(".", 1)[0] in registry


def _register_zoo():
    from vitlab import zoo

    register_prefix(zoo.PREFIX.rstrip(":"), zoo.expand)


def _hub_problem(name):
    from vitlab.models import hf_cache

    text, _, revision = name.partition("@")
    try:
        hf_cache.find(text, revision=revision or None)
    except UserError as error:
        return str(error)
    return None


def _expand_hub(name):
    """hf:ORG/NAME[@REVISION] -> the .keras file imported from the local Hugging Face cache."""
    from vitlab.models import hf_cache

    return str(hf_cache.converted(name))


def _expand_study(value):
    from vitlab.study import runner

    return runner.expand_spec(value)


_register_zoo()
register_prefix("hf", _expand_hub)
register_prefix("study", _expand_study)

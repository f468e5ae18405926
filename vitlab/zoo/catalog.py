"""The zoo's catalog: its roles, where each model lives, `zoo:ROLE[@SEED]` resolved, its cards.

The study's trained models are named by role: `zoo:ROLE` (seed 0) or `zoo:ROLE@SEED`.

Seed 0 ships in the repository's zoo/ folder (one ROLE.keras and one ROLE.json card per
role); other seeds are built by `vitlab zoo build` into the cache ($VITLAB_CACHE or
~/.cache/vitlab, under zoo/seed-N). A card says what the file is and how it was made:
role, architecture, recipe and overrides, seed, vitlab commit, training time, clean
accuracy and the file's sha256, as timm's pretrained configs and big_vision's config
headers do. This module stays import-light (no TensorFlow) so the CLI and the TUI can
list the zoo instantly.
"""

import hashlib
import json
import os
import zipfile
from pathlib import Path

from vitlab import atomic
from vitlab.errors import UserError

PREFIX = "zoo:"
RECIPE = "zoo"
# role: (what it is, evaluation dataset of its clean accuracy)
ROLES = {
    "resnet": ("ResNet on shapes (texture agrees with the class 80% of the time): the CNN baseline", "shapes"),
    "resnet_sin": ("ResNet on shapes:stylized (random textures): the shape-biased teacher", "shapes:stylized"),
    "vit": ("ViT on shapes", "shapes"),
    "vit_nopos": ("the same ViT without positional embedding", "shapes"),
    "deit_shape": ("DeiT whose distillation token is taught by resnet_sin: the shape token", "shapes"),
    "deit_tex": ("DeiT whose distillation token is taught by resnet: texture-distilled", "shapes"),
    "deit_sin": ("ViT on shapes:stylized, no distillation: the paper's DeiT-SIN", "shapes:stylized"),
}
# Shipped models outside the study's role set: seed 0 only, never built by `vitlab zoo build`
# nor evaluated by the findings recipe's seeds; each card names the command that trained it.
EXTRAS = {
    "vit_long": (
        "the zoo's ViT recipe run 13x as long (45,000 steps against 3,440, benchmarks/learning_curves.py "
        "vit_nano_b64_x12): the ViT target reached, outside the 8-minute budget",
        "shapes",
    ),
    "deit_sin_long": (
        "deit_sin's recipe run 6.5x as long (22,500 steps against 3,440, on shapes:stylized, "
        "benchmarks/learning_curves.py deit_sin_b64_x6): its target reached, outside the budget",
        "shapes:stylized",
    ),
    "deit_shape_long": (
        "deit_shape's recipe (taught by zoo:resnet_sin) run 6.5x as long (22,500 steps, "
        "benchmarks/learning_curves.py deit_shape_b64_x6): its target reached, outside the budget",
        "shapes",
    ),
    "deit_tex_long": (
        "deit_tex's recipe (taught by zoo:resnet) run 6.5x as long (22,500 steps, "
        "benchmarks/learning_curves.py deit_tex_b64_x6): 0.81, short of its 0.85, the pair of "
        "deit_shape_long",
        "shapes",
    ),
}


def describe(role):
    """(what it is, evaluation dataset) of a role or an extra."""
    return ROLES.get(role) or EXTRAS[role]


def shipped_dir():
    """The repository's zoo/ folder (VITLAB_ZOO overrides it)."""
    if os.environ.get("VITLAB_ZOO"):
        return Path(os.environ["VITLAB_ZOO"])
    return Path(__file__).resolve().parents[2] / "zoo"


def cache_root():
    root = os.environ.get("VITLAB_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "vitlab")
    return Path(root) / "zoo"


def seed_dir(seed):
    """Where `vitlab zoo build` publishes seed `seed` by default (the cache)."""
    return cache_root() / f"seed-{int(seed)}"


def role_path(role, seed):
    """The .keras file of one role and seed: seed 0 from the shipped folder when it holds that
    role, else (and for every other seed) from the cache."""
    shipped = shipped_dir() / f"{role}.keras"
    if int(seed) == 0 and shipped.exists() and card_path(shipped).exists():
        return shipped
    return seed_dir(seed) / f"{role}.keras"


def is_zoo_spec(text):
    return str(text).startswith(PREFIX)


def parse(spec):
    """'zoo:vit' -> ('vit', 0); 'zoo:vit@2' -> ('vit', 2)."""
    body = str(spec)[len(PREFIX) :] if is_zoo_spec(spec) else str(spec)
    role, _, seed = body.partition("@")
    if role not in ROLES and role not in EXTRAS:
        raise UserError(f"unknown zoo role {role!r} in {spec!r}; roles: {', '.join([*ROLES, *EXTRAS])}")
    try:
        seed = int(seed) if seed else 0
    except ValueError:
        raise UserError(f"bad zoo seed {seed!r} in {spec!r}: use zoo:ROLE@SEED with an integer seed") from None
    if role in EXTRAS and seed != 0:
        raise UserError(f"{spec}: {role} is shipped for seed 0 only (zoo:{role}); `vitlab zoo build` does not train it")
    return role, seed


def model_path(spec):
    """The .keras file a zoo spec names; a clear error with the build command when missing."""
    role, seed = parse(spec)
    path = role_path(role, seed)
    if not path.exists():
        if role in EXTRAS:
            raise UserError(f"{spec}: no zoo model at {path}; it ships in the repository's zoo/ folder")
        raise UserError(f"{spec}: no zoo model at {path}; build it with `vitlab zoo build --seeds {seed}`")
    return path


def expand(role_and_seed):
    """What `zoo:ROLE[@SEED]` stands for in vitlab.model_spec: the model file (named by its role)."""
    return str(model_path(PREFIX + role_and_seed))


def card_path(model_file):
    return Path(model_file).with_suffix(".json")


def read_card(model_file):
    path = card_path(model_file)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as error:
        raise UserError(f"{path}: unreadable zoo card ({error}); rebuild it with `vitlab zoo build`") from None


def entries(seeds=None):
    """Cards of every zoo model present, seed 0 first (its roles, then the extras) then by role
    order: list of dicts with 'spec' and 'path' added."""
    found = []
    candidates = [0] + sorted(
        int(p.name.split("-", 1)[1]) for p in cache_root().glob("seed-*") if p.name.split("-", 1)[1].isdigit()
    )
    for seed in dict.fromkeys(candidates):
        if seeds is not None and seed not in seeds:
            continue
        for role in [*ROLES, *EXTRAS] if seed == 0 else ROLES:
            path = role_path(role, seed)
            card = read_card(path) if path.exists() else None
            if card is not None:
                spec = f"{PREFIX}{role}" + (f"@{seed}" if seed else "")
                found.append({**card, "spec": spec, "path": str(path)})
    return found


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def compress(path, out=None):
    """Write the .keras archive `path` with its members deflated to `out` (default: `path`
    itself, in place), atomically; returns the new size.

    Keras stores its archive's members uncompressed. float32 weights deflate by about 14%,
    which is what lets zoo/ hold the long-trained models within its 20 MB. Keras reads a
    deflated archive as it is (zipfile decompresses); the weights are the same bytes.
    """
    out = Path(out or path)
    with (
        atomic.replacing(out) as temp,
        zipfile.ZipFile(path) as source,
        zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for member in source.infolist():
            target.writestr(member.filename, source.read(member.filename))
    return out.stat().st_size

"""Checkpoints from the local Hugging Face cache, where timm users already have them.

`timm.create_model("deit_small_patch16_224.fb_in1k", pretrained=True)` downloads
`timm/deit_small_patch16_224.fb_in1k` into the hub cache; this module finds it there the way
timm loads it offline (timm/models/_hub.py: model.safetensors, else pytorch_model.bin, and
config.json, through `hf_hub_download`, which with HF_HUB_OFFLINE answers from
`huggingface_hub.try_to_load_from_cache`): refs (main, a branch or tag) and commit hashes
resolve as huggingface_hub resolves them, and nothing is downloaded. A cache copied without its refs/ folder falls back to its only (or
newest) snapshot, found with `huggingface_hub.scan_cache_dir`.

timm's config.json names the architecture and carries `pretrained_cfg` (mean, std,
input_size, crop_pct, interpolation, num_classes), which `vitlab weights import` stores in
the imported model (vitlab/models/preprocessing.py), so it is fed as timm feeds it.
"""

import dataclasses
import json
import os
from pathlib import Path

from vitlab import atomic
from vitlab.errors import UserError

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "open_clip_pytorch_model.bin")


class NotInCacheError(UserError):
    """The name is not in the local cache; the message says where it looked."""


@dataclasses.dataclass
class CachedCheckpoint:
    repo_id: str  # "timm/deit_small_patch16_224.fb_in1k"
    architecture: str  # "deit_small_patch16_224"
    weights: Path
    config: dict
    revision: str

    @property
    def pretrained_cfg(self):
        return self.config.get("pretrained_cfg") or {}

    @property
    def mean(self):
        return _triple(self.pretrained_cfg.get("mean"))

    @property
    def std(self):
        return _triple(self.pretrained_cfg.get("std"))

    @property
    def image_size(self):
        size = self.pretrained_cfg.get("input_size")
        return int(size[-1]) if size else None


def _triple(values):
    return tuple(float(v) for v in values) if values else None


def hub_cache_dir():
    """Where huggingface_hub keeps models, by its own environment variables."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HUGGINGFACE_HUB_CACHE"):  # the older name, still honoured by huggingface_hub
        return Path(os.environ["HUGGINGFACE_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "huggingface" / "hub"


def looks_like_hub_name(name):
    """ "timm/deit_small_patch16_224.fb_in1k", "hf-hub:timm/x" or "deit_small_patch16_224.fb_in1k"."""
    text = str(name)
    return text.startswith("hf-hub:") or "/" in text or "." in text


def parse_name(name):
    """(repo_id, architecture) of a timm / Hugging Face name; a bare timm name gets the `timm/` org."""
    text = str(name).removeprefix("hf-hub:").strip("/")
    repo_id = text if "/" in text else f"timm/{text}"
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(parts):
        raise UserError(f"{name!r}: expected ORG/NAME like timm/deit_small_patch16_224.fb_in1k")
    return repo_id, parts[1].split(".", 1)[0]


def find(name, cache_dir=None, revision=None) -> CachedCheckpoint:
    """The cached checkpoint of `name` (revision: a commit hash or a ref such as main)."""
    repo_id, architecture = parse_name(name)
    root = Path(cache_dir).expanduser() if cache_dir else hub_cache_dir()
    folder = root / ("models--" + repo_id.replace("/", "--"))
    chosen = revision or _only_revision(root, repo_id)
    weights = next((path for path in (_cached(repo_id, f, root, chosen) for f in WEIGHT_FILES) if path), None)
    if weights is None:
        at = f"@{revision}" if revision else ""
        if _cached(repo_id, "config.json", root, chosen):
            raise NotInCacheError(
                f"{repo_id}{at}: the cache holds its config.json but no weights file "
                f"({', '.join(WEIGHT_FILES)}); the download was partial"
            )
        raise NotInCacheError(
            f"{repo_id}{at} is not in the local Hugging Face cache: looked for {folder}/snapshots/"
            f"(cache {root}, from HF_HUB_CACHE / HF_HOME); fetch it once where there is a network "
            f"(`huggingface-cli download {repo_id}` or timm's pretrained=True), or give the file"
        )
    config = {}
    config_path = _cached(repo_id, "config.json", root, chosen)
    if config_path is not None:
        try:
            config = json.loads(config_path.read_text())
        except json.JSONDecodeError as error:
            raise UserError(f"{config_path}: not valid JSON ({error})") from None
    architecture = config.get("architecture") or architecture
    return CachedCheckpoint(
        repo_id=repo_id, architecture=architecture, weights=weights, config=config, revision=weights.parent.name
    )


def _cached(repo_id, filename, root, revision):
    """The file's path in the cache, or None: huggingface_hub's own cache lookup (refs resolved to
    their commit, files it recorded as missing upstream treated as absent), never the network."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, filename, cache_dir=str(root), revision=revision)
    return Path(found) if isinstance(found, str) else None


def _only_revision(root, repo_id):
    """None when refs/main exists (huggingface_hub follows it); else the newest cached snapshot's
    commit (a cache copied without refs/), or None when the repo is not cached at all."""
    folder = Path(root) / ("models--" + repo_id.replace("/", "--"))
    if (folder / "refs" / "main").is_file() or not folder.is_dir():
        return None
    from huggingface_hub import scan_cache_dir

    try:
        repos = [r for r in scan_cache_dir(root).repos if r.repo_id == repo_id and r.repo_type == "model"]
    except Exception:  # noqa: BLE001 - a cache huggingface_hub cannot scan: treat the repo as absent
        return None
    revisions = [rev for repo in repos for rev in repo.revisions]
    return max(revisions, key=lambda rev: rev.last_modified).commit_hash if revisions else None


def import_cached(name, cache_dir=None, revision=None, num_classes=None, image_size=None, mean=None, std=None):
    """(model, notes, CachedCheckpoint): the cached checkpoint imported as timm preprocesses it.

    Arguments left as None take the checkpoint's own (classes, input size, mean, std); the
    evaluation crop comes from its config.json's pretrained_cfg, else from vitlab's table of
    timm tags (vitlab/models/registry.py PRETRAINED), else the architecture's default.
    """
    from vitlab.models import preprocessing, registry
    from vitlab.models.timm_convert import import_checkpoint

    cached = find(name, cache_dir=cache_dir, revision=revision)
    cfg = preprocessing.from_pretrained_cfg(cached.pretrained_cfg)
    tagged = cached.repo_id.split("/", 1)[1]
    build = (
        tagged
        if tagged in registry.PRETRAINED and tagged.startswith(cached.architecture + ".")
        else cached.architecture
    )
    model, notes = import_checkpoint(
        build,
        cached.weights,
        num_classes=num_classes,
        image_size=image_size or cfg.get("image_size"),
        mean=mean or cfg.get("mean"),
        std=std or cfg.get("std"),
        crop_pct=cfg.get("crop_pct"),
        interpolation=cfg.get("interpolation"),
    )
    return model, notes, cached


PREFIX = "hf:"  # model spec `hf:ORG/NAME[@REVISION]`: a checkpoint of the local Hugging Face cache


def converted(name, cache_dir=None):
    """The .keras file of a cached checkpoint (`timm/deit_small_patch16_224.fb_in1k[@REVISION]`),
    imported once per revision into $VITLAB_CACHE/hf (or ~/.cache/vitlab/hf) and reused: what the
    model spec `hf:NAME` stands for in recipes and `-m`."""
    text, _, revision = str(name).partition("@")
    cached = find(text, cache_dir=cache_dir, revision=revision or None)
    root = Path(os.environ.get("VITLAB_CACHE") or Path.home() / ".cache" / "vitlab") / "hf"
    # named NAME.keras, so results call the model by its timm name (deit_small_patch16_224.fb_in1k)
    target = root / cached.repo_id.replace("/", "--") / cached.revision / f"{cached.repo_id.split('/', 1)[1]}.keras"
    if not target.exists():
        model, _, _ = import_cached(text, cache_dir=cache_dir, revision=cached.revision)
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic.replacing(target, suffix=".keras") as partial:  # a concurrent run never reads half a file
            model.save(partial)
    return target

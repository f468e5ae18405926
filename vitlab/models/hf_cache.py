"""Checkpoints from the local Hugging Face cache, where timm users already have them.

`timm.create_model("deit_small_patch16_224.fb_in1k", pretrained=True)` downloads
`timm/deit_small_patch16_224.fb_in1k` into the hub cache; this module finds it there with no
network access. The layout (huggingface_hub's `file_download.py`, `constants.py`):

    $HF_HUB_CACHE (default $HF_HOME/hub, $HF_HOME default $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface)
      models--ORG--NAME/refs/main            the commit hash `main` points to
      models--ORG--NAME/snapshots/REV/       model.safetensors (or pytorch_model.bin), config.json

timm's config.json names the architecture and carries `pretrained_cfg` (mean, std, input_size,
num_classes), which `vitlab weights import` uses so the imported model preprocesses as timm does.
"""

import dataclasses
import json
import os
from pathlib import Path

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
    """"timm/deit_small_patch16_224.fb_in1k", "hf-hub:timm/x" or "deit_small_patch16_224.fb_in1k"."""
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
    snapshot = _snapshot(folder, revision)
    if snapshot is None:
        at = f"@{revision}" if revision else ""
        raise NotInCacheError(f"{repo_id}{at} is not in the local Hugging Face cache: looked for {folder}/snapshots/"
                              f"(cache {root}, from HF_HUB_CACHE / HF_HOME); fetch it once where there is a network "
                              f"(`huggingface-cli download {repo_id}` or timm's pretrained=True), or give the file")
    weights = next((snapshot / f for f in WEIGHT_FILES if (snapshot / f).exists()), None)
    if weights is None:
        raise NotInCacheError(f"{snapshot}: no weights file ({', '.join(WEIGHT_FILES)}); the download was partial")
    config = {}
    if (snapshot / "config.json").exists():
        try:
            config = json.loads((snapshot / "config.json").read_text())
        except json.JSONDecodeError as error:
            raise UserError(f"{snapshot / 'config.json'}: not valid JSON ({error})") from None
    architecture = config.get("architecture") or architecture
    return CachedCheckpoint(repo_id=repo_id, architecture=architecture, weights=weights, config=config,
                            revision=snapshot.name)


def _snapshot(folder, revision):
    snapshots = folder / "snapshots"
    if not snapshots.is_dir():
        return None
    ref = revision or "main"
    ref_file = folder / "refs" / ref
    commit = ref_file.read_text().strip() if ref_file.is_file() else ref
    if (snapshots / commit).is_dir():
        return snapshots / commit
    if revision is not None:
        return None
    candidates = [p for p in snapshots.iterdir() if p.is_dir()]
    return max(candidates, key=lambda p: p.stat().st_mtime) if candidates else None  # newest download


def import_cached(name, cache_dir=None, revision=None, num_classes=None, image_size=None, mean=None, std=None):
    """(model, notes, CachedCheckpoint): the cached checkpoint imported as timm preprocesses it.

    Arguments left as None take the checkpoint's own (classes, input size, mean, std).
    """
    from vitlab.models.timm_convert import import_checkpoint

    cached = find(name, cache_dir=cache_dir, revision=revision)
    model, notes = import_checkpoint(cached.architecture, cached.weights, num_classes=num_classes,
                                     image_size=image_size or cached.image_size, mean=mean or cached.mean,
                                     std=std or cached.std)
    return model, notes, cached

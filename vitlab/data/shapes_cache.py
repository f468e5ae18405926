"""Options of the shapes set and its on-disk cache (one .npz per option set, written atomically).

Cache directory: $VITLAB_CACHE or ~/.cache/vitlab, under shapes/. The objects64 cache beside it
(objects_cache) reuses its root, its atomic write and its read-or-build policy.
"""

import dataclasses
import os
import pathlib

import numpy as np

from vitlab import atomic
from vitlab.data import shapes


@dataclasses.dataclass(frozen=True)
class ShapesOptions:
    """What a shapes split is made from; `load("shapes:VARIANT,key=value,...")` sets these."""

    train_size: int = 10000
    test_size: int = 2000
    p: float = 0.8
    seed: int = 0

    def size(self, split):
        return self.train_size if split == "train" else self.test_size

    def validate(self):
        if self.train_size < 1 or self.test_size < 1:
            raise ValueError(f"shapes sizes must be >= 1, got train_size={self.train_size} test_size={self.test_size}")
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"shapes p must be in [0, 1], got {self.p}")
        return self


def cache_dir():
    root = os.environ.get("VITLAB_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "vitlab")
    return pathlib.Path(root) / "shapes"


def cache_path(variant, split, image_size, options):
    name = (
        f"{variant}-{split}-{image_size}px-seed{options.seed}-n{options.size(split)}"
        f"-p{options.p:g}-v{shapes.GENERATOR_VERSION}.npz"
    )
    return cache_dir() / name


def write_npz(path, **arrays):
    """The arrays as one .npz at `path`, written atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic.replacing(path) as temp, open(temp, "wb") as stream:
        np.savez(stream, **arrays)


def read_or_build(path, read, build, write, use_cache=True):
    """The generated sets' cache policy (objects64 keeps its files beside these): `read(path)` when
    the file is there, else, or when it is damaged, `build()` and `write(path, sample)`."""
    if use_cache and path.exists():
        try:
            return read(path)
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache file is rebuilt below
    sample = build()
    if use_cache:
        try:
            write(path, sample)
        except OSError:
            pass  # a read-only cache only costs the regeneration next time
    return sample


def _read(path):
    with np.load(path) as stored:
        return shapes.ShapesSample(stored["images"], stored["masks"], stored["labels"], stored["textures"])


def _write(path, sample):
    write_npz(path, images=sample.images, masks=sample.masks, labels=sample.labels, textures=sample.textures)


def load_or_build(variant="default", split="train", image_size=32, options=None, use_cache=True):
    """The split's arrays, from the cache when present, else generated (and cached)."""
    options = (options or ShapesOptions()).validate()

    def build():
        return shapes.generate(options.size(split), variant, split, image_size, options.seed, options.p)

    return read_or_build(cache_path(variant, split, image_size, options), _read, build, _write, use_cache)

"""Options of the objects64 set and its on-disk cache, beside the shapes cache.

Cache directory: $VITLAB_CACHE or ~/.cache/vitlab, under objects64/: one .npz per option
set, written atomically. The instance map is stored; the mask is derived from it.
"""

import dataclasses

import numpy as np

from vitlab.data import objects, shapes_cache


@dataclasses.dataclass(frozen=True)
class ObjectsOptions:
    """What an objects64 split is made from; `load("objects64:VARIANT,key=value,...")` sets these."""

    train_size: int = 10000
    test_size: int = 2000
    p: float = 0.8
    seed: int = 0
    layout: str = objects.DEFAULT_LAYOUT

    def size(self, split):
        return self.train_size if split == "train" else self.test_size

    def validate(self):
        if self.train_size < 1 or self.test_size < 1:
            raise ValueError(
                f"objects64 sizes must be >= 1, got train_size={self.train_size} test_size={self.test_size}"
            )
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"objects64 p must be in [0, 1], got {self.p}")
        if self.layout not in objects.LAYOUTS:
            raise ValueError(f"objects64 layout must be one of {', '.join(objects.LAYOUTS)}, got {self.layout!r}")
        return self


def from_shapes_options(options):
    """ObjectsOptions from a ShapesOptions (the fields they share), or the object itself."""
    if options is None or isinstance(options, ObjectsOptions):
        return options or ObjectsOptions()
    shared = {field.name for field in dataclasses.fields(ObjectsOptions)}
    return ObjectsOptions(**{k: v for k, v in dataclasses.asdict(options).items() if k in shared})


def cache_dir():
    return shapes_cache.cache_dir().parent / "objects64"


def cache_path(variant, split, image_size, options):
    name = (
        f"{variant}-{split}-{image_size}px-{options.layout}-seed{options.seed}-n{options.size(split)}"
        f"-p{options.p:g}-v{objects.GENERATOR_VERSION}.npz"
    )
    return cache_dir() / name


def _write(path, sample):
    shapes_cache.write_npz(
        path, images=sample.images, instances=sample.instances, labels=sample.labels, textures=sample.textures
    )


def _read(path):
    with np.load(path) as stored:
        instances = stored["instances"]
        return objects.ObjectsSample(
            stored["images"], (instances > 0).astype(np.uint8), stored["labels"], stored["textures"], instances
        )


def load_or_build(variant="default", split="train", image_size=64, options=None, use_cache=True):
    """The split's arrays, from the cache when present, else generated (and cached)."""
    options = from_shapes_options(options).validate()

    def build():
        return objects.generate(
            options.size(split), variant, split, image_size, options.seed, options.p, options.layout
        )

    path = cache_path(variant, split, image_size, options)
    return shapes_cache.read_or_build(path, _read, build, _write, use_cache)

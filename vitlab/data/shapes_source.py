"""`shapes[:VARIANT][,key=value...]`: the generated set, made at the requested size (no resize)."""

from vitlab.data import generated_names, generated_source
from vitlab.data.errors import DatasetError

VARIANTS, SPLITS = generated_names.VARIANTS, generated_names.SPLITS
_TYPES = {"train_size": int, "test_size": int, "seed": int, "p": float}


def parse(name, split, options=None):
    """'shapes:cue_conflict,p=0.9' -> (variant, split, ShapesOptions)."""
    from vitlab.data.shapes_cache import ShapesOptions

    return generated_names.parse(name, split, "shapes", options or ShapesOptions(), _TYPES)


def describe(name, split, options=None):
    from vitlab.data import shapes, textures

    variant, split, options = parse(name, split, options)
    return generated_source.split_info(name, split, variant, options, shapes.SHAPE_NAMES, textures.TEXTURE_NAMES)


def load(name, split, image_size, batch_size, limit, seed, shuffle, repeat, options=None):
    from vitlab.data import shapes_cache

    variant, split, options = parse(name, split, options)
    if image_size < 16:
        raise DatasetError(f"shapes image_size must be >= 16, got {image_size}")
    sample = shapes_cache.load_or_build(variant, split, image_size, options)
    origin = {"source": "shapes", "variant": variant}
    info = describe(name, split, options)
    return generated_source.split_dataset(
        info, sample, origin, options, image_size, batch_size, limit, seed, shuffle, repeat
    )

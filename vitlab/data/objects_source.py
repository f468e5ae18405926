"""`objects64[:VARIANT][,key=value...]`: the generated 64-px objects set.

Keys: train_size, test_size, p, seed (as shapes) and layout (single | multi). The images
are always made at 64 px (one cache per option set) and resized by the pipeline when a
model asks for another size, so the name means what it says.
"""

from vitlab.data import generated_names, generated_source

NAME = "objects64"
IMAGE_SIZE = 64
VARIANTS, SPLITS = generated_names.VARIANTS, generated_names.SPLITS
_TYPES = {"train_size": int, "test_size": int, "seed": int, "p": float, "layout": str}


def matches(name):
    return name == NAME or name.startswith((NAME + ":", NAME + ","))


def parse(name, split, options=None):
    """'objects64:cue_conflict,layout=single' -> (variant, split, ObjectsOptions)."""
    from vitlab.data.objects_cache import from_shapes_options

    return generated_names.parse(name, split, NAME, from_shapes_options(options), _TYPES)


def describe(name, split, options=None):
    from vitlab.data import objects

    variant, split, options = parse(name, split, options)
    return generated_source.split_info(name, split, variant, options, objects.CLASS_NAMES, objects.FAMILY_NAMES)


def load(name, split, image_size, batch_size, limit, seed, shuffle, repeat, options=None):
    from vitlab.data import objects_cache

    variant, split, options = parse(name, split, options)
    sample = objects_cache.load_or_build(variant, split, IMAGE_SIZE, options)
    origin = {"source": NAME, "variant": variant, "generated_size": IMAGE_SIZE}
    info = describe(name, split, options)
    return generated_source.split_dataset(
        info, sample, origin, options, image_size, batch_size, limit, seed, shuffle, repeat
    )

"""`objects64[:VARIANT][,key=value...]`: the generated 64-px objects set.

Keys: train_size, test_size, p, seed (as shapes) and layout (single | multi). The images
are always made at 64 px (one cache per option set) and resized by the pipeline when a
model asks for another size, so the name means what it says.
"""

import dataclasses

from vitlab.data import generated_names
from vitlab.data.dataset import Dataset, DatasetInfo

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
    conflict = variant == "cue_conflict"
    return DatasetInfo(
        name=name,
        split=split,
        num_classes=objects.NUM_CLASSES,
        class_names=list(objects.CLASS_NAMES),
        num_examples=options.size(split),
        has_mask=True,
        has_label2=conflict,
        label2_names=list(objects.FAMILY_NAMES) if conflict else [],
    )


def load(name, split, image_size, batch_size, limit, seed, shuffle, repeat, options=None):
    from vitlab.data import objects_cache, pipeline

    variant, split, options = parse(name, split, options)
    sample = objects_cache.load_or_build(variant, split, IMAGE_SIZE, options)
    columns = {"image": sample.images, "label": sample.labels, "mask": sample.masks}
    if variant == "cue_conflict":
        columns["label2"] = sample.textures
    data, count = pipeline.array_pipeline(columns, image_size, batch_size, limit, seed, shuffle, repeat)
    info = describe(name, split, options)
    return Dataset(
        name=name,
        split=split,
        pipeline=data,
        num_classes=info.num_classes,
        class_names=info.class_names,
        image_size=image_size,
        num_examples=count,
        has_mask=True,
        has_label2=info.has_label2,
        label2_names=info.label2_names,
        preprocessing={
            "source": NAME,
            "variant": variant,
            "generated_size": IMAGE_SIZE,
            "image_size": image_size,
            **dataclasses.asdict(options),
            "limit": limit,
        },
    )

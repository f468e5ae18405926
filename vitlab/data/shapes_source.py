"""`shapes[:VARIANT][,key=value...]`: the generated set, made at the requested size (no resize)."""

import dataclasses

from vitlab.data import generated_names
from vitlab.data.dataset import Dataset, DatasetInfo
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
    return DatasetInfo(
        name=name,
        split=split,
        num_classes=shapes.NUM_CLASSES,
        class_names=list(shapes.SHAPE_NAMES),
        num_examples=options.size(split),
        has_mask=True,
        has_label2=variant == "cue_conflict",
        label2_names=list(textures.TEXTURE_NAMES) if variant == "cue_conflict" else [],
    )


def load(name, split, image_size, batch_size, limit, seed, shuffle, repeat, options=None):
    from vitlab.data import pipeline, shapes_cache

    variant, split, options = parse(name, split, options)
    if image_size < 16:
        raise DatasetError(f"shapes image_size must be >= 16, got {image_size}")
    sample = shapes_cache.load_or_build(variant, split, image_size, options)
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
            "source": "shapes",
            "variant": variant,
            "image_size": image_size,
            **dataclasses.asdict(options),
            "limit": limit,
        },
    )

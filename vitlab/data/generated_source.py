"""What a split of a generated set (shapes, objects64) is, the same for both sets: its DatasetInfo
(masks always; label2, the texture class, in cue_conflict only) and its Dataset (the sample's
arrays through the in-memory pipeline, keyed by the options the sample was made with)."""

import dataclasses

from vitlab.data.dataset import Dataset, DatasetInfo


def split_info(name, split, variant, options, class_names, texture_names):
    """`texture_names` name label2's values (cue_conflict only)."""
    conflict = variant == "cue_conflict"
    return DatasetInfo(
        name=name,
        split=split,
        num_classes=len(class_names),
        class_names=list(class_names),
        num_examples=options.size(split),
        has_mask=True,
        has_label2=conflict,
        label2_names=list(texture_names) if conflict else [],
    )


def split_dataset(info, sample, origin, options, image_size, batch_size, limit, seed, shuffle, repeat):
    """The split `info` (from split_info) describes, counted after `limit`. `origin`: the first
    preprocessing entries, which say where the arrays come from (source, variant, ...); the
    options follow them."""
    from vitlab.data import pipeline

    columns = {"image": sample.images, "label": sample.labels, "mask": sample.masks}
    if info.has_label2:
        columns["label2"] = sample.textures
    data, count = pipeline.array_pipeline(columns, image_size, batch_size, limit, seed, shuffle, repeat)
    return Dataset(
        **dict(dataclasses.asdict(info), num_examples=count),
        pipeline=data,
        image_size=image_size,
        preprocessing={**origin, "image_size": image_size, **dataclasses.asdict(options), "limit": limit},
    )

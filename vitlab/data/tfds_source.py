"""`tfds:NAME[/CONFIG]`: a TFDS dataset the user has already prepared. Never downloads.

A missing dataset raises DatasetError saying how to prepare it; `test` falls back to
`validation` for datasets without a test split (ImageNet), recorded in Dataset.split.
"""

from vitlab.data.dataset import Dataset, DatasetInfo
from vitlab.data.errors import DatasetError


def _builder(spec, data_dir):
    import tensorflow_datasets as tfds

    if spec.split("/")[0].split(":")[0] == "vitlab_shapes":
        import vitlab.data.tfds_shapes  # noqa: F401  registers the builder
    try:
        builder = tfds.builder(spec, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        raise DatasetError(f"unknown TFDS dataset {spec!r} (see `tfds.list_builders()`)") from None
    except ValueError as error:
        raise DatasetError(f"TFDS dataset {spec!r}: {str(error).splitlines()[0][:200]}") from None
    if not builder.is_prepared():
        base = data_dir or "~/tensorflow_datasets"
        manual = (
            f"; put the manual download files in {base}/downloads/manual first"
            if getattr(builder, "MANUAL_DOWNLOAD_INSTRUCTIONS", None)
            else ""
        )
        raise DatasetError(
            f"TFDS dataset {spec!r} is not prepared in {builder.data_dir}: prepare it with "
            f"`tfds build {spec} --data_dir {base}`{manual} (vitlab never downloads it)"
        )
    return builder


def _features(builder, spec):
    import tensorflow_datasets as tfds

    features = builder.info.features
    images = [key for key, value in features.items() if isinstance(value, tfds.features.Image) and key != "mask"]
    labels = [key for key, value in features.items() if isinstance(value, tfds.features.ClassLabel) and key != "label2"]
    if not images or not labels:
        raise DatasetError(f"TFDS dataset {spec!r} has no image + class-label features ({', '.join(features)})")
    image_key = "image" if "image" in images else images[0]
    label_key = "label" if "label" in labels else labels[0]
    return image_key, label_key, "mask" in features, "label2" in features


def _split(builder, spec, split):
    splits = builder.info.splits
    if split in splits:
        return split
    if split == "test" and "validation" in splits:
        return "validation"
    raise DatasetError(f"TFDS dataset {spec!r} has no split {split!r}; splits: {', '.join(sorted(splits))}")


def describe(spec, split, data_dir=None):
    builder = _builder(spec, data_dir)
    split = _split(builder, spec, split)
    image_key, label_key, has_mask, has_label2 = _features(builder, spec)
    features = builder.info.features
    return DatasetInfo(
        name=f"tfds:{spec}",
        split=split,
        num_classes=features[label_key].num_classes,
        class_names=list(features[label_key].names),
        num_examples=builder.info.splits[split].num_examples,
        has_mask=has_mask,
        has_label2=has_label2,
        label2_names=list(features["label2"].names) if has_label2 else [],
    )


def load(
    spec,
    split,
    image_size,
    batch_size,
    limit,
    seed,
    shuffle,
    repeat,
    data_dir=None,
    crop_pct=None,
    interpolation=None,
    resize="crop",
):
    import tensorflow as tf

    from vitlab.data import pipeline

    info = describe(spec, split, data_dir)
    builder = _builder(spec, data_dir)
    image_key, label_key, has_mask, has_label2 = _features(builder, spec)
    count = info.num_examples if limit is None else min(int(limit), info.num_examples)
    data = builder.as_dataset(split=f"{info.split}[:{count}]", shuffle_files=False).enumerate()
    if shuffle:
        data = data.shuffle(min(count, 10000), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        data = data.repeat()

    def convert(index, example):
        squash = resize == "squash"
        image = pipeline.transform_image(example[image_key], image_size, resize, crop_pct, interpolation)
        out = {"image": image, "label": tf.cast(example[label_key], tf.int32), "index": index}
        if has_mask:
            mask = tf.cast(example["mask"][..., :1] > 0, tf.float32)  # one object: any non-zero label
            out["mask"] = (
                pipeline.resize_to_square_mask(mask, image_size)
                if squash
                else pipeline.resize_and_centre_crop_mask(mask, image_size, crop_pct)
            )  # the image's geometry
        if has_label2:
            out["label2"] = tf.cast(example["label2"], tf.int32)
        return out

    data = data.map(convert, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size).prefetch(tf.data.AUTOTUNE)
    return Dataset(
        name=f"tfds:{spec}",
        split=info.split,
        pipeline=data,
        num_classes=info.num_classes,
        class_names=info.class_names,
        image_size=image_size,
        num_examples=count,
        has_mask=has_mask,
        has_label2=has_label2,
        label2_names=info.label2_names,
        preprocessing={
            "source": "tfds",
            "name": spec,
            "image_size": image_size,
            **pipeline.resize_record(resize, crop_pct, interpolation),
            "limit": limit,
        },
    )

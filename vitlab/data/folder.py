"""An image-folder tree (one folder per class, sorted names; the ImageNet val layout).

Either ROOT/<class>/<image> (any split name is accepted) or ROOT/<split>/<class>/<image>
with split folders train, test, val or validation. Files that cannot be decoded are
skipped and their paths collected in Dataset.skipped_files while the pipeline runs.
"""

import logging
import pathlib

import numpy as np

from vitlab.data.dataset import Dataset, DatasetInfo
from vitlab.data.errors import DatasetError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif"}
SPLIT_FOLDERS = {"train": ("train",), "test": ("test", "val", "validation"),
                 "validation": ("validation", "val"), "val": ("val", "validation")}
_log = logging.getLogger("vitlab.data")


def _split_root(root, split):
    children = {child.name for child in root.iterdir() if child.is_dir()}
    split_names = children & {name for names in SPLIT_FOLDERS.values() for name in names}
    if not split_names:
        return root
    for candidate in SPLIT_FOLDERS.get(split, (split,)):
        if candidate in children:
            return root / candidate
    raise DatasetError(f"folder {root} has splits {', '.join(sorted(split_names))}; no split {split!r}")


def scan(path, split):
    """(files, labels, class_names, class_root) of a folder tree, in sorted order."""
    root = pathlib.Path(path).expanduser()
    if not root.is_dir():
        raise DatasetError(f"unknown dataset {str(path)!r}: no such folder (and not a known dataset name)")
    class_root = _split_root(root, split)
    class_dirs = sorted(child for child in class_root.iterdir() if child.is_dir() and not child.name.startswith("."))
    if not class_dirs:
        raise DatasetError(f"folder {class_root} has no class folders (expected one folder per class)")
    files, labels = [], []
    for label, class_dir in enumerate(class_dirs):
        found = sorted(f for f in class_dir.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())
        files += [str(f) for f in found]
        labels += [label] * len(found)
    if not files:
        raise DatasetError(f"folder {class_root} has no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in its "
                           f"{len(class_dirs)} class folders")
    return files, np.asarray(labels, np.int32), [d.name for d in class_dirs], class_root


def describe(path, split):
    files, _, class_names, _ = scan(path, split)
    return DatasetInfo(name=str(path), split=split, num_classes=len(class_names), class_names=class_names,
                       num_examples=len(files))


def _decoder(skipped):
    import tensorflow as tf

    def decode(path):
        name = path.numpy().decode()
        try:
            image = tf.io.decode_image(tf.io.read_file(name), channels=3, expand_animations=False)
            return image, True
        except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError, tf.errors.DataLossError,
                tf.errors.UnknownError) as error:
            if name not in skipped:
                skipped.append(name)
                _log.warning("skipped unreadable image %s: %s", name, str(error).splitlines()[0][:120])
            return tf.zeros((1, 1, 3), tf.uint8), False

    return decode


def load(path, split, image_size, batch_size, limit, seed, shuffle, repeat, crop_pct=None, interpolation=None):
    import tensorflow as tf

    from vitlab.data import pipeline

    files, labels, class_names, class_root = scan(path, split)
    count = len(files) if limit is None else min(int(limit), len(files))
    skipped = []
    decode = _decoder(skipped)
    paths, targets = tf.constant(files[:count]), tf.constant(labels[:count])

    def read(index):
        image, ok = tf.py_function(decode, [paths[index]], [tf.uint8, tf.bool])
        image.set_shape([None, None, 3])
        return {"image": image, "label": targets[index], "index": index, "ok": ok}

    def finish(example):
        return {"image": pipeline.resize_and_centre_crop(example["image"], image_size, crop_pct, interpolation),
                "label": example["label"], "index": example["index"]}

    order = tf.data.Dataset.range(count)
    if shuffle:
        order = order.shuffle(max(count, 1), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        order = order.repeat()
    data = (order.map(read, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .filter(lambda example: example["ok"])
            .map(finish, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .batch(batch_size).prefetch(tf.data.AUTOTUNE))
    return Dataset(name=str(path), split=split, pipeline=data, num_classes=len(class_names),
                   class_names=class_names, image_size=image_size, num_examples=count, skipped_files=skipped,
                   preprocessing={"source": "folder", "root": str(class_root), "image_size": image_size,
                                  **pipeline.crop_record(crop_pct, interpolation), "limit": limit})

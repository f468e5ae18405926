"""PASCAL VOC 2012 segmentation (`voc:PATH`): images with per-object-class label masks.

The official evaluate_segmentation.py reads torchvision's VOCSegmentation (image_set "val"):
JPEGImages/<id>.jpg with SegmentationClass/<id>.png, a palette PNG whose index is the object
class (1-20), 0 the background and 255 the void border (utils.py get_voc_dataset). vitlab
reads the same files from PATH (a VOC2012 folder, or a VOCdevkit holding one) and keeps the
mask's labels as they are, so the segmentation score can be taken per object class
(vitlab.protocol.segmentation.object_jaccard). Nothing is downloaded.

Each image's classification label is the object class covering the most pixels (0-19), so
the classifier experiments also run on it; the masks are the point of this source.
"""

import pathlib

import numpy as np

from vitlab.data.dataset import Dataset, DatasetInfo
from vitlab.data.errors import DatasetError

CLASS_NAMES = [
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
]
VOID = 255
SPLITS = {"val": "val", "validation": "val", "test": "val", "train": "train", "trainval": "trainval"}


def root_of(path):
    """The VOC2012 folder: PATH itself, or PATH/VOC2012, or PATH/VOCdevkit/VOC2012."""
    base = pathlib.Path(str(path)).expanduser()
    for candidate in (base, base / "VOC2012", base / "VOCdevkit" / "VOC2012"):
        if (candidate / "SegmentationClass").is_dir() and (candidate / "JPEGImages").is_dir():
            return candidate
    raise DatasetError(
        f"voc:{path}: no VOC2012 folder with JPEGImages/ and SegmentationClass/ there "
        "(give the VOC2012 folder or the VOCdevkit above it)"
    )


def ids(root, split):
    if split not in SPLITS:
        raise DatasetError(f"voc: unknown split {split!r}; known: {', '.join(SPLITS)}")
    listing = root / "ImageSets" / "Segmentation" / f"{SPLITS[split]}.txt"
    if not listing.is_file():
        raise DatasetError(f"voc: {listing} is missing (the split's list of image ids)")
    names = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
    if not names:
        raise DatasetError(f"voc: {listing} lists no images")
    return names


def describe(path, split):
    root = root_of(path)
    return DatasetInfo(
        name=f"voc:{path}",
        split=SPLITS.get(split, split),
        num_classes=len(CLASS_NAMES),
        class_names=list(CLASS_NAMES),
        num_examples=len(ids(root, split)),
        has_mask=True,
    )


def read_pair(root, image_id):
    """(uint8 (H, W, 3) image, uint8 (H, W) labels, class label) of one id; ValueError if unreadable."""
    from PIL import Image

    from vitlab.data import folder

    image = folder.read_rgb(str(root / "JPEGImages" / f"{image_id}.jpg"))
    try:
        with Image.open(root / "SegmentationClass" / f"{image_id}.png") as png:
            if png.mode not in ("P", "L"):
                raise ValueError(f"mask {image_id}.png is {png.mode}, expected a palette (P) or L image of labels")
            labels = np.asarray(png, dtype=np.uint8)
    except (OSError, SyntaxError) as error:
        raise ValueError(
            f"mask {image_id}.png: {str(error).splitlines()[0] if str(error) else type(error).__name__}"
        ) from None
    if labels.shape != image.shape[:2]:
        raise ValueError(
            f"mask {image_id}.png is {labels.shape[1]}x{labels.shape[0]}, its image {image.shape[1]}x{image.shape[0]}"
        )
    return image, labels, dominant_class(labels)


def dominant_class(labels):
    """The object class (0-19) covering the most pixels; 0 when the mask holds none."""
    counts = np.bincount(labels.reshape(-1), minlength=256)[1 : len(CLASS_NAMES) + 1]
    return int(np.argmax(counts)) if counts.any() else 0


def load(
    path, split, image_size, batch_size, limit, seed, shuffle, repeat, crop_pct=None, interpolation=None, resize="crop"
):
    import tensorflow as tf

    from vitlab.data import pipeline

    root = root_of(path)
    names = ids(root, split)
    count = len(names) if limit is None else min(int(limit), len(names))
    skipped = []
    id_tensor = tf.constant(names[:count])

    def decode(image_id):
        name = image_id.numpy().decode()
        try:
            image, labels, label = read_pair(root, name)
            return image, labels, np.int32(label), True
        except ValueError as error:
            skipped.append(f"{name}: {error}")
            return np.zeros((1, 1, 3), np.uint8), np.zeros((1, 1), np.uint8), np.int32(0), False

    def read(index):
        image, labels, label, ok = tf.py_function(decode, [id_tensor[index]], [tf.uint8, tf.uint8, tf.int32, tf.bool])
        image.set_shape([None, None, 3])
        labels.set_shape([None, None])
        return {"image": image, "mask": labels, "label": label, "index": index, "ok": ok}

    def finish(example):
        mask = tf.cast(example["mask"][..., None], tf.float32)
        if resize == "squash":
            image = pipeline.resize_to_square(example["image"], image_size)  # official: bilinear, any model
            mask = pipeline.resize_to_square_mask(mask, image_size)
        else:
            image = pipeline.resize_and_centre_crop(example["image"], image_size, crop_pct, interpolation)
            mask = pipeline.resize_and_centre_crop_mask(mask, image_size, crop_pct)
        return {"image": image, "mask": mask, "label": example["label"], "index": example["index"]}

    data = pipeline.file_pipeline(count, read, finish, batch_size, seed, shuffle, repeat)
    return Dataset(
        name=f"voc:{path}",
        split=SPLITS[split],
        pipeline=data,
        num_classes=len(CLASS_NAMES),
        class_names=list(CLASS_NAMES),
        image_size=image_size,
        num_examples=count,
        has_mask=True,
        skipped_files=skipped,
        preprocessing={
            "source": "voc",
            "root": str(root),
            "image_size": image_size,
            **pipeline.resize_record(resize, crop_pct, interpolation),
            "limit": limit,
        },
    )

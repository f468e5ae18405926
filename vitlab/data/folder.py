"""An image-folder tree (one folder per class, sorted names; the ImageNet val layout).

Either ROOT/<class>/<image> (any split name is accepted) or ROOT/<split>/<class>/<image>
with split folders train, test, val or validation. Files that cannot be decoded are
skipped and their paths collected in Dataset.skipped_files while the pipeline runs.

Images are decoded with Pillow the way a viewer shows them: EXIF orientation applied,
grayscale, palette, RGBA (over black), CMYK and 16-bit converted to 8-bit RGB. A file
larger than VITLAB_MAX_IMAGE_PIXELS (Pillow's decompression-bomb limit, 89 Mpx) is
skipped from its header alone, before any pixel is decoded; JPEGs are first reduced
at decode time (Image.draft), so a 20000x20000 JPEG costs what a 2500x2500 one does.
"""

import logging
import os
import pathlib

import numpy as np

from vitlab.data.dataset import Dataset, DatasetInfo
from vitlab.data.errors import DatasetError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif"}
SPLIT_FOLDERS = {
    "train": ("train",),
    "test": ("test", "val", "validation"),
    "validation": ("validation", "val"),
    "val": ("val", "validation"),
}
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
    _check_loops(class_root, class_dirs)
    files, labels = [], []
    for label, class_dir in enumerate(class_dirs):
        found = sorted(f for f in class_dir.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())
        files += [str(f) for f in found]
        labels += [label] * len(found)
    if not files:
        raise DatasetError(
            f"folder {class_root} has no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in its "
            f"{len(class_dirs)} class folders"
        )
    return files, np.asarray(labels, np.int32), [d.name for d in class_dirs], class_root


def _check_loops(class_root, class_dirs):
    """A class folder that links back above itself would list the tree inside itself."""
    root = class_root.resolve()
    for class_dir in class_dirs:
        target = class_dir.resolve()
        if target == root or target in root.parents:
            raise DatasetError(f"class folder {class_dir} links back to {target} (a symlink loop); remove the link")


def max_pixels():
    try:
        return int(os.environ.get("VITLAB_MAX_IMAGE_PIXELS", 89_478_485))
    except ValueError:
        raise DatasetError("VITLAB_MAX_IMAGE_PIXELS: expected an integer number of pixels") from None


def read_rgb(name, image_size=None):
    """uint8 [H, W, 3] of one file as a viewer shows it; raises ValueError with the reason."""
    from PIL import Image, ImageOps

    limit = max_pixels()
    try:
        with Image.open(name) as image:
            if image.format == "JPEG" and image_size:
                image.draft("RGB", (4 * image_size, 4 * image_size))  # DCT scaling: never decode the full size
            width, height = image.size
            if width * height > limit:
                raise ValueError(
                    f"too large: {width}x{height} pixels, more than {limit} (VITLAB_MAX_IMAGE_PIXELS); downscale it"
                )
            image = ImageOps.exif_transpose(image)
            return _to_rgb(image)
    except Image.DecompressionBombError as error:
        raise ValueError(f"too large: {error}") from None
    except (OSError, SyntaxError, Image.UnidentifiedImageError) as error:
        raise ValueError(str(error).splitlines()[0] if str(error) else type(error).__name__) from None


def _to_rgb(image):
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):  # 16-bit grayscale: scale, do not clip
        gray = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or gray.max() > 255 else 255.0
        gray = np.clip(np.round(gray * 255.0 / peak), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=-1)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = _black(image.size)
        background.paste(image, mask=image.getchannel("A"))
        image = background
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _black(size):
    from PIL import Image

    return Image.new("RGB", size)


def describe(path, split):
    files, _, class_names, _ = scan(path, split)
    return DatasetInfo(
        name=str(path), split=split, num_classes=len(class_names), class_names=class_names, num_examples=len(files)
    )


def _decoder(skipped, image_size=None):
    def decode(path):
        name = path.numpy().decode()
        try:
            return read_rgb(name, image_size), True
        except ValueError as error:
            if name not in skipped:
                skipped.append(name)
                _log.warning(
                    "skipped unreadable image %s (%d skipped so far): %s", name, len(skipped), str(error)[:160]
                )
            return np.zeros((1, 1, 3), np.uint8), False

    return decode


def load(
    path, split, image_size, batch_size, limit, seed, shuffle, repeat, crop_pct=None, interpolation=None, resize="crop"
):
    import tensorflow as tf

    from vitlab.data import pipeline

    files, labels, class_names, class_root = scan(path, split)
    count = len(files) if limit is None else min(int(limit), len(files))
    skipped = []
    decode = _decoder(skipped, image_size)
    paths, targets = tf.constant(files[:count]), tf.constant(labels[:count])

    def read(index):
        image, ok = tf.py_function(decode, [paths[index]], [tf.uint8, tf.bool])
        image.set_shape([None, None, 3])
        return {"image": image, "label": targets[index], "index": index, "ok": ok}

    def finish(example):
        image = pipeline.transform_image(example["image"], image_size, resize, crop_pct, interpolation)
        return {"image": image, "label": example["label"], "index": example["index"]}

    data = pipeline.file_pipeline(count, read, finish, batch_size, seed, shuffle, repeat)
    return Dataset(
        name=str(path),
        split=split,
        pipeline=data,
        num_classes=len(class_names),
        class_names=class_names,
        image_size=image_size,
        num_examples=count,
        skipped_files=skipped,
        preprocessing={
            "source": "folder",
            "root": str(class_root),
            "image_size": image_size,
            **pipeline.resize_record(resize, crop_pct, interpolation),
            "limit": limit,
        },
    )

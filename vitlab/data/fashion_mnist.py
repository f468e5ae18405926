"""`fashion_mnist`: the IDX files of Debian's dataset-fashion-mnist, gray -> RGB, resized."""

import gzip
import os
import pathlib

import numpy as np

from vitlab.data.dataset import Dataset, DatasetInfo
from vitlab.data.errors import DatasetError

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
_PREFIX = {"train": "train", "test": "t10k"}


def _directory(data_dir):
    return pathlib.Path(data_dir or os.environ.get("VITLAB_FASHION_MNIST") or DEFAULT_DIR)


def _idx_file(data_dir, split, kind):
    if split not in _PREFIX:
        raise DatasetError(f"fashion_mnist has no split {split!r}; splits: train, test")
    folder = _directory(data_dir)
    stem = f"{_PREFIX[split]}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.exists():
            return candidate
    raise DatasetError(
        f"fashion_mnist: {folder / stem}[.gz] not found; install Debian's dataset-fashion-mnist "
        f"(`make install` does) or pass --data-dir / $VITLAB_FASHION_MNIST"
    )


def _open(path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_idx(path, header_only=False):
    """An IDX array (big-endian header: magic with dtype and rank, then the dimensions)."""
    with _open(path) as stream:
        magic = stream.read(4)
        if len(magic) != 4 or magic[:2] != b"\0\0" or magic[2] != 0x08:
            raise DatasetError(f"{path}: not an unsigned-byte IDX file")
        shape = tuple(int.from_bytes(stream.read(4), "big") for _ in range(magic[3]))
        if header_only:
            return shape
        data = np.frombuffer(stream.read(), dtype=np.uint8)
    if data.size != int(np.prod(shape)):
        raise DatasetError(f"{path}: truncated IDX file ({data.size} of {int(np.prod(shape))} bytes)")
    return data.reshape(shape)


def describe(split, data_dir=None):
    count = read_idx(_idx_file(data_dir, split, "labels"), header_only=True)[0]
    return DatasetInfo(
        name="fashion_mnist", split=split, num_classes=10, class_names=list(CLASS_NAMES), num_examples=count
    )


def load(split, image_size, batch_size, limit, seed, shuffle, repeat, data_dir=None):
    from vitlab.data import pipeline

    images = read_idx(_idx_file(data_dir, split, "images"))
    labels = read_idx(_idx_file(data_dir, split, "labels")).astype(np.int32)
    if len(images) != len(labels):
        raise DatasetError(f"fashion_mnist {split}: {len(images)} images but {len(labels)} labels")
    data, count = pipeline.array_pipeline(
        {"image": images, "label": labels}, image_size, batch_size, limit, seed, shuffle, repeat
    )
    return Dataset(
        name="fashion_mnist",
        split=split,
        pipeline=data,
        num_classes=10,
        class_names=list(CLASS_NAMES),
        image_size=image_size,
        num_examples=count,
        preprocessing={"source": "fashion_mnist", "image_size": image_size, "resize": "bilinear", "limit": limit},
    )

"""Datasets by name -> tf.data pipelines of dict batches (see dataset.py for the batch contract).

Names:
  shapes[:VARIANT][,key=value...]   generated set; VARIANT default|stylized|cue_conflict
                                   (shapes:train / shapes:test pick the default variant's split);
                                   keys train_size, test_size, p, seed
  objects64[:VARIANT][,key=value...] the study's 64-px set (same variants; keys as shapes plus
                                   layout=single|multi), docs/datasets.md
  fashion_mnist                     IDX files of Debian's dataset-fashion-mnist
  tfds:NAME[/CONFIG]                a TFDS dataset already prepared in data_dir (never downloads)
  voc:PATH                          a PASCAL VOC 2012 folder (images with object masks)
  PATH                              an image-folder tree, one folder per class

This module stays import-light: TensorFlow is imported by `load`, not here.
"""

from vitlab.data.dataset import Dataset, DatasetInfo, from_arrays
from vitlab.data.errors import DatasetError


def load(
    name,
    split="test",
    image_size=32,
    batch_size=64,
    limit=None,
    seed=0,
    shuffle=False,
    data_dir=None,
    repeat=False,
    shapes=None,
    crop_pct=None,
    interpolation=None,
    resize="crop",
) -> Dataset:
    """The named dataset's split as a Dataset; `shuffle` is seeded by `seed`; `limit` keeps the
    first `limit` examples of the split (before shuffling), so the subset never depends on seed.
    `shapes` (a ShapesOptions) overrides the generated set's sizes, p and seed.
    crop_pct / interpolation: the evaluation crop of folder and TFDS images (`eval_crop(model)`
    gives a model's own; None: the official Resize(256) + CenterCrop(224), bilinear).
    resize: "crop" (that evaluation crop) or "squash" (both sides to image_size, no crop: the
    official segmentation transform; generated and in-memory sets are square already)."""
    from vitlab.data import sources

    return sources.load(
        dict(
            name=name,
            split=split,
            image_size=image_size,
            batch_size=batch_size,
            limit=limit,
            seed=seed,
            shuffle=shuffle,
            data_dir=data_dir,
            repeat=repeat,
            shapes=shapes,
            crop_pct=crop_pct,
            interpolation=interpolation,
            resize=resize,
        )
    )


def eval_crop(model) -> dict:
    """{crop_pct, interpolation} a model is evaluated with: the crop stored in the model (an
    adapter or a Keras model) or carried by a registry name; the paper's 256/224 bilinear for
    anything that stores none. Never inferred from a file name (vitlab/models/preprocessing.py)."""
    from vitlab.models import preprocessing

    if isinstance(model, str):
        try:
            return preprocessing.of_registry_name(model).crop()
        except Exception:  # a .keras path or a run directory: the model must be loaded to know
            return preprocessing.of(None).crop()
    return preprocessing.of(model).crop()


def describe(name, split="test", data_dir=None, shapes=None) -> DatasetInfo:
    """Classes, size and extras of a dataset split, without building a pipeline."""
    from vitlab.data import sources

    return sources.describe(name, split=split, data_dir=data_dir, shapes=shapes)


def kind(name) -> str:
    """Which source a dataset name is (shapes, objects64, fashion_mnist, tfds, voc, folder), from
    its syntax alone; DatasetError for a name that is none of them. Light: checks run it before
    TensorFlow loads."""
    from vitlab.data import sources

    return sources._kind(name)


def known_sources():
    """(name, description) rows for `vitlab data list`."""
    from vitlab.data import sources

    return sources.known_sources()


__all__ = [
    "Dataset",
    "DatasetInfo",
    "DatasetError",
    "from_arrays",
    "load",
    "describe",
    "eval_crop",
    "kind",
    "known_sources",
]

"""The one shape every dataset takes once loaded: a tf.data pipeline of dict batches.

Each batch is a dict:
  image   float32 (B, H, W, 3) in [0, 1]
  label   int32 (B,)
  index   int64 (B,)  position of the image in its split: per-image random choices
                      derive from (seed, index), so reruns and resumes repeat them
  mask    float32 (B, H, W) in {0, 1}, foreground (when `has_mask`)
  label2  int32 (B,)  second label: the texture class of a cue-conflict image (when `has_label2`)
"""

import dataclasses

import numpy as np


@dataclasses.dataclass
class Dataset:
    name: str
    split: str
    pipeline: object  # tf.data.Dataset of dict batches
    num_classes: int
    class_names: list
    image_size: int
    num_examples: int | None = None
    has_mask: bool = False
    has_label2: bool = False
    skipped_files: list = dataclasses.field(default_factory=list)
    preprocessing: dict = dataclasses.field(default_factory=dict)  # what a feature cache keys on
    label2_names: list = dataclasses.field(default_factory=list)  # names of label2 values (texture families)
    load_args: dict = dataclasses.field(default_factory=dict)  # how vitlab.data.load built it (empty: arrays)

    def batches(self):
        """Iterate NumPy dict batches (the end of each pass undelayed: see `finite_pass`)."""
        return finite_pass(self.pipeline).as_numpy_iterator()

    def reloaded(self, image_size, resize="squash"):
        """The same examples loaded again at another size from the original images (segmentation's
        512 x 512 input); None for in-memory data, which only the caller can resample."""
        if not self.load_args:
            return None
        from vitlab import data as data_lib

        return data_lib.load(**{**self.load_args, "image_size": int(image_size), "resize": resize})

    @property
    def num_batches(self):
        import tensorflow as tf

        cardinality = int(self.pipeline.cardinality())
        return cardinality if cardinality >= 0 and cardinality != tf.data.INFINITE_CARDINALITY else None


@dataclasses.dataclass
class DatasetInfo:
    """What is known about a dataset before loading it (for validation and model sizing)."""

    name: str
    split: str
    num_classes: int
    class_names: list
    num_examples: int | None = None
    has_mask: bool = False
    has_label2: bool = False
    label2_names: list = dataclasses.field(default_factory=list)


def from_arrays(
    images,
    labels,
    masks=None,
    labels2=None,
    batch_size=32,
    name="arrays",
    split="test",
    class_names=None,
    num_classes=None,
):
    """A Dataset from in-memory arrays: for tests and notebooks. Images float in [0, 1] or uint8."""
    import tensorflow as tf

    images = np.asarray(images)
    if images.dtype == np.uint8:
        images = images.astype("float32") / 255.0
    images = images.astype("float32")
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images must be (N, H, W, 3), got {images.shape}")
    labels = np.asarray(labels, dtype="int32")
    num_classes = num_classes or int(labels.max()) + 1
    columns = {"image": images, "label": labels, "index": np.arange(len(images), dtype="int64")}
    if masks is not None:
        columns["mask"] = np.asarray(masks, dtype="float32")
    if labels2 is not None:
        columns["label2"] = np.asarray(labels2, dtype="int32")
    pipeline = tf.data.Dataset.from_tensor_slices(columns).batch(batch_size).prefetch(2)
    return Dataset(
        name=name,
        split=split,
        pipeline=pipeline,
        num_classes=num_classes,
        class_names=list(class_names or [str(i) for i in range(num_classes)]),
        image_size=int(images.shape[1]),
        num_examples=len(images),
        has_mask=masks is not None,
        has_label2=labels2 is not None,
        preprocessing={"source": "arrays"},
    )


def finite_pass(pipeline):
    """The pipeline with tf.data autotuning off, for one pass over finite data feeding a model.

    With autotuning on, a pass sometimes ends about a second late (the autotuner holds the
    last batch until it wakes): vit_nano over 2,000 images took 2.55 s instead of 1.50 s in
    1 of 6 passes, never with it off; the pipeline alone stays 100x faster than any model
    (benchmarks/bench_scaling.py).
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return pipeline.with_options(options)

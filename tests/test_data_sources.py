"""Fashion-MNIST IDX files, image-folder trees (with a truncated JPEG), TFDS, unknown names."""

import gzip

import numpy as np
import pytest

from vitlab import data
from vitlab.data import fashion_mnist


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path / "cache"))


def test_fashion_mnist_batches_match_the_idx_files():
    dataset = data.load("fashion_mnist", split="test", image_size=28, batch_size=16, limit=40)
    batch = next(dataset.batches())
    assert batch["image"].shape == (16, 28, 28, 3) and batch["image"].dtype == np.float32
    assert 0.0 <= batch["image"].min() and batch["image"].max() <= 1.0
    raw_images = fashion_mnist.read_idx(fashion_mnist._idx_file(None, "test", "images"))
    raw_labels = fashion_mnist.read_idx(fashion_mnist._idx_file(None, "test", "labels"))
    assert batch["label"].tolist() == raw_labels[:16].tolist()
    assert np.allclose(batch["image"][..., 1], raw_images[:16] / 255.0)  # gray copied to all channels
    assert np.array_equal(batch["image"][..., 0], batch["image"][..., 2])
    assert dataset.num_examples == 40 and dataset.class_names[9] == "Ankle boot"
    resized = next(data.load("fashion_mnist", image_size=32, batch_size=4, limit=4).batches())
    assert resized["image"].shape == (4, 32, 32, 3)
    info = data.describe("fashion_mnist", split="train")
    assert info.num_examples == 60000 and info.num_classes == 10


def test_fashion_mnist_plain_idx_files_and_errors(tmp_path):
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        with gzip.open(f"{fashion_mnist.DEFAULT_DIR}/{name}.gz") as src:
            (tmp_path / name).write_bytes(src.read())
    assert data.describe("fashion_mnist", data_dir=str(tmp_path)).num_examples == 10000
    with pytest.raises(data.DatasetError, match="train-labels-idx1-ubyte"):
        data.describe("fashion_mnist", split="train", data_dir=str(tmp_path))
    with pytest.raises(data.DatasetError, match="no split 'validation'"):
        data.describe("fashion_mnist", split="validation")


def _write_image(path, seed, size=(20, 30)):
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    pixels = tf.constant(rng.integers(0, 256, (*size, 3), dtype=np.uint8))
    encoded = tf.io.encode_png(pixels) if path.suffix == ".png" else tf.io.encode_jpeg(pixels)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encoded.numpy())


def test_folder_tree_skips_and_reports_a_truncated_jpeg(tmp_path):
    _write_image(tmp_path / "cat" / "a.jpg", 0)
    _write_image(tmp_path / "cat" / "b.png", 1)
    _write_image(tmp_path / "dog" / "c.jpg", 2, size=(40, 16))
    _write_image(tmp_path / "dog" / "d.jpg", 3)
    broken = tmp_path / "dog" / "d.jpg"
    broken.write_bytes(broken.read_bytes()[:200])
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    dataset = data.load(str(tmp_path), image_size=24, batch_size=8)
    batches = list(dataset.batches())
    assert len(batches) == 1
    batch = batches[0]
    assert batch["image"].shape == (3, 24, 24, 3)
    assert batch["label"].tolist() == [0, 0, 1] and batch["index"].tolist() == [0, 1, 2]
    assert dataset.class_names == ["cat", "dog"]
    assert dataset.skipped_files == [str(broken)]


def test_folder_split_tree_and_folder_errors(tmp_path):
    _write_image(tmp_path / "tree" / "val" / "n01" / "x.jpg", 0)
    _write_image(tmp_path / "tree" / "train" / "n01" / "y.jpg", 1)
    info = data.describe(str(tmp_path / "tree"), split="test")
    assert info.num_examples == 1 and info.class_names == ["n01"]
    (tmp_path / "tree2" / "train").mkdir(parents=True)
    with pytest.raises(data.DatasetError, match="no split 'test'"):
        data.describe(str(tmp_path / "tree2"))
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(data.DatasetError, match="has no images"):
        data.load(str(tmp_path / "empty"))
    (tmp_path / "flat").mkdir()
    with pytest.raises(data.DatasetError, match="no class folders"):
        data.load(str(tmp_path / "flat"))
    with pytest.raises(data.DatasetError, match="no such folder"):
        data.load(str(tmp_path / "missing"))


def test_unknown_names_raise_one_clear_error():
    for name in ("nope", "imagenet", ""):
        with pytest.raises(data.DatasetError, match="dataset"):
            data.describe(name)
    with pytest.raises(data.DatasetError, match="batch_size"):
        data.load("shapes", batch_size=0)


def test_tfds_unknown_and_unprepared_never_download(tmp_path):
    with pytest.raises(data.DatasetError, match="unknown TFDS dataset 'no_such_set_xyz'"):
        data.describe("tfds:no_such_set_xyz", data_dir=str(tmp_path))
    with pytest.raises(data.DatasetError, match="tfds build vitlab_shapes/tiny --data_dir"):
        data.load("tfds:vitlab_shapes/tiny", data_dir=str(tmp_path))
    assert not list(tmp_path.rglob("*.tfrecord*"))  # nothing was prepared behind the user's back


def test_tfds_builder_prepares_and_loads_through_vitlab(tmp_path):
    import tensorflow_datasets as tfds

    import vitlab.data.tfds_shapes  # noqa: F401

    examples = list(tfds.load("vitlab_shapes/tiny", split="test", data_dir=str(tmp_path)).as_numpy_iterator())
    assert len(examples) == 12 and examples[0]["image"].shape == (16, 16, 3)
    assert all(example["label"] != example["label2"] for example in examples)
    dataset = data.load("tfds:vitlab_shapes/tiny", data_dir=str(tmp_path), image_size=32, batch_size=12)
    batch = next(dataset.batches())
    assert batch["image"].shape == (12, 32, 32, 3) and batch["mask"].shape == (12, 32, 32)
    assert dataset.has_mask and dataset.has_label2 and dataset.split == "test"
    assert batch["mask"].sum(axis=(1, 2)).min() > 0
    with pytest.raises(data.DatasetError, match="no split 'validation'"):
        data.describe("tfds:vitlab_shapes/tiny", split="validation", data_dir=str(tmp_path))

"""The generated shapes set: determinism, cue statistics, masks, cache, and its Dataset."""

import numpy as np
import pytest

from vitlab.data import shapes, shapes_cache, textures


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path / "cache"))


def test_same_seed_same_bytes_and_other_seed_differs():
    first = shapes.generate(64, "default", "train", 32, seed=3)
    again = shapes.generate(64, "default", "train", 32, seed=3)
    other = shapes.generate(64, "default", "train", 32, seed=4)
    assert np.array_equal(first.images, again.images) and np.array_equal(first.masks, again.masks)
    assert not np.array_equal(first.images, other.images)
    test_split = shapes.generate(64, "default", "test", 32, seed=3)
    assert not np.array_equal(first.images, test_split.images)


def test_chunking_does_not_change_images(monkeypatch):
    whole = shapes.generate(40, "cue_conflict", "test", 32, seed=1)
    monkeypatch.setattr(shapes, "_PIXELS_PER_CHUNK", 7 * 32 * 32)
    chunked = shapes.generate(40, "cue_conflict", "test", 32, seed=1)
    assert np.array_equal(whole.images, chunked.images)


@pytest.mark.parametrize("p", [0.8, 0.3])
def test_texture_agrees_with_class_at_rate_p(p):
    sample = shapes.generate(3000, "default", "train", 16, seed=0, p=p)
    rate = float(np.mean(sample.labels == sample.textures))
    assert abs(rate - p) < 0.03  # binomial sd ~0.009
    assert len(np.unique(sample.labels)) == shapes.NUM_CLASSES


def test_stylized_texture_is_independent_of_class():
    sample = shapes.generate(3000, "stylized", "train", 16, seed=0)
    assert abs(np.mean(sample.labels == sample.textures) - 1 / textures.NUM_TEXTURES) < 0.03


def test_cue_conflict_labels_always_differ_and_cover_all_pairs():
    sample = shapes.generate(2000, "cue_conflict", "test", 16, seed=0)
    assert np.all(sample.labels != sample.textures)
    assert len(set(zip(sample.labels.tolist(), sample.textures.tolist()))) == 90


def test_masks_non_empty_and_inside_the_image_and_pixels_follow_masks():
    sample = shapes.generate(500, "default", "test", 32, seed=2)
    area = sample.masks.reshape(len(sample.masks), -1).mean(axis=1)
    assert area.min() > 0.03 and area.max() < 0.75
    borders = sample.masks[:, [0, -1], :].sum() + sample.masks[:, :, [0, -1]].sum()
    assert borders == 0
    assert set(np.unique(sample.masks)) == {0, 1}
    assert sample.images.dtype == np.uint8 and sample.images.shape == (500, 32, 32, 3)


def test_any_size_and_bad_arguments():
    assert shapes.generate(3, image_size=70).images.shape == (3, 70, 70, 3)
    with pytest.raises(ValueError, match="image_size"):
        shapes.generate(3, image_size=8)
    with pytest.raises(ValueError, match="variant"):
        shapes.generate(3, variant="nope")


def test_cache_writes_one_file_atomically_and_reads_it_back(tmp_path):
    options = shapes_cache.ShapesOptions(train_size=20, test_size=10, p=0.5, seed=1)
    built = shapes_cache.load_or_build("stylized", "test", 32, options)
    path = shapes_cache.cache_path("stylized", "test", 32, options)
    assert path.exists() and path.parent == tmp_path / "cache" / "shapes"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left
    with np.load(path) as stored:
        stored_images = stored["images"]
    assert np.array_equal(stored_images, built.images)
    np.savez(path, images=np.zeros_like(built.images), masks=built.masks, labels=built.labels, textures=built.textures)
    assert shapes_cache.load_or_build("stylized", "test", 32, options).images.max() == 0  # read, not rebuilt


def test_load_shapes_dataset_contract():
    from vitlab import data

    dataset = data.load("shapes:cue_conflict,test_size=40", image_size=48, batch_size=16)
    batches = list(dataset.batches())
    assert [len(b["label"]) for b in batches] == [16, 16, 8]
    batch = batches[0]
    assert batch["image"].shape == (16, 48, 48, 3) and batch["image"].dtype == np.float32
    assert 0.0 <= batch["image"].min() and batch["image"].max() <= 1.0
    assert batch["mask"].shape == (16, 48, 48) and set(np.unique(batch["mask"])) <= {0.0, 1.0}
    assert np.all(batch["label"] != batch["label2"])
    assert batch["index"].tolist() == list(range(16))
    generated = shapes.generate(40, "cue_conflict", "test", 48)
    assert np.allclose(batch["image"], generated.images[:16] / 255.0)  # made at 48 px, no resize
    assert dataset.has_mask and dataset.has_label2 and dataset.num_examples == 40
    assert dataset.class_names == shapes.SHAPE_NAMES and dataset.label2_names == textures.TEXTURE_NAMES


def test_shuffle_is_seeded_and_limit_takes_the_first_examples():
    from vitlab import data

    def order(seed):
        ds = data.load("shapes,test_size=50", batch_size=50, limit=30, seed=seed, shuffle=True)
        return next(ds.batches())["index"].tolist()

    assert order(1) == order(1)
    assert order(1) != order(2)
    assert sorted(order(1)) == list(range(30))
    train = data.load("shapes:train,train_size=20", batch_size=8, repeat=True)
    assert train.split == "train" and not train.has_label2
    iterator = train.batches()
    assert sum(len(next(iterator)["label"]) for _ in range(4)) == 32  # repeats past 20


def test_bad_shapes_names_raise_dataset_error():
    from vitlab import data

    for name, split, words in [
        ("shapes:nope", "test", "variant"),
        ("shapes", "validation", "split"),
        ("shapes,q=1", "test", "option"),
        ("shapes,p=2", "test", "p must"),
    ]:
        with pytest.raises(data.DatasetError, match=words):
            data.describe(name, split=split)

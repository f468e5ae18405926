"""The objects64 set: determinism, class balance, coverage, masks, cue statistics, cache, Dataset."""

import numpy as np
import pytest

from vitlab.data import objects, objects_cache, objects_layout, photo_textures


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def samples():
    """600 test images per layout (the default variant), shared by the statistics below."""
    return {layout: objects.generate(600, "default", "test", 64, seed=5, layout=layout) for layout in objects.LAYOUTS}


def _plan(n, variant, p=0.8, seed=0):
    """The random draws generate() makes (labels, families, layout) without rendering a pixel."""
    rng = np.random.default_rng(objects._stream_seed(seed, variant, "train", "single"))
    return objects._sample_plan(rng, n, variant, p, "single")


def test_every_photo_loads_from_the_installed_scikit_image():
    shapes = photo_textures.check_all()
    assert set(shapes) == set(photo_textures.PHOTOS)
    for name, (height, width) in shapes.items():
        assert min(height, width) == photo_textures.WORKING_SIDE, name
        image = photo_textures.photo(name)
        assert 0.0 <= image.min() and image.max() <= 1.0 and image.std() > 0.08, name  # equalized, not flat


def test_class_and_background_pools_are_disjoint():
    assert len(objects.FAMILIES) == objects.NUM_CLASSES
    assert not {name for name, _ in objects.FAMILIES} & {name for name, _ in objects.BACKGROUNDS}
    assert {kind for _, kind in objects.FAMILIES} == {"photo", "procedural"}


def test_same_seed_same_bytes_and_other_seed_split_or_layout_differs(monkeypatch):
    first = objects.generate(24, "cue_conflict", "test", 64, seed=3)
    again = objects.generate(24, "cue_conflict", "test", 64, seed=3)
    assert np.array_equal(first.images, again.images) and np.array_equal(first.instances, again.instances)
    for other in (
        objects.generate(24, "cue_conflict", "test", 64, seed=4),
        objects.generate(24, "cue_conflict", "train", 64, seed=3),
        objects.generate(24, "cue_conflict", "test", 64, seed=3, layout="single"),
    ):
        assert not np.array_equal(first.images, other.images)
    monkeypatch.setattr(objects, "_PIXELS_PER_CHUNK", 5 * 64 * 64)  # chunking never changes a pixel
    assert np.array_equal(objects.generate(24, "cue_conflict", "test", 64, seed=3).images, first.images)


def test_classes_are_balanced_exactly():
    counts = np.bincount(objects.generate(205, "stylized", "test", 32).labels, minlength=10)
    assert counts.max() - counts.min() <= 1 and counts.sum() == 205


def test_coverage_is_30_to_50_percent(samples):
    single = samples["single"].masks.mean(axis=(1, 2))
    multi = samples["multi"].masks.mean(axis=(1, 2))
    assert 0.35 < single.mean() < 0.42 and np.percentile(single, 5) > 0.29 and single.max() < 0.52
    assert 0.33 < multi.mean() < 0.41 and np.percentile(multi, 5) > 0.26 and np.percentile(multi, 95) < 0.5


def test_instances_per_layout(samples):
    single, multi = samples["single"].instances, samples["multi"].instances
    assert set(np.unique(single)) == {0, 1}
    visible = [len(np.unique(image)) - 1 for image in multi]
    assert min(visible) >= 2 and max(visible) == 5 and 3.5 < np.mean(visible) < 4.3  # 3-5 placed, a few hidden
    assert np.array_equal(samples["multi"].masks, (multi > 0).astype(np.uint8))
    borders = multi[:, [0, -1], :].sum() + multi[:, :, [0, -1]].sum()
    assert borders == 0  # every instance lies inside the image


def test_masks_are_exactly_the_foreground_pixels(monkeypatch):
    """With a white foreground and a black background the image is its mask (per-instance
    gains dim white to at least 0.75)."""

    def flat(pool, index, procedural, photo, colors, u, v):
        value = 1.0 if pool is objects.FAMILIES else 0.0
        return np.full((len(index), u.shape[0], u.shape[0], 3), value, np.float32)

    monkeypatch.setattr(objects, "_field", flat)
    sample = objects.generate(40, "default", "test", 64, seed=1)
    assert np.array_equal(sample.images.min(axis=-1) > 0, sample.masks.astype(bool))
    assert sample.images[sample.masks.astype(bool)].min() >= 190


@pytest.mark.parametrize("p", [0.8, 0.3])
def test_texture_agrees_with_class_at_rate_p_on_train(p):
    plan = _plan(5000, "default", p)
    assert abs(np.mean(plan["labels"] == plan["families"]) - p) < 0.025  # binomial sd <= 0.007
    sample = objects.generate(30, "default", "train", 32, p=p)  # generate returns those same draws
    rng = np.random.default_rng(objects._stream_seed(0, "default", "train", objects.DEFAULT_LAYOUT))
    assert np.array_equal(
        sample.textures, objects._sample_plan(rng, 30, "default", p, objects.DEFAULT_LAYOUT)["families"]
    )


def test_stylized_texture_is_independent_of_class():
    plan = _plan(6000, "stylized")
    table = np.zeros((10, 10))
    np.add.at(table, (plan["labels"], plan["families"]), 1)
    expected = 60.0
    chi2 = ((table - expected) ** 2 / expected).sum()
    assert chi2 < 137.2  # row sums fixed (balanced classes): 90 degrees of freedom, 0.999 quantile 137.2
    assert abs(np.trace(table) / 6000 - 0.1) < 0.02


def test_cue_conflict_labels_always_differ_and_cover_all_pairs():
    plan = _plan(3000, "cue_conflict")
    assert np.all(plan["labels"] != plan["families"])
    assert len(set(zip(plan["labels"].tolist(), plan["families"].tolist(), strict=True))) == 90


def test_bad_arguments_are_refused():
    for kwargs, match in (
        ({"variant": "nope"}, "variant"),
        ({"layout": "grid"}, "layout"),
        ({"image_size": 16}, "image_size"),
        ({"p": 1.5}, "p must"),
    ):
        with pytest.raises(ValueError, match=match):
            objects.generate(2, **kwargs)


def test_cache_writes_one_file_and_reads_it_back(tmp_path):
    options = objects_cache.ObjectsOptions(train_size=12, test_size=8, p=0.5, seed=2, layout="single")
    built = objects_cache.load_or_build("stylized", "test", 64, options)
    path = objects_cache.cache_path("stylized", "test", 64, options)
    assert path.exists() and path.parent == tmp_path / "cache" / "objects64"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left
    again = objects_cache.load_or_build("stylized", "test", 64, options)
    for field in ("images", "masks", "labels", "textures", "instances"):
        assert np.array_equal(getattr(again, field), getattr(built, field)), field
    np.savez(
        path,
        images=np.zeros_like(built.images),
        instances=built.instances,
        labels=built.labels,
        textures=built.textures,
    )
    assert objects_cache.load_or_build("stylized", "test", 64, options).images.max() == 0  # read, not rebuilt
    path.write_bytes(b"damaged")
    assert np.array_equal(objects_cache.load_or_build("stylized", "test", 64, options).images, built.images)


def test_loads_by_name_with_options_resized_for_the_model():
    from vitlab import data

    loaded = data.load(
        "objects64:cue_conflict,test_size=12,layout=single,seed=1", split="test", image_size=32, batch_size=12
    )
    batch = next(loaded.batches())
    assert batch["image"].shape == (12, 32, 32, 3) and batch["mask"].shape == (12, 32, 32)
    assert np.all(batch["label"] != batch["label2"]) and loaded.label2_names == objects.FAMILY_NAMES
    direct = objects_cache.load_or_build(
        "cue_conflict", "test", 64, objects_cache.ObjectsOptions(test_size=12, layout="single", seed=1)
    )
    assert np.array_equal(np.sort(batch["label"]), np.sort(direct.labels))
    assert loaded.preprocessing["layout"] == "single" and loaded.preprocessing["generated_size"] == 64


@pytest.mark.parametrize(
    "name, message",
    [
        ("objects64:nope", "unknown objects64 variant"),
        ("objects64,layout=grid", "layout must be one of single, multi"),
        ("objects64,p=2", "p must be in"),
        ("objects64,colour=1", "bad objects64 option"),
        ("objects64,train_size=many", "bad value for objects64 option 'train_size'"),
    ],
)
def test_bad_names_give_one_line_dataset_errors(name, message):
    from vitlab import data

    with pytest.raises(data.DatasetError, match=message):
        data.describe(name, split="train")


def test_describe_and_shapes_options_carry_over():
    from vitlab import data
    from vitlab.data.shapes_cache import ShapesOptions

    info = data.describe("objects64:train", split="test", shapes=ShapesOptions(train_size=77))
    assert info.split == "train" and info.num_examples == 77 and info.has_mask and not info.has_label2
    assert info.class_names == objects.CLASS_NAMES
    assert objects_layout.LAYOUTS == objects.LAYOUTS


def test_cli_lists_it_and_refuses_a_bad_option_in_one_line(tmp_path, capsys):
    from helpers import run_cli

    code, stdout, _ = run_cli(capsys, "data", "list")
    assert code == 0 and "objects64:cue_conflict" in stdout
    code, _, stderr = run_cli(capsys, "data", "show", "objects64,layout=grid", "-o", str(tmp_path / "grid.png"))
    assert code == 2 and "layout must be one of single, multi" in stderr and stderr.count("\n") == 1


def test_a_smoke_run_generates_only_the_images_it_reads():
    from vitlab.training.recipe import _smoke_dataset

    assert (
        _smoke_dataset("objects64:stylized,train_size=240000,layout=single", 64)
        == "objects64:stylized,train_size=64,layout=single"
    )

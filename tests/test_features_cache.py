"""Feature cache: round trip, hits, key changes, resume after a kill, refusal of foreign files."""

import h5py
import numpy as np
import pytest

from vitlab.data.dataset import from_arrays
from vitlab.experiments.run_context import Context
from vitlab.features import blocks as blocks_lib
from vitlab.features import extract as extract_mod
from vitlab.features.cache import FeatureCacheError
from vitlab.features.extract import extract
from vitlab.models.adapter import adapt


@pytest.fixture(scope="module")
def vit():
    import keras

    keras.utils.set_random_seed(1)
    return adapt("deit_test_distilled")


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return from_arrays(rng.random((20, 32, 32, 3), dtype=np.float32), np.arange(20) % 4, batch_size=4)


def logs(context):
    return [e["message"] for e in context.events if e["kind"] == "log"]


class Killed(Exception):
    pass


def test_round_trip_matches_the_model_and_second_run_reads_the_cache(vit, data, tmp_path, monkeypatch):
    first = Context()
    features = extract(vit, data, blocks="all", cache_dir=tmp_path, chunk_rows=8, context=first)
    assert any(m.startswith("cache miss") for m in logs(first))
    assert features.complete and features.rows_done == 20
    assert features.kinds == ["class", "dist", "patch_mean"] and features.blocks == [0, 1]
    images = np.concatenate([b["image"] for b in data.batches()])
    expected = vit.block_features(images, kinds=("class", "dist", "patch_mean"))
    for kind in ("class", "dist", "patch_mean"):
        np.testing.assert_allclose(features.read(1, kind), np.asarray(expected[kind][1]), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(features.labels(), np.arange(20) % 4)
    np.testing.assert_array_equal(features.indices(), np.arange(20))
    with h5py.File(features.path) as handle:
        assert handle["block_01/class"].chunks == (8, 32) and handle["block_01/class"].compression == "lzf"
        assert handle.attrs["model"] == "deit_test_distilled" and handle.attrs["split"] == "test"

    def no_model(*args, **kwargs):
        raise AssertionError("the model ran although the cache holds the features")

    monkeypatch.setattr(extract_mod, "feature_function", no_model)
    second = Context()
    again = extract(vit, data, blocks="last", kinds=["class"], cache_dir=tmp_path, context=second)
    assert any(m.startswith("cache hit") for m in logs(second))
    np.testing.assert_array_equal(again.read(1, "class"), features.read(1, "class"))


def test_changed_weights_or_data_force_a_new_extraction(vit, data, tmp_path):
    first = extract(vit, data, blocks="last", cache_dir=tmp_path)
    variable = vit.model.weights[0]
    original = variable.numpy()
    try:
        variable.assign(original + 0.5)
        context = Context()
        changed = extract(vit, data, blocks="last", cache_dir=tmp_path, context=context)
    finally:
        variable.assign(original)
    assert any(m.startswith("cache miss") for m in logs(context))
    assert changed.path != first.path
    assert not np.allclose(changed.read(1, "class"), first.read(1, "class"))
    other_images = from_arrays(np.zeros((20, 32, 32, 3), "float32"), np.arange(20) % 4, batch_size=4)
    context = Context()
    extract(vit, other_images, blocks="last", cache_dir=tmp_path, context=context)
    assert any(m.startswith("cache miss") for m in logs(context))


def test_killed_extraction_resumes_from_the_written_chunks(vit, data, tmp_path, monkeypatch):
    def kill_after_two_chunks(rows_done):
        if rows_done >= 8:
            raise Killed()

    with pytest.raises(Killed):
        extract(vit, data, blocks="all", cache_dir=tmp_path / "a", chunk_rows=4, on_chunk=kill_after_two_chunks)
    forwarded = []
    real = extract_mod.feature_function

    def counting(*args, **kwargs):
        function = real(*args, **kwargs)
        return lambda images: forwarded.append(len(images)) or function(images)

    monkeypatch.setattr(extract_mod, "feature_function", counting)
    context = Context()
    resumed = extract(vit, data, blocks="all", cache_dir=tmp_path / "a", chunk_rows=4, context=context)
    assert any(m.startswith("cache resume") for m in logs(context))
    assert sum(forwarded) == 12  # only the 12 rows the killed run had not flushed
    clean = extract(vit, data, blocks="all", cache_dir=tmp_path / "b", chunk_rows=4)
    for kind in ("class", "dist", "patch_mean"):
        np.testing.assert_allclose(resumed.read(0, kind), clean.read(0, kind), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(resumed.indices(), np.arange(20))


def test_foreign_cache_files_are_refused(vit, data, tmp_path):
    path = tmp_path / "features.h5"
    extract(adapt("resnet_test"), data, blocks="last", path=path)
    with pytest.raises(FeatureCacheError, match="model=.resnet_test"):
        extract(vit, data, blocks="last", path=path)
    with h5py.File(path, "a") as handle:
        handle.attrs["format_version"] = 99
    with pytest.raises(FeatureCacheError, match="version 99"):
        extract(vit, data, blocks="last", path=path)
    not_hdf5 = tmp_path / "notes.h5"
    not_hdf5.write_text("my notes")
    with pytest.raises(FeatureCacheError, match="not a readable HDF5"):
        extract(vit, data, blocks="last", path=not_hdf5)
    assert not_hdf5.read_text() == "my notes"


def test_block_words_and_bad_requests():
    assert blocks_lib.parse_blocks("last4", 12) == [8, 9, 10, 11]
    assert blocks_lib.parse_blocks("all", 3) == [0, 1, 2]
    assert blocks_lib.parse_blocks("0,-1,last", 12) == [0, 11]
    with pytest.raises(blocks_lib.FeatureSpecError, match="out of range"):
        blocks_lib.parse_blocks("12", 12)
    with pytest.raises(blocks_lib.FeatureSpecError, match="'middle'"):
        blocks_lib.parse_blocks("middle", 12)
    with pytest.raises(blocks_lib.FeatureSpecError, match="unknown token kind"):
        blocks_lib.choose_kinds(adapt("vit_test"), ["cls"])

"""The pieces the data layer shares: load's one signature handed to the dispatch, the generated
sets' split description and Dataset, and the cache policy both generated caches follow."""

import inspect
import types

import numpy as np
import pytest

from vitlab import data
from vitlab.data import generated_source, shapes_cache
from vitlab.data.shapes_cache import ShapesOptions


def test_load_args_hold_every_argument_of_load_by_name_in_signature_order(tmp_path, monkeypatch):
    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path))
    loaded = data.load("shapes,test_size=3", image_size=16, batch_size=2, limit=2, seed=5, shuffle=True)
    assert list(loaded.load_args) == list(inspect.signature(data.load).parameters)
    assert loaded.load_args["name"] == "shapes,test_size=3"
    assert (loaded.load_args["image_size"], loaded.load_args["batch_size"], loaded.load_args["limit"]) == (16, 2, 2)
    assert (loaded.load_args["seed"], loaded.load_args["shuffle"], loaded.load_args["resize"]) == (5, True, "crop")


def test_split_info_gives_label2_names_to_cue_conflict_only():
    options = ShapesOptions(train_size=7, test_size=3)
    plain = generated_source.split_info("x", "train", "default", options, ("a", "b"), ("t1", "t2", "t3"))
    assert (plain.num_classes, plain.class_names, plain.num_examples) == (2, ["a", "b"], 7)
    assert plain.has_mask and not plain.has_label2 and plain.label2_names == []
    conflict = generated_source.split_info("x", "test", "cue_conflict", options, ("a", "b"), ("t1", "t2", "t3"))
    assert conflict.has_label2 and conflict.label2_names == ["t1", "t2", "t3"] and conflict.num_examples == 3


def _sample(count, size=16):
    images = np.zeros((count, size, size, 3), np.float32)
    masks = np.ones((count, size, size), np.uint8)
    return types.SimpleNamespace(
        images=images, masks=masks, labels=np.arange(count) % 2, textures=np.arange(count)[::-1] % 3
    )


@pytest.mark.parametrize("variant", ["default", "cue_conflict"])
def test_split_dataset_counts_after_limit_and_keys_on_origin_then_options(variant):
    options = ShapesOptions(test_size=5, seed=4)
    info = generated_source.split_info("x", "test", variant, options, ("a", "b"), ("t1", "t2", "t3"))
    origin = {"source": "x", "variant": variant, "generated_size": 16}
    loaded = generated_source.split_dataset(info, _sample(5), origin, options, 16, 8, 4, 0, False, False)
    assert loaded.num_examples == 4  # the info said 5: limit keeps 4
    assert (loaded.name, loaded.split, loaded.has_mask, loaded.has_label2) == ("x", "test", True, info.has_label2)
    assert list(loaded.preprocessing) == [*origin, "image_size", "train_size", "test_size", "p", "seed", "limit"]
    assert (loaded.preprocessing["seed"], loaded.preprocessing["limit"]) == (4, 4)
    batch = next(loaded.batches())
    assert batch["label"].tolist() == [0, 1, 0, 1]
    if variant == "cue_conflict":
        assert batch["label2"].tolist() == [1, 0, 2, 1]  # the textures, in order
    else:
        assert "label2" not in batch


class _Calls:
    """Stub read / build / write that record what the policy asked for."""

    def __init__(self, read_error=None, write_error=None):
        self.log, self.read_error, self.write_error = [], read_error, write_error

    def read(self, path):
        self.log.append("read")
        if self.read_error:
            raise self.read_error
        return "stored"

    def build(self):
        self.log.append("build")
        return "built"

    def write(self, path, sample):
        self.log.append(("write", sample))
        if self.write_error:
            raise self.write_error


def _policy(path, calls, use_cache=True):
    return shapes_cache.read_or_build(path, calls.read, calls.build, calls.write, use_cache)


def test_the_cache_policy_reads_a_present_file_and_builds_and_writes_a_missing_one(tmp_path):
    path = tmp_path / "split.npz"
    calls = _Calls()
    assert _policy(path, calls) == "built" and calls.log == ["build", ("write", "built")]
    path.write_bytes(b"present")
    calls = _Calls()
    assert _policy(path, calls) == "stored" and calls.log == ["read"]


@pytest.mark.parametrize("error", [OSError("unreadable"), ValueError("not an npz"), KeyError("images")])
def test_the_cache_policy_rebuilds_and_rewrites_a_damaged_file(tmp_path, error):
    path = tmp_path / "split.npz"
    path.write_bytes(b"damaged")
    calls = _Calls(read_error=error)
    assert _policy(path, calls) == "built" and calls.log == ["read", "build", ("write", "built")]


def test_the_cache_policy_survives_a_read_only_cache_and_skips_it_when_told(tmp_path):
    path = tmp_path / "split.npz"
    assert _policy(path, _Calls(write_error=PermissionError("read-only"))) == "built"
    path.write_bytes(b"present")
    calls = _Calls()
    assert _policy(path, calls, use_cache=False) == "built" and calls.log == ["build"]


def test_the_cache_policy_lets_other_errors_through(tmp_path):
    path = tmp_path / "split.npz"
    path.write_bytes(b"present")
    with pytest.raises(RuntimeError):
        _policy(path, _Calls(read_error=RuntimeError("a bug, not a damaged file")))


def test_write_npz_round_trips_its_arrays_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "deeper" / "split.npz"
    shapes_cache.write_npz(path, images=np.arange(6).reshape(2, 3), labels=np.array([4, 5]))
    with np.load(path) as stored:
        assert sorted(stored.files) == ["images", "labels"]
        assert stored["images"].tolist() == [[0, 1, 2], [3, 4, 5]] and stored["labels"].tolist() == [4, 5]
    assert [p.name for p in path.parent.iterdir()] == ["split.npz"]

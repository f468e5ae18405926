"""Prepared corruption sets: parallel == serial, resumable, read back by the experiment."""

import json

import numpy as np
import pytest

from vitlab.data.corruption_set import CorruptionSet, CorruptionSetError
from vitlab.data.dataset import from_arrays
from vitlab.data_prep.corruption_set import prepare_corruptions
from vitlab.errors import UserError
from vitlab.experiments import runner
from vitlab.experiments.run_context import Context

PAIRS = dict(corruptions=["gaussian_noise", "fog"], severities=[1, 3])


@pytest.fixture
def small_data():
    rng = np.random.default_rng(0)
    return from_arrays(rng.random((12, 32, 32, 3), dtype=np.float32), np.arange(12) % 10, batch_size=8, num_classes=10)


def test_pool_matches_loop_and_resumes(tmp_path, small_data):
    quiet = []
    pooled = prepare_corruptions(small_data, tmp_path / "pool", workers=2, chunk_size=4, log=quiet.append, **PAIRS)
    serial = prepare_corruptions(small_data, tmp_path / "loop", workers=1, chunk_size=5, log=quiet.append, **PAIRS)
    assert len(pooled["pairs"]) == len(serial["pairs"]) == 4
    a, b = CorruptionSet(tmp_path / "pool"), CorruptionSet(tmp_path / "loop")
    for corruption, severity in a.pairs:
        np.testing.assert_array_equal(a.images(corruption, severity), b.images(corruption, severity))
    assert (a.images("fog", 3) != a.clean["image"]).any()
    np.testing.assert_array_equal(a.clean["label"], np.arange(12) % 10)
    # resume: finished pairs are not redone, new ones are added
    stamp = (tmp_path / "pool" / "fog" / "1.npz").stat().st_mtime_ns
    log = []
    again = prepare_corruptions(
        small_data, tmp_path / "pool", workers=1, log=log.append, corruptions=["fog", "contrast"], severities=[1]
    )
    assert (tmp_path / "pool" / "fog" / "1.npz").stat().st_mtime_ns == stamp
    assert any("1 (corruption, severity) pairs already done" in line for line in log)
    assert set(again["pairs"]) == {
        "gaussian_noise/1.npz",
        "gaussian_noise/3.npz",
        "fog/1.npz",
        "fog/3.npz",
        "contrast/1.npz",
    }
    assert json.loads((tmp_path / "pool" / "manifest.json").read_text())["num_images"] == 12


def test_set_of_another_dataset_or_missing_pair_is_refused(tmp_path, small_data):
    prepare_corruptions(
        small_data, tmp_path / "set", workers=1, log=lambda m: None, corruptions=["contrast"], severities=[2]
    )
    with pytest.raises(CorruptionSetError, match="seed=0"):
        prepare_corruptions(small_data, tmp_path / "set", workers=1, seed=1, corruptions=["contrast"], severities=[2])
    with pytest.raises(CorruptionSetError, match="no fog at severity 2"):
        CorruptionSet(tmp_path / "set").images("fog", 2)
    with pytest.raises(CorruptionSetError, match="manifest.json"):
        CorruptionSet(tmp_path / "nothing")


def test_bad_names_are_refused_before_work(tmp_path, small_data):
    with pytest.raises(UserError, match="'snowy'"):
        prepare_corruptions(small_data, tmp_path / "x", corruptions=["snowy"])
    with pytest.raises(UserError, match="severity 7"):
        prepare_corruptions(small_data, tmp_path / "x", corruptions=["fog"], severities=[7])
    with pytest.raises(UserError, match="'foggy'"):
        runner.build_config("corruption", overrides=["corruptions=fog,foggy"])
    with pytest.raises(UserError, match="severity 0"):
        runner.build_config("corruption", overrides=["severities=0,1"])


def test_experiment_on_the_fly_equals_prepared_set(tmp_path, small_data):
    import keras

    from vitlab.experiments import corruption

    prepare_corruptions(small_data, tmp_path / "set", workers=1, log=lambda m: None, **PAIRS)
    keras.utils.set_random_seed(0)  # the stored clean images are quantized to uint8: keep away from near-ties
    adapters = [runner.resolve_model(name, num_classes=10) for name in ("vit_test", "resnet_test")]
    overrides = ["corruptions=gaussian_noise,fog", "severities=1,3"]
    live = corruption.run(adapters, small_data, runner.build_config("corruption", overrides=overrides), Context())
    stored = corruption.run(
        adapters,
        small_data,
        runner.build_config("corruption", overrides=[*overrides, f"corruption_dir={tmp_path / 'set'}"]),
        Context(),
    )
    np.testing.assert_allclose(live.arrays["errors"], stored.arrays["errors"])
    np.testing.assert_allclose(live.arrays["clean_error"], stored.arrays["clean_error"])
    # the ResNet is the default baseline: its own mCE is exactly 1
    assert live.summary["mCE/resnet_test"] == pytest.approx(1.0)
    assert live.arrays["errors"].shape == (2, 2, 2)
    np.testing.assert_allclose(live.arrays["mean_error"], live.arrays["errors"].mean(axis=(1, 2)))
    assert [c.title.split()[0] for c in live.curves[:2]] == ["noise", "weather"]
    assert any(t.title == "CE table: vit_test" for t in live.tables)
    missing = runner.build_config(
        "corruption", overrides=["corruptions=contrast", "severities=1", f"corruption_dir={tmp_path / 'set'}"]
    )
    with pytest.raises(CorruptionSetError, match="no contrast at severity 1"):
        corruption.run(adapters, small_data, missing, Context())

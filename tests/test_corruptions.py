"""Corruption names, severities, seeding and the CE / mCE arithmetic (hand-computed)."""

import numpy as np
import pytest

from vitlab.errors import UserError
from vitlab.perturb import corruptions as lib


def test_the_fifteen_and_the_four():
    assert len(lib.COMMON) == 15 and len(lib.EXTRA) == 4
    assert lib.check_corruptions("noise,fog") == ["gaussian_noise", "shot_noise", "impulse_noise", "fog"]
    assert lib.check_corruptions(["all"]) == list(lib.ALL)


@pytest.mark.parametrize("name", ["foggy", "gaussian-noise", ""])
def test_unknown_corruption_is_named(name):
    with pytest.raises(UserError, match=repr(name) if name else "no corruption"):
        lib.check_corruptions([name] if name else [])


@pytest.mark.parametrize("severity", [0, 6, 2.5, "x", -1])
def test_severity_outside_range_is_named(severity):
    with pytest.raises(lib.SeverityError, match=f"severity {severity!r}"):
        lib.check_severities([severity])


def test_corrupt_image_is_seeded_per_image_and_keeps_size():
    rng = np.random.default_rng(0)
    images = rng.random((3, 28, 28, 3), dtype=np.float32)  # under 32: lifted to 32 and back
    first = lib.corrupt_batch(images, "gaussian_noise", 3, seed=1, indices=[0, 1, 2])
    again = lib.corrupt_batch(images, "gaussian_noise", 3, seed=1, indices=[0, 1, 2])
    other_seed = lib.corrupt_batch(images, "gaussian_noise", 3, seed=2, indices=[0, 1, 2])
    assert first.shape == (3, 28, 28, 3) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, again)
    assert (first != other_seed).any()
    alone = lib.corrupt_image(images[1], "gaussian_noise", 3, seed=1, index=1)  # same pixels outside a batch
    np.testing.assert_array_equal(alone, first[1])


def test_every_fast_corruption_runs_and_changes_the_image():
    image = (np.random.default_rng(0).random((32, 32, 3)) * 255).astype(np.uint8)
    for name in lib.ALL:
        if name == "glass_blur":  # numba compilation takes seconds; covered by the prepare test
            continue
        out = lib.corrupt_image(image, name, 5)
        assert out.shape == image.shape and (out != image).any(), name


def test_corruption_errors_by_hand():
    errors = [[0.2, 0.4], [0.5, 0.5]]
    base = [[0.4, 0.4], [1.0, 0.5]]
    ce, relative = lib.corruption_errors(errors, base, clean_error=0.1, base_clean_error=0.2)
    np.testing.assert_allclose(ce, [0.6 / 0.8, 1.0 / 1.5])
    np.testing.assert_allclose(relative, [(0.1 + 0.3) / (0.2 + 0.2), (0.4 + 0.4) / (0.8 + 0.3)])
    # the extra corruption (saturate) is not part of mCE
    assert lib.mean_corruption_error(ce, ["gaussian_noise", "saturate"]) == pytest.approx(0.75)
    assert lib.mean_corruption_error(ce, ["gaussian_noise", "fog"]) == pytest.approx((0.75 + 1 / 1.5) / 2)


def test_model_equal_to_its_baseline_has_mce_one():
    from vitlab.experiments.corruption import summarize

    errors = np.array([[[0.3, 0.5, 0.7], [0.2, 0.2, 0.6]]])
    stats = summarize(errors, np.array([0.1]), errors[0], 0.1, ["fog", "contrast"])
    assert stats["mce"][0] == pytest.approx(1.0)
    assert stats["relative_mce"][0] == pytest.approx(1.0)
    assert stats["mean_error"][0] == pytest.approx(errors.mean())


def test_alexnet_table():
    table = lib.alexnet_errors(list(lib.COMMON), lib.SEVERITIES)
    assert table.shape == (15, 5)
    assert table[0].mean() == pytest.approx(0.886428)
    with pytest.raises(UserError, match="saturate"):
        lib.alexnet_errors(["saturate"], [1])

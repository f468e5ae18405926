"""PatchDrop's fill (black / mean / noise): hand-checked pixels, the sweep's wiring, the experiment, the CLI."""

import numpy as np
import pytest
from helpers import run_cli
from keras import ops

from vitlab.config import ConfigError
from vitlab.experiments import occlusion
from vitlab.experiments.occlusion_sweep import ModelSweep, Variant
from vitlab.experiments.run_context import Context
from vitlab.experiments.runner import resolve_model
from vitlab.perturb import patch_drop


def _tiny():
    """Two 2x2 RGB images with no zeros and a hand-made drop mask (image 0: the left column)."""
    images = np.array(
        [
            [[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], [[0.7, 0.8, 0.9], [0.2, 0.4, 0.6]]],
            [[[0.3, 0.3, 0.3], [0.6, 0.6, 0.6]], [[0.9, 0.1, 0.5], [0.5, 0.5, 0.5]]],
        ],
        np.float32,
    )
    drop = np.array([[[True, False], [True, False]], [[False, False], [False, True]]])
    return images, drop


def test_black_is_exactly_drop_pixels_and_zero_in_dropped_pixels():
    images, drop = _tiny()
    out = ops.convert_to_numpy(patch_drop.fill_pixels(images, drop))
    np.testing.assert_array_equal(out, ops.convert_to_numpy(patch_drop.drop_pixels(images, drop)))
    expected = images.copy()
    expected[drop] = 0.0
    np.testing.assert_array_equal(out, expected)


def test_mean_fills_exactly_the_dataset_mean_and_keeps_the_rest(tiny_dataset, tiny_arrays):
    colour = occlusion.mean_colour(tiny_dataset)
    np.testing.assert_array_equal(colour, tiny_arrays[0].astype(np.float64).mean(axis=(0, 1, 2)).astype(np.float32))
    images, drop = _tiny()
    out = ops.convert_to_numpy(patch_drop.fill_pixels(images, drop, np.array([0.25, 0.5, 0.75], np.float32)))
    np.testing.assert_array_equal(out[drop], np.tile([0.25, 0.5, 0.75], (3, 1)).astype(np.float32))
    np.testing.assert_array_equal(out[~drop], images[~drop])


def test_noise_is_in_unit_range_per_image_repeatable_and_keeps_the_rest():
    images, drop = _tiny()
    noise = patch_drop.noise_fill(5, [3, 8], (2, 2, 3))
    assert noise.shape == (2, 2, 2, 3) and noise.dtype == np.float32
    assert noise.min() >= 0.0 and noise.max() <= 1.0 and noise.std() > 0.1
    assert not np.array_equal(noise[0], noise[1])  # each image its own noise
    np.testing.assert_array_equal(noise, patch_drop.noise_fill(5, [3, 8], (2, 2, 3)))  # same seed and indices
    np.testing.assert_array_equal(noise[1], patch_drop.noise_fill(5, [8], (2, 2, 3))[0])  # per image, not per batch
    assert not np.array_equal(noise, patch_drop.noise_fill(6, [3, 8], (2, 2, 3)))  # the seed matters
    out = ops.convert_to_numpy(patch_drop.fill_pixels(images, drop, noise))
    np.testing.assert_array_equal(out[drop], noise[drop])
    np.testing.assert_array_equal(out[~drop], images[~drop])


class _PixelsAsLogits:
    """A stand-in model whose logits are its input pixels (flattened): the top-1 class names
    the brightest input value, so the sweep's hits tell which pixels the model saw."""

    name, kind, is_transformer = "pixels", "classifier", False

    def forward(self, images):
        return {"heads": {"class": ops.reshape(images, (ops.shape(images)[0], -1))}}

    def select_head(self, heads, head="average"):
        return heads["class"]


@pytest.mark.parametrize("fill", ["black", "colour", "noise"])
def test_sweep_feeds_the_model_the_filled_pixels(fill):
    images, drop = _tiny()
    images = images * 0.5  # all below the colour's 0.9
    colour = np.array([0.2, 0.9, 0.3], np.float32)
    value = {"black": None, "colour": colour, "noise": patch_drop.noise_fill(1, [0, 1], (2, 2, 3))}[fill]
    expected = images.copy()
    expected[drop] = 0.0 if value is None else (value[drop] if value.ndim == 4 else value)
    labels = expected.reshape(2, -1).argmax(axis=1)
    # image 0's brightest value (0.45, index 8) is dropped: the right answer is 5 (black), 1 (the colour's green)
    assert labels[0] == {"black": 5, "colour": 1, "noise": labels[0]}[fill] and labels[0] != 8
    scores = ops.convert_to_tensor(np.where(drop, 0.0, 1.0).astype(np.float32)[None])  # one source: drop score < 0.5
    sweep = ModelSweep(_PixelsAsLogits(), [Variant("random", 0.5, 0, 0, 0.5)], top_k=1)
    hits1, _, dropped = sweep(images, labels, scores, value)
    assert hits1.tolist() == [[True, True]]
    np.testing.assert_allclose(dropped, [[0.5, 0.25]])


def test_experiment_records_the_fill_and_fills_every_pixel_mode(tiny_dataset, tiny_arrays):
    """Level 1 / lambda 1 drop every pixel: each mode's accuracy is that of the fill image alone."""
    model = resolve_model("vit_test")
    images, labels, _ = tiny_arrays
    config = dict(modes=["random", "salient", "mask_salient"], levels=[0.0, 1.0], lambdas=[1.0], repeats=1)
    for fill in ("mean", "noise"):
        result = occlusion.run([model], tiny_dataset, occlusion.Config(**config, fill=fill), Context(seed=2))
        if fill == "mean":
            colour = np.float32(images.astype(np.float64).mean(axis=(0, 1, 2)))
            assert result.config["fill_mean"] == [float(c) for c in colour]
            filled = np.broadcast_to(colour, images.shape)
        else:
            assert "fill_mean" not in result.config
            filled = patch_drop.noise_fill(2, np.arange(16), images.shape[1:])
        assert any({"mean": "mean colour", "noise": "uniform noise"}[fill] in note for note in result.notes)
        logits = ops.convert_to_numpy(model.select_head(model.forward(filled)["heads"]))
        expected = float((logits.argmax(axis=1) == labels).mean())
        for mode in config["modes"]:
            assert float(result.arrays[f"{mode}/top1"][0, 0, -1]) == pytest.approx(expected), (fill, mode)
        clean = float(
            (ops.convert_to_numpy(model.select_head(model.forward(images)["heads"])).argmax(1) == labels).mean()
        )
        assert float(result.arrays["random/top1"][0, 0, 0]) == pytest.approx(clean)


def test_unknown_fill_is_a_one_line_config_error(capsys):
    with pytest.raises(ConfigError, match=r"^fill: expected one of black, mean, noise, got 'grey'$"):
        occlusion.Config(fill="grey").validate()
    code, _, err = run_cli(
        capsys, "eval", "occlusion", "--model", "vit_test", "--dataset", "shapes", "--set", "fill=grey"
    )
    assert code == 2 and "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("error:")] == [
        "error: occlusion: fill: expected one of black, mean, noise, got 'grey'"
    ]

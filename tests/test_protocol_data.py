"""The evaluation crop in the data pipeline: each model's crop_pct and interpolation, at the
pixel positions of torchvision's Resize + CenterCrop, recorded in Dataset.preprocessing."""

import numpy as np
import pytest

from vitlab import data as data_lib
from vitlab.data import pipeline
from vitlab.protocol import crop


def write_png(path, image):
    import tensorflow as tf

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(image).numpy())


def marked_image(height, width, top, left, side=12):
    """A dark uint8 image with a bright square whose top-left corner is (top, left)."""
    image = np.full((height, width, 3), 20, np.uint8)
    image[top : top + side, left : left + side] = 235
    return image


def centroid(channel):
    weights = np.clip(channel - 0.5, 0.0, None)  # the bright marker only (bicubic rings on the background)
    rows, cols = np.indices(channel.shape)
    return float((rows * weights).sum() / weights.sum()), float((cols * weights).sum() / weights.sum())


@pytest.fixture
def folder_of_two(tmp_path):
    """One landscape (W 500 x H 375) and one portrait (375 x 500) image, one class each."""
    images = {"a_landscape": marked_image(375, 500, 150, 300), "b_portrait": marked_image(500, 375, 300, 150)}
    for name, image in images.items():
        write_png(tmp_path / name / "0.png", image)
    return tmp_path, images


@pytest.mark.parametrize("crop_pct, interpolation", [(0.875, "bilinear"), (0.9, "bicubic")])
def test_folder_crop_takes_torchvision_pixel_positions(folder_of_two, crop_pct, interpolation):
    import tensorflow as tf

    root, images = folder_of_two
    loaded = data_lib.load(str(root), image_size=224, batch_size=2, crop_pct=crop_pct, interpolation=interpolation)
    batch = next(loaded.batches())
    assert batch["image"].shape == (2, 224, 224, 3)
    for out, image in zip(batch["image"], images.values()):
        height, width = image.shape[:2]
        new_h, new_w, top, left = crop.crop_geometry(height, width, 224, crop_pct)
        full = tf.image.resize(
            tf.image.convert_image_dtype(image, tf.float32), (new_h, new_w), method=interpolation, antialias=True
        )
        expected = np.clip(full.numpy()[top : top + 224, left : left + 224], 0, 1)
        np.testing.assert_allclose(out, expected, atol=1e-6)
        # the marker lands where the geometry says: centre (r + 5.5) scaled, minus the crop offset
        scale = new_h / height
        marker_row = [r for r in range(height) if image[r, :, 0].max() > 200][0]
        marker_col = [c for c in range(width) if image[:, c, 0].max() > 200][0]
        want = ((marker_row + 6) * scale - top, (marker_col + 6) * scale - left)
        got = centroid(out[..., 0])
        assert got == pytest.approx((want[0] - 0.5, want[1] - 0.5), abs=0.6)


def test_crop_is_recorded_and_defaults_to_the_official_resize_256(folder_of_two):
    root, _ = folder_of_two
    loaded = data_lib.load(str(root), image_size=224, batch_size=2)
    assert loaded.preprocessing["crop_pct"] == 0.875 and loaded.preprocessing["interpolation"] == "bilinear"
    chosen = data_lib.load(str(root), image_size=224, batch_size=2, **data_lib.eval_crop("vit_small_patch16_224"))
    assert (chosen.preprocessing["crop_pct"], chosen.preprocessing["interpolation"]) == (0.9, "bicubic")


def test_eval_crop_is_timm_s_pretrained_cfg_per_tag():
    """timm's pretrained_cfg of each tag (vitlab/models/registry.py PRETRAINED cites the lines)."""
    assert data_lib.eval_crop("deit_small_patch16_224") == {"crop_pct": 0.9, "interpolation": "bicubic"}
    assert data_lib.eval_crop("vit_base_patch16_224") == {"crop_pct": 0.9, "interpolation": "bicubic"}
    assert data_lib.eval_crop("resnet50") == {"crop_pct": 0.95, "interpolation": "bicubic"}  # timm: a1_in1k
    assert data_lib.eval_crop("resnet50.a1_in1k") == {"crop_pct": 0.95, "interpolation": "bicubic"}
    assert data_lib.eval_crop("resnet50.tv_in1k") == {"crop_pct": 0.875, "interpolation": "bilinear"}  # the paper's
    assert data_lib.eval_crop("resnet26") == {"crop_pct": 0.875, "interpolation": "bicubic"}  # resnet26.bt_in1k
    assert data_lib.eval_crop("vit_small_patch16_224_dino") == {"crop_pct": 0.9, "interpolation": "bicubic"}
    assert data_lib.eval_crop("vit_test") == {"crop_pct": 0.875, "interpolation": "bilinear"}  # stores none
    assert data_lib.eval_crop("some/resnet50.keras") == {"crop_pct": 0.875, "interpolation": "bilinear"}


def test_a_tag_vitlab_does_not_know_is_a_one_line_error():
    from vitlab import models

    with pytest.raises(models.UnknownModelError, match="known tags: resnet50.a1_in1k, resnet50.tv_in1k"):
        models.create("resnet50.a2_in1k")


def test_bad_crop_settings_are_one_line_errors(folder_of_two):
    root, _ = folder_of_two
    with pytest.raises(data_lib.DatasetError, match="crop_pct must be in"):
        data_lib.load(str(root), image_size=224, crop_pct=1.2)
    with pytest.raises(data_lib.DatasetError, match="interpolation must be one of"):
        data_lib.load(str(root), image_size=224, interpolation="lanczos7")


@pytest.mark.parametrize("height, width", [(375, 500), (500, 375)])
def test_mask_takes_the_image_s_crop(height, width):
    """The ground-truth mask of a non-square image is cropped like the image (not squashed)."""
    image = marked_image(height, width, 200, 180, side=40)
    mask = (image[..., :1] > 200).astype(np.float32)
    out_image = pipeline.resize_and_centre_crop(image, 224, 0.875, "bilinear").numpy()
    out_mask = pipeline.resize_and_centre_crop_mask(mask, 224, 0.875).numpy()
    assert set(np.unique(out_mask)) <= {0.0, 1.0}
    assert centroid(out_mask) == pytest.approx(centroid(out_image[..., 0]), abs=0.6)
    squashed = np.asarray(__import__("tensorflow").image.resize(mask, (224, 224), method="nearest"))[..., 0]
    assert (
        abs(centroid(squashed)[1] - centroid(out_image[..., 0])[1]) > 5
        or abs(centroid(squashed)[0] - centroid(out_image[..., 0])[0]) > 5
    )  # the old resize was misaligned


def _folder(root, size=(40, 50)):
    for index in range(4):
        write_png(root / f"c{index % 2}" / f"{index}.png", marked_image(*size, 10, 10))
    return str(root)


def _recorded(run_dir):
    import json

    return json.loads((run_dir / "run.json").read_text())["config"]["preprocessing"]


def test_stored_crop_survives_save_and_load_and_wins_over_the_file_name(tmp_path):
    """A resnet_test saved as resnet50.keras keeps its own 0.875 bilinear: nothing comes from the name."""
    from vitlab import models
    from vitlab.experiments import evaluation

    data = _folder(tmp_path / "data")
    options = evaluation.options("shuffle", overrides=["grids=2x2"], batch_size=4)
    for file, crop_pct, interpolation in (("resnet50.keras", 0.875, "bilinear"), ("my_resnet.keras", 0.95, "bicubic")):
        path = tmp_path / file
        models.create("resnet_test", crop_pct=crop_pct, interpolation=interpolation).save(path)
        loaded = models.load(str(path))
        assert (loaded.crop_pct, loaded.interpolation) == (crop_pct, interpolation)
        prepared = evaluation.prepare(options, [str(path)], data)
        assert (prepared.data.preprocessing["crop_pct"], prepared.data.preprocessing["interpolation"]) == (
            crop_pct,
            interpolation,
        )
        assert prepared.preprocessing["model_data_config"]["crop_from"] == "stored in the model"


def test_a_model_without_a_stored_crop_gets_the_paper_s_and_the_run_says_so(tmp_path):
    from vitlab.experiments import eval_command, evaluation

    data = _folder(tmp_path / "data")
    eval_command.evaluate(
        evaluation.options("shuffle", overrides=["grids=2x2"]),
        ["vit_test"],
        data,
        out=str(tmp_path / "run"),
        quiet=True,
    )
    recorded = _recorded(tmp_path / "run")
    assert (recorded["crop_pct"], recorded["interpolation"]) == (0.875, "bilinear")
    assert recorded["model_data_config"]["crop_from"] == "the paper's default (the model stores no crop)"
    events = (tmp_path / "run" / "events.jsonl").read_text()
    assert "crop_pct 0.875, bilinear (the paper's default" in events


def test_set_crop_overrides_the_stored_one_for_the_run(tmp_path):
    from vitlab import models
    from vitlab.config import ConfigError
    from vitlab.experiments import evaluation

    data = _folder(tmp_path / "data")
    models.create("resnet_test", crop_pct=0.875, interpolation="bilinear").save(tmp_path / "r.keras")
    options = evaluation.options("shuffle", overrides=["grids=2x2", "crop_pct=0.9", "interpolation=bicubic"])
    assert (options.crop.crop_pct, options.crop.interpolation) == (0.9, "bicubic")
    prepared = evaluation.prepare(options, [str(tmp_path / "r.keras")], data)
    assert (prepared.data.preprocessing["crop_pct"], prepared.data.preprocessing["interpolation"]) == (0.9, "bicubic")
    assert prepared.record()["crop"] == {"crop_pct": 0.9, "interpolation": "bicubic"}
    assert prepared.preprocessing["model_data_config"]["crop_from"] == "set for this run"
    with pytest.raises(ConfigError, match="crop_pct must be in"):
        evaluation.options("shuffle", overrides=["crop_pct=1.5"])
    with pytest.raises(ConfigError, match="interpolation must be one of"):
        evaluation.options("shuffle", values={"interpolation": "lanczos7"})

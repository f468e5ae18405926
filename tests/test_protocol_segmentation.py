"""The paper's segmentation protocol end to end: VOC label masks through the data pipeline,
per-object Jaccard in the experiment, and the 512 x 512 input taken from the original image."""

import numpy as np
import pytest
from helpers import official_per_sample_jaccard

from vitlab import data as data_lib
from vitlab.protocol import segmentation as protocol


class Context:
    seed = 0

    def progress(self, *args, **kwargs):
        pass


def write_voc(root, pairs):
    """A VOC2012 tree holding `pairs` {id: (uint8 image (H, W, 3), uint8 labels (H, W))}, split val."""
    from PIL import Image

    for folder in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    palette = [value for index in range(256) for value in (index, (index * 7) % 256, (index * 13) % 256)]
    for image_id, (image, labels) in pairs.items():
        Image.fromarray(image).save(root / "JPEGImages" / f"{image_id}.jpg", quality=95)
        png = Image.fromarray(labels, mode="P")
        png.putpalette(palette)
        png.save(root / "SegmentationClass" / f"{image_id}.png")
    (root / "ImageSets" / "Segmentation" / "val.txt").write_text("\n".join(pairs) + "\n")
    return root


def halves(height, width):
    """Left 3/8 object class 3, the rest class 7, a void (255) frame of 2 px."""
    labels = np.zeros((height, width), np.uint8)
    labels[:, : width * 3 // 8] = 3
    labels[:, width * 3 // 8 :] = 7
    labels[:2], labels[-2:], labels[:, :2], labels[:, -2:] = 255, 255, 255, 255
    image = np.full((height, width, 3), 40, np.uint8)
    image[labels == 7] = 220
    return image, labels


@pytest.fixture
def voc(tmp_path):
    wide = halves(40, 80)  # non-square: the crop and the squash differ
    tall = np.full((80, 40, 3), 90, np.uint8), np.zeros((80, 40), np.uint8)
    tall[1][60:, :] = 15  # the bottom quarter: outside a centre crop, inside a squash
    return write_voc(tmp_path / "VOCdevkit" / "VOC2012", {"wide": wide, "tall": tall})


def first_batch(dataset):
    return next(iter(dataset.batches()))


def test_voc_source_keeps_the_object_labels(voc):
    info = data_lib.describe(f"voc:{voc.parent}", split="val")
    assert (info.num_classes, info.num_examples, info.has_mask) == (20, 2, True)
    batch = first_batch(data_lib.load(f"voc:{voc.parent}", split="val", image_size=32, batch_size=2))
    assert set(np.unique(batch["mask"][0])) <= {3.0, 7.0, 255.0}  # labels kept, never binarised
    assert {3.0, 7.0} <= set(np.unique(batch["mask"][0]))
    assert list(batch["label"]) == [6, 14]  # the dominant object class, 0-based (7 -> 6, 15 -> 14)


def test_voc_crop_puts_the_mask_where_the_image_is(voc):
    batch = first_batch(data_lib.load(f"voc:{voc}", split="val", image_size=32, batch_size=2, crop_pct=1.0))
    image, mask = batch["image"][0], batch["mask"][0]
    bright = image[..., 0] > 0.5
    inner = (mask == 3) | (mask == 7)
    assert (bright[inner] == (mask[inner] == 7)).mean() > 0.95  # class 7 is the bright half


def test_squash_keeps_what_the_centre_crop_cuts_off(voc):
    cropped = first_batch(data_lib.load(f"voc:{voc}", split="val", image_size=32, batch_size=2, crop_pct=1.0))
    dataset = data_lib.load(f"voc:{voc}", split="val", image_size=32, batch_size=2, crop_pct=1.0)
    squashed = first_batch(dataset.reloaded(32, resize="squash"))
    assert not (cropped["mask"][1] == 15).any()  # the centre 40 x 40 of a 40 x 80 image
    assert (squashed["mask"][1][24:] == 15).all() and not (squashed["mask"][1][:24] == 15).any()
    assert squashed["image"].shape == (2, 32, 32, 3)
    wide = squashed["mask"][0]
    assert (wide[4:-4, 2:11] == 3).all() and (wide[4:-4, 13:30] == 7).all()  # both halves survive the squash
    assert dataset.reloaded(32).preprocessing["resize"].startswith("both sides")


def test_occlusion_foreground_of_label_masks():
    masks = np.array([[[0, 3, 255, 1]]], np.float32)
    assert protocol.foreground(masks).tolist() == [[[0.0, 1.0, 0.0, 1.0]]]


def test_experiment_scores_each_object_with_its_best_head():
    from vitlab.experiments import segmentation

    rng = np.random.default_rng(0)
    head_masks = rng.random((3, 4, 4, 4)) > 0.5  # 3 images, 4 heads, a 4 x 4 grid
    mean_mask = rng.random((3, 4, 4)) > 0.5
    labels = np.zeros((3, 16, 16), np.float32)
    labels[0, :8, :8], labels[0, 8:, 8:], labels[0, 0] = 1, 2, 255  # two objects and a void row
    labels[1, 4:12, 2:9] = 5  # one object not aligned with the 4 px cells
    best, mean, per_head = segmentation.score_batch(head_masks, mean_mask, labels)
    pixels = np.repeat(np.repeat(head_masks, 4, axis=-2), 4, axis=-1)
    mean_pixels = np.repeat(np.repeat(mean_mask, 4, axis=-2), 4, axis=-1)
    for image in range(2):
        assert best[image] == pytest.approx(official_per_sample_jaccard(pixels[image], labels[image]))
        assert mean[image] == pytest.approx(official_per_sample_jaccard(mean_pixels[image][None], labels[image]))
    assert np.isnan(best[2]) and np.isnan(mean[2]) and np.isnan(per_head[2]).all()  # no object
    assert per_head.shape == (3, 4) and np.nanmax(per_head[1]) == pytest.approx(best[1])


def test_segmentation_runs_on_voc_masks(voc):
    from vitlab.experiments import segmentation
    from vitlab.experiments.runner import resolve_model

    data = data_lib.load(f"voc:{voc}", split="val", image_size=32, batch_size=2)
    result = segmentation.run(
        [resolve_model("vit_test", num_classes=20)], data, segmentation.Config(tokens=["class"]), Context()
    )
    best = result.arrays["vit_test/class/jaccard_best_head"]
    assert best.shape == (2,) and np.isnan(best[1]) and 0.0 < best[0] <= 1.0  # image 2 has no object
    assert result.summary["jaccard_class/vit_test"] == pytest.approx(best[0])


def test_imagenet_size_models_read_the_original_image_at_512(voc, monkeypatch):
    from vitlab import models
    from vitlab.experiments import segmentation
    from vitlab.models.adapter import ModelAdapter

    big = ModelAdapter(models.create("vit_tiny_patch16_224", depth=1, num_classes=20), "vit_tiny")
    data = data_lib.load(f"voc:{voc}", split="val", image_size=224, batch_size=2, limit=1)
    seen = []
    original = segmentation.score_batch

    def spy(head_masks, mean_mask, labels):
        seen.append(np.asarray(labels))
        return original(head_masks, mean_mask, labels)

    monkeypatch.setattr(segmentation, "score_batch", spy)
    result = segmentation.run([big], data, segmentation.Config(tokens=["class"]), Context())
    assert seen[0].shape == (1, 512, 512)
    expected = first_batch(data.reloaded(512))["mask"]
    np.testing.assert_array_equal(seen[0], expected)
    assert (seen[0][0, :, :100] == 255).sum() > 0  # the squash keeps the whole frame (no crop)
    assert any("without a crop" in note for note in result.notes)

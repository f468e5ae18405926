"""Attention maps and segmentation-from-attention experiments on tiny models."""

from pathlib import Path

import numpy as np
import pytest

from vitlab.config import ConfigError
from vitlab.data.dataset import from_arrays
from vitlab.experiments import attention, segmentation
from vitlab.experiments.run_context import Context
from vitlab.experiments.runner import execute, resolve_model


def test_attention_maps_and_pngs(tiny_dataset):
    models = [resolve_model("deit_test_distilled"), resolve_model("resnet_test")]
    result = attention.run(models, tiny_dataset, attention.Config(num_images=2, level=0.5), Context(seed=0))
    maps = result.arrays["deit_test_distilled/clean"]
    assert maps.shape == (2, 2, 2, 4, 4)  # images, blocks, heads, rows, cols
    np.testing.assert_allclose(maps.sum(axis=(-2, -1)) <= 1.0 + 1e-5, True)  # a softmax row minus prefix tokens
    assert len(result.images) == 4 and all(Path(p).suffix == ".png" and Path(p).exists() for p in result.images)
    assert result.arrays["deit_test_distilled/visible_share"].shape == (2,)
    assert any("resnet_test" in note for note in result.notes)


def test_segmentation_class_vs_shape_token(tiny_dataset):
    models = [resolve_model("vit_test"), resolve_model("deit_test_distilled")]
    result = segmentation.run(models, tiny_dataset, segmentation.Config(), Context())
    assert result.arrays["vit_test/class/jaccard_per_head"].shape == (16, 2)
    assert "deit_test_distilled/dist/jaccard_best_head" in result.arrays
    assert "vit_test/dist/jaccard_best_head" not in result.arrays
    best = result.arrays["vit_test/class/jaccard_best_head"]
    assert ((best >= result.arrays["vit_test/class/jaccard_per_head"].max(axis=1) - 1e-6) & (best <= 1)).all()
    assert [row[:2] for row in result.tables[0].rows] == [
        ["vit_test", "class"],
        ["deit_test_distilled", "class"],
        ["deit_test_distilled", "dist"],
    ]


def test_segmentation_threshold_one_covers_every_pixel(tiny_arrays):
    images, labels, masks = tiny_arrays
    data = from_arrays(images[:4], labels[:4], masks=masks[:4], num_classes=10)
    result = segmentation.run([resolve_model("vit_test")], data, segmentation.Config(threshold=1.0), Context())
    # the whole image is predicted: Jaccard = object area / image area = 16*16 / 32*32
    np.testing.assert_allclose(result.arrays["vit_test/class/jaccard_head_mean"], 0.25)


def test_segmentation_needs_masks_and_a_transformer(tiny_arrays):
    images, labels, masks = tiny_arrays
    no_masks = from_arrays(images[:4], labels[:4], num_classes=10)
    with pytest.raises(ConfigError, match="no ground-truth masks"):
        execute("segmentation", [resolve_model("vit_test")], no_masks, segmentation.Config(), Context())
    with_masks = from_arrays(images[:4], labels[:4], masks=masks[:4], num_classes=10)
    with pytest.raises(ConfigError, match="vision transformer"):
        execute("segmentation", [resolve_model("resnet_test")], with_masks, segmentation.Config(), Context())
    with pytest.raises(ConfigError, match="vision transformer"):
        execute("attention", [resolve_model("resnet_test")], with_masks, attention.Config(), Context())

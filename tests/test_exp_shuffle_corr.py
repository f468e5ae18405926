"""Patch shuffle and feature correlation experiments on tiny models."""

import numpy as np
import pytest

from vitlab.config import ConfigError
from vitlab.experiments import correlation, shuffle
from vitlab.experiments.run_context import Context
from vitlab.experiments.runner import resolve_model


def test_shuffle_grids_and_skipped_ones(tiny_dataset):
    models = [resolve_model("vit_test"), resolve_model("resnet_test")]
    config = shuffle.Config(grids=["2x2", "14x14", "4x4"], repeats=2)
    result = shuffle.run(models, tiny_dataset, config, Context(seed=0))
    assert list(result.arrays["grids"]) == ["none", "2x2", "4x4"]
    assert result.arrays["top1"].shape == (2, 2, 3) and result.arrays["top1_per_class"].shape == (2, 3, 10)
    assert any("14x14 skipped" in note for note in result.notes)
    assert result.curves[0].x == [1, 4, 16] and result.curves[0].x_ticks == ["none", "2x2", "4x4"]


def test_model_without_position_embedding_ignores_shuffles_of_its_patches(tiny_dataset):
    from vitlab import models
    from vitlab.models.adapter import ModelAdapter

    model = models.create("vit_test", pos_embed=False)
    result = shuffle.run([ModelAdapter(model, "nopos")], tiny_dataset, shuffle.Config(grids=["4x4"]), Context())
    np.testing.assert_allclose(result.arrays["top1"][0, 0, 0], result.arrays["top1"][0, 0, 1])
    np.testing.assert_allclose(result.arrays["top5"][0, 0, 0], result.arrays["top5"][0, 0, 1])


def test_correlation_per_block_and_stage(tiny_dataset):
    models = [resolve_model("deit_test_distilled"), resolve_model("resnet_test")]
    result = correlation.run(models, tiny_dataset, correlation.Config(levels=[0.0, 0.5]), Context(seed=0))
    vit, cnn = result.arrays["deit_test_distilled/correlation"], result.arrays["resnet_test/correlation"]
    assert vit.shape == (2, 2) and cnn.shape == (2, 4)
    assert result.arrays["resnet_test/per_class"].shape == (2, 4, 10)
    np.testing.assert_allclose(vit[0], 1.0, atol=1e-5)  # nothing dropped: identical features
    np.testing.assert_allclose(cnn[0], 1.0, atol=1e-5)
    assert (vit[1] < 1.0).all() and len(result.curves) == 2


def test_correlation_errors():
    with pytest.raises(ConfigError, match="definition"):
        correlation.Config(definition="sideways").validate()

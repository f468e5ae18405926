"""The study's 64-px models: shapes, the pooled-ViT head, the ResNet stems and the lesion's view of them.

Every registered name also goes through tests/test_models.py's config and .keras round trips.
"""

import numpy as np
import pytest
from keras import ops

from vitlab import models
from vitlab.models.adapter import ModelAdapter
from vitlab.protocol import lesion

STUDY_64 = (
    "vit_nano_patch8_64",
    "vit_nano_nopos_patch8_64",
    "deit_nano_distilled_patch8_64",
    "vit_nano_gap_patch8_64",
    "resnet_nano_64",
    "resnet_nano_patchify8_64",
)


def _images(n=2, size=64, seed=0):
    return np.random.default_rng(seed).random((n, size, size, 3), dtype=np.float32)


def test_study_models_are_registered_at_64_px_with_the_nano_budget():
    nano32 = models.parameter_count(models.create("vit_nano_patch4_32"))
    for name in STUDY_64:
        model = models.create(name)
        assert model.image_size == 64 and model.num_classes == 10, name
        assert ops.convert_to_numpy(model(_images())).shape == (2, 10), name
        assert abs(models.parameter_count(model) / nano32 - 1) < 0.15, name  # same width/depth as the 32-px nano
    vit = models.create("vit_nano_patch8_64")
    assert (vit.grid_size, vit.num_patches, vit.hidden_dim, vit.depth, vit.num_heads) == (8, 64, 96, 6, 3)


def test_pooled_vit_has_no_class_token_and_its_head_reads_the_mean_patch_token():
    model = models.create("vit_nano_gap_patch8_64", depth=2)
    assert model.num_prefix_tokens == 0 and model.cls_token is None
    assert "cls_token" not in [w.path.split("/")[-1] for w in model.weights]
    images = _images()
    out = model.forward(images, return_tokens=True)
    assert out["features"].shape == (2, 64, 96) and out["tokens"][0].shape == (2, 64, 96)
    by_hand = model.head(ops.mean(out["features"], axis=1))
    np.testing.assert_allclose(ops.convert_to_numpy(model(images)), ops.convert_to_numpy(by_hand), atol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(out["logits"]), ops.convert_to_numpy(by_hand), atol=1e-5)
    token = models.create("vit_nano_patch8_64", depth=2)
    assert token.num_prefix_tokens == 1 and token.pos_embed.shape == (1, 65, 96)
    assert model.pos_embed.shape == (1, 64, 96)


def test_pooled_vit_without_positions_ignores_patch_order():
    """No class token, no position table: permuting the patches cannot change the mean."""
    model = models.create("vit_nano_gap_patch8_64", depth=2, pos_embed=False)
    images = _images(1)
    patches = images.reshape(1, 8, 8, 8, 8, 3)  # (b, gy, py, gx, px, c)
    shuffled = patches[:, ::-1, :, [3, 1, 7, 0, 2, 6, 5, 4]].reshape(1, 64, 64, 3)
    np.testing.assert_allclose(ops.convert_to_numpy(model(images)), ops.convert_to_numpy(model(shuffled)), atol=1e-4)


def test_invalid_pool_and_stem_arguments_are_refused():
    with pytest.raises(ValueError, match="global_pool must be"):
        models.create("vit_nano_patch8_64", global_pool="max")
    with pytest.raises(ValueError, match="distilled"):
        models.create("deit_nano_distilled_patch8_64", global_pool="avg")
    with pytest.raises(ValueError, match="stem must be"):
        models.create("resnet_nano_64", stem="conv7")
    with pytest.raises(ValueError, match="patch_size"):
        models.create("resnet_nano_64", patch_size=8)  # patch_size only for the patchify stem
    with pytest.raises(ValueError, match="multiple of patch_size"):
        models.create("resnet_nano_patchify8_64", image_size=60)


@pytest.mark.parametrize(
    "name, stem_side",
    [("resnet_nano_64", 32), ("resnet_nano_patchify8_64", 8), ("resnet_nano_32", 32), ("resnet_test", 32)],
)
def test_stem_sizes_match_the_stages_and_the_lesion_points(name, stem_side):
    model = models.create(name)
    images = _images(2, model.image_size)
    assert model.stem_size() == stem_side
    stem = model.stem_forward(model.normalize(images))
    assert tuple(stem.shape[1:3]) == (stem_side, stem_side)
    stages = model.forward(images, return_stages=True)["stages"]
    assert lesion.resnet_point_shape(model, 1) == (stem_side, stem_side)
    for point, stage in zip(range(2, 6), stages, strict=True):
        assert lesion.resnet_point_shape(model, point) == tuple(stage.shape[1:3]), (name, point)
    adapter = ModelAdapter(model)
    for point in (1, 3):
        keep = np.ones((2, *lesion.resnet_point_shape(model, point)), np.float32)
        np.testing.assert_allclose(
            ops.convert_to_numpy(lesion.resnet_forward(adapter, images, point, keep)),
            ops.convert_to_numpy(model(images)),
            atol=1e-4,
        )


def test_patchify_stem_sees_each_8x8_patch_alone():
    model = models.create("resnet_nano_patchify8_64")
    images = _images(1)
    changed = images.copy()
    changed[0, 8:16, 24:32] = 1.0 - changed[0, 8:16, 24:32]  # patch (row 1, column 3)
    before = ops.convert_to_numpy(model.stem_forward(model.normalize(images)))
    after = ops.convert_to_numpy(model.stem_forward(model.normalize(changed)))
    differs = np.abs(after - before).max(axis=-1)[0] > 1e-6
    expected = np.zeros((8, 8), bool)
    expected[1, 3] = True
    assert np.array_equal(differs, expected)


def test_attention_of_a_class_token_is_refused_for_the_pooled_vit():
    images = _images(1)
    token = ModelAdapter(models.create("vit_nano_patch8_64", depth=1))
    assert tuple(token.cls_attention(images).shape) == (1, 8, 8)
    pooled = ModelAdapter(models.create("vit_nano_gap_patch8_64", depth=1))
    with pytest.raises(ValueError, match="no class token"):
        pooled.cls_attention(images)


def test_pooled_vit_class_features_are_its_patch_mean():
    model = models.create("vit_nano_gap_patch8_64", depth=1)
    adapter = ModelAdapter(model)
    images = np.random.default_rng(0).random((2, 64, 64, 3)).astype("float32")
    features = adapter.block_features(images, kinds=("class", "patch_mean"))
    assert adapter.num_prefix_tokens == 0
    for pooled, mean in zip(features["class"], features["patch_mean"], strict=True):
        np.testing.assert_allclose(np.asarray(pooled), np.asarray(mean), atol=1e-6)

"""Every registered model: timm parameter counts, config and .keras round trips, forward contracts."""

import keras
import numpy as np
import pytest
from helpers import run_model_test
from keras import ops

from vitlab import models
from vitlab.models.vit import resample_pos_embed

TIMM_PARAMETER_COUNTS = {
    "deit_tiny_patch16_224": 5_717_416,
    "deit_small_patch16_224": 22_050_664,
    "deit_base_patch16_224": 86_567_656,
    "deit_tiny_distilled_patch16_224": 5_910_800,
    "deit_small_distilled_patch16_224": 22_436_432,
    "deit_base_distilled_patch16_224": 87_338_192,
    "vit_tiny_patch16_224": 5_717_416,
    "vit_small_patch16_224": 22_050_664,
    "vit_base_patch16_224": 86_567_656,
    "vit_large_patch16_224": 304_326_632,
    "resnet50": 25_557_032,
}


def test_registry_has_every_timm_name():
    assert set(TIMM_PARAMETER_COUNTS) <= set(models.timm_models())


@pytest.mark.parametrize("name", sorted(TIMM_PARAMETER_COUNTS))
def test_parameter_count_equals_timm(name):
    assert models.parameter_count(models.create(name)) == TIMM_PARAMETER_COUNTS[name]


@pytest.mark.parametrize("name", models.list_models())
def test_config_dtype_policy_and_keras_file_round_trip(name, tmp_path):
    model = run_model_test(name, tmp_path)  # shape, get_config/from_config, mixed_bfloat16, .keras
    loaded = models.load(str(tmp_path / f"{name}.keras"))  # and vitlab's own safe-mode loader
    assert loaded.get_config() == model.get_config()


def test_import_vitlab_models_is_enough_for_keras_load_model(tmp_path):
    """`import vitlab.models` then keras.saving.load_model (the keras_hub convention), in a
    fresh interpreter where Keras is imported after vitlab.models."""
    import subprocess
    import sys

    models.create("vit_test").save(tmp_path / "m.keras")
    code = (
        "import sys, vitlab.models; assert 'keras' not in sys.modules; import keras; "
        "m = keras.saving.load_model(sys.argv[1]); print(type(m).__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "m.keras")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "VisionTransformer"


def test_keras_refuses_the_file_without_the_registration(tmp_path, monkeypatch):
    """The control for the test above: with vitlab's classes taken out of Keras' registry, the
    same load fails and names the class."""
    import keras

    models.create("vit_test").save(tmp_path / "m.keras")
    registry = keras.saving.get_custom_objects()
    for name in [key for key in registry if key.startswith("vitlab>")]:
        monkeypatch.delitem(registry, name)
    with pytest.raises(Exception, match="VisionTransformer"):
        keras.saving.load_model(tmp_path / "m.keras")


def test_unknown_model_names_suggest_close_ones():
    with pytest.raises(models.UnknownModelError, match="did you mean deit_tiny_patch16_224"):
        models.create("deit_tiny_patch16_244")


def _images(n=2, size=32, seed=0):
    return np.random.default_rng(seed).random((n, size, size, 3), dtype=np.float32)


def test_vit_forward_returns_tokens_and_attention_per_block():
    model = models.create("deit_test_distilled", num_classes=7)
    out = model.forward(_images(), return_tokens=True, return_attention=True)
    tokens = 2 + model.num_patches
    assert len(out["tokens"]) == model.depth == len(out["attention"])
    assert out["tokens"][0].shape == (2, tokens, model.hidden_dim)
    attention = ops.convert_to_numpy(out["attention"][-1])
    assert attention.shape == (2, model.num_heads, tokens, tokens)
    np.testing.assert_allclose(attention.sum(-1), 1.0, atol=1e-5)
    assert set(out["heads"]) == {"class", "dist"}


def test_fused_and_explicit_attention_give_the_same_logits():
    model = models.create("vit_test", num_classes=4)
    images = _images()
    fused = ops.convert_to_numpy(model.forward(images)["logits"])
    explicit = ops.convert_to_numpy(model.forward(images, return_attention=True)["logits"])
    np.testing.assert_allclose(fused, explicit, atol=1e-5)


def test_distilled_inference_averages_the_two_heads():
    model = models.create("deit_test_distilled", num_classes=3)
    images = _images()
    heads = {k: ops.convert_to_numpy(v) for k, v in model.forward(images)["heads"].items()}
    np.testing.assert_allclose(ops.convert_to_numpy(model(images)), (heads["class"] + heads["dist"]) / 2, atol=1e-6)
    assert not np.allclose(heads["class"], heads["dist"])
    only_dist = models.create("deit_test_distilled", num_classes=3, head_mode="dist")
    only_dist.set_weights(model.get_weights())
    np.testing.assert_allclose(ops.convert_to_numpy(only_dist(images)), heads["dist"], atol=1e-6)


def test_token_drop_inside_the_network():
    model = models.create("vit_test", num_classes=4)
    images = _images()
    plain = ops.convert_to_numpy(model.forward(images)["logits"])
    keep_all = np.ones((2, model.num_patches), bool)
    same = ops.convert_to_numpy(model.forward(images, token_keep={0: keep_all})["logits"])
    np.testing.assert_allclose(same, plain, atol=1e-5)

    keep = keep_all.copy()
    keep[:, ::2] = False
    out = model.forward(images, return_attention=True, token_keep={0: keep})
    attention = ops.convert_to_numpy(out["attention"][0])  # (B, H, T, T)
    dropped_keys = 1 + np.flatnonzero(~keep[0])
    assert attention[..., dropped_keys].max() < 1e-6
    assert not np.allclose(ops.convert_to_numpy(out["logits"]), plain, atol=1e-4)


def test_without_position_embedding_the_class_token_ignores_patch_order():
    model = models.create("vit_test", num_classes=4, pos_embed=False)
    images = _images()
    grid, patch = model.grid_size, model.patch_size
    cells = (
        images.reshape(2, grid, patch, grid, patch, 3)
        .transpose(0, 1, 3, 2, 4, 5)
        .reshape(2, grid * grid, patch, patch, 3)
    )
    permuted = cells[:, np.random.default_rng(1).permutation(grid * grid)]
    shuffled = permuted.reshape(2, grid, grid, patch, patch, 3).transpose(0, 1, 3, 2, 4, 5).reshape(images.shape)
    np.testing.assert_allclose(ops.convert_to_numpy(model(shuffled)), ops.convert_to_numpy(model(images)), atol=1e-5)
    with_pos = models.create("vit_test", num_classes=4)
    assert not np.allclose(ops.convert_to_numpy(with_pos(shuffled)), ops.convert_to_numpy(with_pos(images)), atol=1e-5)


def test_drop_path_only_acts_while_training():
    model = models.create("vit_test", num_classes=4, drop_path_rate=0.5)
    images = _images(8)
    eval_a = ops.convert_to_numpy(model(images, training=False))
    eval_b = ops.convert_to_numpy(model(images, training=False))
    np.testing.assert_array_equal(eval_a, eval_b)
    train = ops.convert_to_numpy(model(images, training=True))
    assert not np.allclose(train, eval_a)


def test_resnet_stages_and_stage_masks():
    model = models.create("resnet_test", num_classes=4)
    images = _images()
    out = model.forward(images, return_stages=True)
    assert [s.shape[1] for s in out["stages"]] == [32, 16, 8, 4]
    assert [s.shape[-1] for s in out["stages"]] == model.stage_channels
    ones = model.forward(images, stage_keep={1: np.ones((2, 4, 4), "float32")})
    np.testing.assert_allclose(ops.convert_to_numpy(ones["logits"]), ops.convert_to_numpy(out["logits"]), atol=1e-5)
    zeros = model.forward(images, stage_keep={3: np.zeros((2, 4, 4), "float32")})
    np.testing.assert_allclose(ops.convert_to_numpy(zeros["features"]), 0.0, atol=1e-6)


def test_resnet50_stem_matches_torch_geometry():
    model = models.create("resnet50", num_classes=0)
    out = model.forward(np.zeros((1, 224, 224, 3), "float32"), return_stages=True)
    assert [tuple(s.shape[1:3]) for s in out["stages"]] == [(56, 56), (28, 28), (14, 14), (7, 7)]


def test_position_table_resampling():
    table = np.random.default_rng(0).random((1, 1 + 16, 8)).astype("float32")
    same = resample_pos_embed(table, 1, 4)
    np.testing.assert_array_equal(same, table)
    bigger = resample_pos_embed(table, 1, 6)
    assert bigger.shape == (1, 1 + 36, 8)
    np.testing.assert_array_equal(bigger[:, :1], table[:, :1])
    constant = np.ones((1, 2 + 9, 4), "float32")
    np.testing.assert_allclose(resample_pos_embed(constant, 2, 5), 1.0, atol=1e-5)


def test_invalid_arguments_are_refused():
    with pytest.raises(ValueError, match="not a multiple"):
        models.create("vit_test", image_size=30)
    with pytest.raises(ValueError, match="head_mode"):
        models.create("vit_test", head_mode="both")
    with pytest.raises(ValueError, match="stem"):
        models.create("resnet_test", stem="tiny")


def test_headless_models_return_features():
    model = models.create("vit_test", num_classes=0)
    assert model(_images()).shape == (2, model.hidden_dim)
    assert isinstance(model, keras.Model)

"""The model adapter: one view of ViTs, DeiTs, ResNets and plain Keras classifiers."""

import keras
import numpy as np
import pytest
from keras import ops

from vitlab import models
from vitlab.models.adapter import ModelAdapter, adapt


def _images(n=3, size=32):
    return np.random.default_rng(0).random((n, size, size, 3), dtype=np.float32)


def test_transformer_view():
    adapter = adapt("deit_test_distilled")
    assert adapter.kind == "vit" and adapter.has_dist_token
    assert adapter.head_names == ("class", "dist")
    assert adapter.patch_grid == (4, 4) and adapter.num_prefix_tokens == 2
    images = _images()
    heads = adapter.forward(images)["heads"]
    np.testing.assert_allclose(
        ops.convert_to_numpy(adapter.logits(images, head="dist")), ops.convert_to_numpy(heads["dist"]), atol=1e-6
    )
    features = adapter.block_features(images, kinds=("class", "dist", "patch_mean"))
    assert set(features) == {"class", "dist", "patch_mean"}
    assert len(features["class"]) == adapter.num_blocks == 2
    assert features["dist"][0].shape == (3, 32)


def test_class_attention_is_a_distribution_over_patches_and_prefix():
    adapter = adapt("vit_test")
    attention = ops.convert_to_numpy(adapter.cls_attention(_images(), block=-1))
    assert attention.shape == (3, 4, 4)
    assert np.all(attention >= 0) and np.all(attention.sum(axis=(1, 2)) <= 1.0 + 1e-5)
    per_head = ops.convert_to_numpy(adapter.cls_attention(_images(), block=0, head=1))
    assert per_head.shape == (3, 4, 4)


def test_inputs_of_another_size_are_resized():
    adapter = adapt("vit_test")
    assert adapter.logits(_images(size=48)).shape == (3, 10)


def test_cnn_view_returns_pooled_stage_features():
    adapter = adapt("resnet_test")
    assert adapter.kind == "cnn" and not adapter.has_dist_token
    features = adapter.block_features(_images())
    assert [f.shape[-1] for f in features["pooled"]] == adapter.model.stage_channels
    with pytest.raises(ValueError, match="no distillation"):
        adapter.logits(_images(), head="dist")


def test_plain_keras_classifier_gives_logits_only(tmp_path):
    inputs = keras.Input((32, 32, 3))
    outputs = keras.layers.Dense(5)(keras.layers.GlobalAveragePooling2D()(inputs))
    plain = keras.Model(inputs, outputs)
    adapter = ModelAdapter(plain, name="plain", mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    images = _images()
    expected = ops.convert_to_numpy(plain((images - 0.5) / 0.5))
    np.testing.assert_allclose(ops.convert_to_numpy(adapter.logits(images)), expected, atol=1e-5)
    assert adapter.kind == "classifier" and adapter.num_classes == 5 and adapter.image_size == 32
    with pytest.raises(ValueError, match="only logits"):
        adapter.forward(images, tokens=True)


def test_adapt_loads_keras_files(tmp_path):
    model = models.create("vit_test", num_classes=3)
    path = tmp_path / "m.keras"
    model.save(path)
    adapter = adapt(str(path))
    np.testing.assert_allclose(
        ops.convert_to_numpy(adapter.logits(_images())), ops.convert_to_numpy(model(_images())), atol=1e-5
    )

"""Which compilation the trainer picks for a student (vitlab.training.trainer.use_xla)."""

import keras
import pytest


@pytest.fixture
def bfloat16_policy():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_global_policy("float32")


def test_float32_transformers_train_with_xla_and_resnets_as_graphs(monkeypatch):
    from vitlab import models
    from vitlab.training import strategy, trainer

    monkeypatch.setenv("VITLAB_XLA", "1")
    one = strategy.select("one_device")
    assert trainer.use_xla(models.create("vit_test", num_classes=4), one)
    assert not trainer.use_xla(models.create("resnet_test", num_classes=4), one)


def test_transformers_with_long_token_sequences_train_as_graphs(monkeypatch):
    """DeiT at 224 (197 tokens) trains faster as a graph; the 64-px nano ViT (65 tokens) with XLA."""
    from vitlab import models
    from vitlab.training import strategy, trainer

    monkeypatch.setenv("VITLAB_XLA", "1")
    one = strategy.select("one_device")
    short = models.create("vit_test", num_classes=4, image_size=64, patch_size=8)  # 65 tokens
    long = models.create("vit_test", num_classes=4, image_size=120, patch_size=8)  # 226 tokens
    assert short.num_patches + 1 <= trainer.XLA_MAX_TOKENS < long.num_patches + 1
    assert trainer.use_xla(short, one) and not trainer.use_xla(long, one)


def test_mixed_bfloat16_transformers_train_as_graphs_on_a_cpu_and_with_xla_on_a_gpu(monkeypatch, bfloat16_policy):
    """XLA's CPU dots gain nothing from bfloat16; oneDNN's graph matmuls use the CPU's bf16 instructions."""
    from vitlab import models
    from vitlab.training import strategy, trainer

    monkeypatch.setenv("VITLAB_XLA", "1")
    vit = models.create("vit_test", num_classes=4)
    assert vit.compute_dtype == "bfloat16"
    one = strategy.select("one_device")
    monkeypatch.setattr(trainer, "_has_gpu", lambda: False)
    assert not trainer.use_xla(vit, one)
    monkeypatch.setattr(trainer, "_has_gpu", lambda: True)
    assert trainer.use_xla(vit, one)

"""DINO checkpoints for the shared saliency model: the official .pth layout (timm's ViT keys,
no head), DINO's training checkpoint (teacher / backbone.), and timm's headless .dino."""

import numpy as np
import pytest

from vitlab import models
from vitlab.models import timm_convert


def test_dino_registry_entry_is_headless_vit_small_with_imagenet_statistics():
    spec = models.get_spec("vit_small_patch16_224_dino")
    assert spec.timm_name == "vit_small_patch16_224.dino"
    assert (spec.crop_pct, spec.interpolation) == (0.9, "bicubic")
    assert spec.kwargs["mean"] == (0.485, 0.456, 0.406) and spec.kwargs["num_classes"] == 0
    # ViT-S/16 (22,050,664) without its 384 x 1000 head: timm's vit_small_patch16_224.dino
    assert models.parameter_count(models.create("vit_small_patch16_224_dino")) == 22_050_664 - 385_000


def _headless_state():
    import keras

    keras.utils.set_random_seed(3)
    model = models.create("vit_test", num_classes=0)
    return model, timm_convert.export_timm_state(model)


def _features(model, images):
    return np.asarray(model(images))


@pytest.mark.parametrize("layout", ["official_pth", "timm_dino", "dino_training_checkpoint"])
def test_dino_layouts_import_headless_and_give_the_same_features(layout, tmp_path):
    source, state = _headless_state()
    assert not any(key.startswith("head") for key in state)
    if layout == "dino_training_checkpoint":  # {"teacher": {"backbone.*", "head.mlp.*", ...}, "student": ...}
        wrapped = {
            "teacher": {
                **{f"backbone.{k}": v for k, v in state.items()},
                "head.mlp.0.weight": np.zeros((64, 32), "float32"),
                "head.last_layer.weight_g": np.ones((128, 1), "float32"),
            },
            "student": {f"module.backbone.{k}": v * 0 for k, v in state.items()},
            "epoch": 100,
        }
        state = timm_convert.unwrap_state(wrapped)
    path = tmp_path / "dino.npz"
    np.savez(path, **state)
    model, notes = timm_convert.import_checkpoint("vit_test", path)
    assert model.num_classes == 0 and model.head is None and notes == [timm_convert.NO_CROP_NOTE]
    images = np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32)
    np.testing.assert_allclose(_features(model, images), _features(source, images), atol=1e-6)


def test_a_dino_checkpoint_into_a_classifier_name_gets_a_new_head_and_says_so(tmp_path):
    _, state = _headless_state()
    path = tmp_path / "dino.npz"
    np.savez(path, **state)
    model, notes = timm_convert.import_checkpoint("vit_test", path, num_classes=5)
    assert model.num_classes == 5 and any("new head with 5 classes" in note for note in notes)


def test_dino_sees_the_evaluated_model_s_normalisation_by_default():
    """evaluate.py line 134: DINO's input is normalize(img, mean, std) of the *evaluated* model;
    the mask equals that of a DINO whose own statistics are the evaluated model's."""
    import keras

    from vitlab.experiments import occlusion
    from vitlab.models.adapter import ModelAdapter

    keras.utils.set_random_seed(4)
    dino = ModelAdapter(
        models.create("vit_test", num_classes=0, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)), "dino"
    )
    vit = ModelAdapter(models.create("vit_test", mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)), "vit")
    cnn = ModelAdapter(models.create("resnet_test", mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)), "cnn")
    run = [dino, vit, cnn]
    providers = occlusion.saliency_sources(run, occlusion.Config(saliency_model="dino"), has_mask=False)
    assert providers["cnn"] is providers["dino"] and providers["vit"] is not providers["dino"]
    assert providers["dino"].input_stats is None  # the CNN shares DINO's own ImageNet statistics
    own = occlusion.saliency_sources(
        run, occlusion.Config(saliency_model="dino", saliency_normalization="own"), has_mask=False
    )
    assert len({id(p) for p in own.values()}) == 1
    twin = models.create("vit_test", num_classes=0, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    twin.set_weights(dino.model.get_weights())  # DINO with the ViT's statistics built in
    images = np.random.default_rng(5).random((3, 32, 32, 3), dtype=np.float32)
    from vitlab.experiments.occlusion_sweep import SaliencyMass

    expected = np.asarray(SaliencyMass(ModelAdapter(twin, "twin"), head=1)(images))
    np.testing.assert_allclose(np.asarray(providers["vit"](images)), expected, atol=1e-5)
    assert not np.allclose(np.asarray(own["vit"](images)), expected, atol=1e-3)

"""The experiments' defaults are the paper's protocol (vitlab/protocol), each pinned here."""

import pytest

from vitlab.config import ConfigError


class Context:
    seed = 0

    def progress(self, *args, **kwargs):
        pass

    def log(self, *args, **kwargs):
        pass

    def metric(self, *args, **kwargs):
        pass


@pytest.fixture(scope="module")
def adapters():
    import keras

    from vitlab.models.adapter import adapt

    keras.utils.set_random_seed(0)
    return {name: adapt(name) for name in ("vit_test", "deit_test_distilled", "resnet_test")}


def test_occlusion_grid_depends_on_the_image_size_alone(adapters):
    from vitlab.experiments import grids

    for company in (["vit_test"], ["resnet_test"], ["resnet_test", "vit_test"]):
        chosen = [adapters[name] for name in company]
        assert grids.resolve_grid("", chosen, 32, 32) == (8, 8)
        assert grids.resolve_grid("", chosen, 224, 224) == (14, 14)


def test_occlusion_defaults_are_the_paper_s():
    from vitlab.experiments import occlusion

    config = occlusion.Config()
    assert config.lesion_variant == "official" and config.lesion_blocks == [0, 2, 4, 8, 10]
    assert config.lesion_levels == [0.25, 0.5, 0.75] and config.saliency_head == 1 and config.saliency_block == -1
    with pytest.raises(ConfigError, match="lesion_variant"):
        occlusion.Config(lesion_variant="sideways").validate()


def test_one_saliency_model_masks_every_model(adapters):
    from vitlab.experiments import occlusion

    run = [adapters["resnet_test"], adapters["deit_test_distilled"], adapters["vit_test"]]
    providers = occlusion.saliency_sources(run, occlusion.Config(modes=["salient"]), has_mask=True)
    assert {p.adapter.name for p in providers.values()} == {"deit_test_distilled"}  # the first ViT, for all
    named = occlusion.saliency_sources(run, occlusion.Config(saliency_model="vit_test"), has_mask=False)
    assert {p.adapter.name for p in named.values()} == {"vit_test"}
    with pytest.raises(ConfigError, match="needs saliency_model"):
        occlusion.saliency_sources(run, occlusion.Config(modes=["salient"]), has_mask=False)


def test_official_lesion_is_the_default_sweep(adapters, tiny_arrays):
    from vitlab.data.dataset import from_arrays
    from vitlab.experiments import occlusion

    images, labels, _ = tiny_arrays
    data = from_arrays(images[:8], labels[:8], batch_size=8, num_classes=10)
    run = [adapters["vit_test"], adapters["resnet_test"]]
    config = occlusion.Config(modes=["lesion"], repeats=1)
    occlusion.EXPERIMENT.verify(run, data, config)  # what the runner does once before run()
    result = occlusion.run(run, data, config, Context())
    assert config.lesion_blocks == [0]  # the paper's blocks every model has (vit_test: 2 blocks)
    assert result.arrays["lesion/top1"].shape == (2, 1, 1, 3)
    assert any("lesion (official)" in note for note in result.notes)


def test_mce_baseline_is_alexnet_on_1000_classes_else_a_named_cnn(adapters):
    from vitlab.experiments import corruption

    run = [adapters["vit_test"], adapters["resnet_test"]]
    published, index, extra, label = corruption._resolve_baseline(run, corruption.Config(), 1000)
    assert published and index is None and "AlexNet" in label
    published, index, extra, label = corruption._resolve_baseline(run, corruption.Config(), 10)
    assert not published and index == 1 and "resnet_test" in label


def test_feature_experiments_default_to_the_official_features_and_probe():
    from vitlab.experiments import correlation, few_shot, knn, linear_probe

    probe = linear_probe.Config()
    assert (probe.method, probe.learning_rate, probe.weight_decay, probe.probe_batch_size, probe.epochs) == (
        "linear",
        5e-4,
        0.05,
        256,
        10,
    )
    assert all(cls().token_norm for cls in (linear_probe.Config, knn.Config, few_shot.Config, correlation.Config))


def test_segmentation_runs_imagenet_size_models_at_512(adapters):
    from vitlab import models
    from vitlab.experiments import segmentation
    from vitlab.models.adapter import ModelAdapter

    big = ModelAdapter(models.create("vit_tiny_patch16_224", depth=1, num_classes=5), "vit_tiny")
    assert segmentation.input_size(big, segmentation.Config(), 224) == 512
    assert segmentation.input_size(adapters["vit_test"], segmentation.Config(), 32) == 32
    assert segmentation.input_size(big, segmentation.Config(input_size=224), 224) == 224

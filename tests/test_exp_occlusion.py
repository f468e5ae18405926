"""PatchDrop experiment: result shapes, hand-checkable fractions, config errors, the CLI."""

import h5py
import numpy as np
import pytest
from helpers import run_cli

from vitlab.config import ConfigError
from vitlab.experiments import occlusion
from vitlab.experiments.run_context import Context
from vitlab.experiments.runner import execute, resolve_model


@pytest.fixture(scope="module")
def adapters():
    return {name: resolve_model(name) for name in ("vit_test", "deit_test_distilled", "resnet_test")}


def test_random_and_saliency_modes_share_one_pass(adapters, tiny_dataset):
    models = [adapters["vit_test"], adapters["resnet_test"]]
    config = occlusion.Config(
        modes=["random", "salient", "non_salient"], levels=[0.0, 0.5], repeats=2, lambdas=[0.5, 1.0]
    )
    result = occlusion.run(models, tiny_dataset, config, Context(seed=1))
    arrays = result.arrays
    assert arrays["random/top1"].shape == (2, 2, 2) and arrays["random/top5"].shape == (2, 2, 2)
    assert arrays["random/top1_per_class"].shape == (2, 2, 10)
    assert arrays["salient/top1"].shape == (2, 1, 2)
    # vit_test has a 4x4 patch grid of 8x8-pixel cells: half the cells = half the pixels
    np.testing.assert_allclose(arrays["random/pixels_dropped"][:, :, 0], 0.0)
    np.testing.assert_allclose(arrays["random/pixels_dropped"][:, :, 1], 0.5)
    # lambda = 1: every patch is foreground, so salient drops all and non-salient nothing
    np.testing.assert_allclose(arrays["salient/pixels_dropped"][:, 0, 1], 1.0)
    np.testing.assert_allclose(arrays["non_salient/pixels_dropped"][:, 0, 1], 0.0)
    np.testing.assert_allclose(
        arrays["salient/pixels_dropped"][:, 0, 0] + arrays["non_salient/pixels_dropped"][:, 0, 0], 1.0
    )
    # the ResNet uses the ViT's saliency: same pixels dropped
    np.testing.assert_allclose(arrays["salient/pixels_dropped"][0], arrays["salient/pixels_dropped"][1])
    # level 0 is the clean image: no variation across repeats
    assert (arrays["random/top1"][:, 0, 0] == arrays["random/top1"][:, 1, 0]).all()
    assert [c.x for c in result.curves] == [[0.0, 0.5], [0.5, 1.0], [0.5, 1.0]]
    assert set(result.curves[0].series) == set(result.curves[0].errors) == {"vit_test", "resnet_test"}
    assert len(result.tables) == 3 and result.summary


def test_mask_modes_and_lesion(adapters, tiny_dataset):
    model = adapters["deit_test_distilled"]
    config = occlusion.Config(
        modes=["mask_salient", "mask_non_salient", "lesion"],
        levels=[0.25],
        repeats=1,
        lesion_blocks=[0, -1],
        lesion_levels=[0.5],
    )
    result = occlusion.run([model, adapters["resnet_test"]], tiny_dataset, config, Context(seed=0))
    arrays = result.arrays
    # the masks cover exactly the 4 central cells of the 4x4 grid: 25% foreground-first = the object
    np.testing.assert_allclose(arrays["mask_salient/pixels_dropped"], 0.25)
    assert arrays["lesion/top1"].shape == (2, 1, 2, 1) and arrays["lesion/top1_per_class"].shape == (2, 2, 1, 10)
    assert any(c.title.startswith("Lesion") for c in result.curves)


@pytest.mark.parametrize(
    "overrides,models,message",
    [
        (dict(modes=["mask_salient"]), ["vit_test"], "masks"),
        (dict(modes=["salient"]), ["resnet_test"], "saliency_model"),
        (dict(modes=["salient"], saliency_model="vit_test", saliency_head=5), ["vit_test"], "saliency_head"),
        (dict(modes=["lesion"], lesion_blocks=[7]), ["vit_test"], "lesion_blocks"),
        (dict(modes=["random"], grid="40x2"), ["vit_test"], "grid"),
    ],
)
def test_bad_settings_raise_config_errors(adapters, tiny_arrays, overrides, models, message):
    from vitlab.data.dataset import from_arrays

    images, labels, _ = tiny_arrays
    data = from_arrays(images[:4], labels[:4], num_classes=10)
    with pytest.raises(ConfigError, match=message):
        execute("occlusion", [adapters[m] for m in models], data, occlusion.Config(**overrides), Context())


def test_config_validation():
    with pytest.raises(ConfigError, match="modes"):
        occlusion.Config(modes=["sideways"]).validate()
    with pytest.raises(ConfigError, match="lambdas"):
        occlusion.Config(lambdas=[0.0]).validate()


@pytest.mark.slow
def test_cli_writes_results_and_plot(tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, err = run_cli(
        capsys,
        "eval",
        "occlusion",
        "--model",
        "vit_test",
        "--model",
        "resnet_test",
        "--dataset",
        "shapes",
        "--limit",
        "32",
        "--out",
        out,
        "--quiet",
        "--set",
        "modes=random,salient",
        "--set",
        "repeats=2",
    )
    assert code == 0, stdout + err
    with h5py.File(out / "results.h5") as handle:
        assert handle["occlusion/arrays/random/top1"].shape == (2, 2, 10)
    assert list((out / "report").glob("*.png"))

"""One evaluation path: `vitlab eval`, a recipe's evaluate step and `vitlab.evaluate` (stored and
in memory) assemble the same models, data, crop and config, so they give the same numbers."""

import json

import numpy as np
import pytest
from helpers import run_cli
from PIL import Image

import vitlab
from vitlab import models


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A 2-class folder of non-square images (train/ and test/) and a ViT storing a 0.9 bicubic crop."""
    root = tmp_path_factory.mktemp("path")
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for index in range(6):
            folder = root / "data" / split / f"c{index % 2}"
            folder.mkdir(parents=True, exist_ok=True)
            coarse = (rng.random((5, 6, 3)) * 255).astype(np.uint8)
            Image.fromarray(coarse).resize((60, 45), Image.BILINEAR).save(folder / f"{index}.png")
    import keras

    keras.utils.set_random_seed(1)
    model = models.create("vit_test", num_classes=2, crop_pct=0.9, interpolation="bicubic")
    model.save(root / "cnn.keras")
    return root


def _summary(run_dir, key="shuffle"):
    return vitlab.open_run(run_dir).result(key).summary


def test_every_entry_point_gives_the_same_numbers(setup, tmp_path, capsys):
    data, model = str(setup / "data"), str(setup / "cnn.keras")
    code, _, err = run_cli(
        capsys,
        "eval",
        "shuffle",
        "-m",
        model,
        "--dataset",
        data,
        "--set",
        "grids=2x2",
        "--batch-size",
        "4",
        "--out",
        tmp_path / "cli",
        "-q",
    )
    assert code == 0, err
    recipe = tmp_path / "r.toml"
    recipe.write_text(
        f'name = "path"\n[[evaluate]]\nexperiment = "shuffle"\nmodels = ["{model}"]\n'
        f'dataset = "{data}"\nbatch_size = 4\nset = {{grids = ["2x2"]}}\n'
    )
    vitlab.train(recipe, runs_root=tmp_path / "runs", run_dir=tmp_path / "recipe", quiet=True)
    vitlab.evaluate("shuffle", models=[model], dataset=data, batch_size=4, grids=["2x2"], run_dir=tmp_path / "api")
    in_memory = vitlab.evaluate("shuffle", models=[model], dataset=data, batch_size=4, grids="2x2")
    expected = _summary(tmp_path / "cli")
    assert set(expected) == {"top1_none/cnn", "top1_2x2/cnn"}
    for other in (_summary(tmp_path / "recipe"), _summary(tmp_path / "api"), in_memory.summary):
        assert other == pytest.approx(expected, abs=0)
    for run in ("cli", "recipe", "api"):  # each run says which crop it used and where it came from
        facts = json.loads((tmp_path / run / "run.json").read_text())["facts"]["shuffle"]["preprocessing"]
        assert (facts["crop_pct"], facts["interpolation"]) == (0.9, "bicubic")
        assert facts["model_data_config"]["crop_from"] == "stored in the model"


def test_the_probe_s_training_split_takes_the_model_s_crop(setup):
    from vitlab.experiments import evaluation
    from vitlab.features.shared import load_train_data

    options = evaluation.options("linear-probe", overrides=["train_split=train"], batch_size=4)
    prepared = evaluation.prepare(options, [str(setup / "cnn.keras")], str(setup / "data"))
    train = load_train_data(prepared.data, options.config)
    for split in (prepared.data, train):
        assert (split.preprocessing["crop_pct"], split.preprocessing["interpolation"]) == (0.9, "bicubic")
    assert train.split == "train" and train.num_examples == 6


def test_a_recipe_step_can_override_the_crop(setup, tmp_path):
    from vitlab.config import ConfigError
    from vitlab.training import recipe as recipe_lib

    path = tmp_path / "r.toml"
    path.write_text(
        f'name = "c"\n[[evaluate]]\nexperiment = "shuffle"\nmodels = ["{setup / "cnn.keras"}"]\n'
        f'dataset = "{setup / "data"}"\nset = {{grids = ["2x2"], crop_pct = 0.95}}\n'
    )
    step = recipe_lib.load(path).evaluate[0]
    assert step.crop.crop_pct == 0.95 and step.config.grids == ["2x2"]
    with pytest.raises(ConfigError, match="crop_pct must be in"):
        recipe_lib.load(path, ["shuffle.set.crop_pct=2"])

"""The compiled paths the suite otherwise skips (conftest sets VITLAB_XLA=0 and VITLAB_EAGER=1
for speed): the switches, XLA-on sweeps and features giving the graph-mode numbers, and a
recipe trained traced equal to one trained eagerly."""

import numpy as np
import pytest
from helpers import keras_file_weights, run_experiment_test


def test_switches(monkeypatch):
    from vitlab import compilation

    for value, on in (("0", False), ("off", False), ("no", False), ("1", True), ("", True)):
        monkeypatch.setenv("VITLAB_XLA", value)
        assert compilation.xla_enabled() is on, value
    monkeypatch.delenv("VITLAB_XLA")
    assert compilation.xla_enabled()  # on unless turned off
    monkeypatch.delenv("VITLAB_EAGER")
    assert not compilation.eager_training()  # off unless turned on
    monkeypatch.setenv("VITLAB_EAGER", "1")
    assert compilation.eager_training()


def test_training_compiles_transformers_only_with_xla_on(monkeypatch):
    from vitlab import models
    from vitlab.training import strategy, trainer

    one = strategy.select("one_device")
    vit, resnet = models.create("vit_test", num_classes=4), models.create("resnet_test", num_classes=4)
    monkeypatch.setenv("VITLAB_XLA", "1")
    assert trainer.use_xla(vit, one) and not trainer.use_xla(resnet, one)
    monkeypatch.setenv("VITLAB_XLA", "0")
    assert not trainer.use_xla(vit, one)


@pytest.mark.parametrize("name", ["occlusion", "knn"])
def test_xla_gives_the_graph_mode_numbers(name, tmp_path, monkeypatch):
    """Occlusion runs its compiled sweep, knn the compiled feature extractor."""
    import keras

    summaries = {}
    for value in ("1", "0"):
        monkeypatch.setenv("VITLAB_XLA", value)
        monkeypatch.setenv("VITLAB_CACHE", str(tmp_path / f"cache-{value}"))
        keras.utils.set_random_seed(0)
        summaries[value] = run_experiment_test(name, tmp_path / value)[0].summary
    assert summaries["1"].keys() == summaries["0"].keys()
    for key, value in summaries["0"].items():
        np.testing.assert_allclose(summaries["1"][key], value, atol=1e-4, err_msg=key)


def test_traced_and_eager_training_give_the_same_model(tmp_path, monkeypatch, capsys):
    """The suite trains eagerly; a user's run traces the step (and XLA-compiles the ViT): one
    recipe both ways ends with the same weights (both runs in this process: the switches are
    read when a step is built)."""
    import json

    from helpers import run_cli

    recipe = tmp_path / "r.toml"
    recipe.write_text(
        'name = "c"\nseed = 1\n[data]\ndataset = "shapes"\nlimit = 32\neval_split = ""\n'
        "[augment]\nflip = true\n[optim]\nepochs = 1\nbatch_size = 8\nwarmup_epochs = 0.5\n"
        '[[train]]\nname = "net"\nmodel = "vit_test"\n'
    )
    weights = {}
    for eager, xla in (("1", "0"), ("0", "1")):
        for key, value in (("VITLAB_EAGER", eager), ("VITLAB_XLA", xla), ("VITLAB_CACHE", str(tmp_path / "cache"))):
            monkeypatch.setenv(key, value)
        out = tmp_path / f"eager-{eager}"
        code, _, err = run_cli(capsys, "recipe", "run", str(recipe), "--out", str(out), "--quiet")
        assert code == 0, err[-2000:]
        weights[eager] = keras_file_weights(out / "models" / "net.keras")
        assert json.loads((out / "run.json").read_text())["status"] == "done"
    assert weights["1"].keys() == weights["0"].keys()
    for name, value in weights["1"].items():
        np.testing.assert_allclose(weights["0"][name], value, atol=2e-5, err_msg=name)

"""The XLA paths the suite otherwise skips (conftest sets VITLAB_XLA=0 for speed): with XLA on,
a transformer trains XLA-compiled and its sweeps and features give the graph-mode numbers."""

import numpy as np
import pytest

from tests.helpers import run_experiment_test


def test_switch(monkeypatch):
    from vitlab import xla

    for value, on in (("0", False), ("off", False), ("no", False), ("1", True), ("", True)):
        monkeypatch.setenv("VITLAB_XLA", value)
        assert xla.enabled() is on, value
    monkeypatch.delenv("VITLAB_XLA")
    assert xla.enabled()  # on unless turned off


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

"""Every registered experiment through the shared experiment test (tests/helpers.py): tiny
models, its smoke settings, a run written, read back and rendered; its declarations checked
against the registry and options.json; its requirements refused once, in one line. On JAX,
every experiment that test_backends_agree does not compare array by array runs in one
subprocess on the same weights and must give the TensorFlow numbers. A new experiment is
covered by its registry line.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
from helpers import TINY_MODELS, run_experiment_test, tiny_adapters, tiny_data

from vitlab import experiments
from vitlab.experiments import base, options, runner
from vitlab.experiments.base import RequirementError

NAMES = experiments.names()
# One worker runs this module: the JAX test reuses the end-to-end tests' TensorFlow summaries.
pytestmark = pytest.mark.xdist_group("experiments")


@pytest.fixture(autouse=True)
def _feature_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path / "cache"))  # feature experiments cache here


class TensorFlowSummaries:
    """Each experiment's TensorFlow summary on the tiny models saved once as .keras files: the
    end-to-end test computes it, the JAX test compares against it (and computes what a
    selection of tests skipped), so the TensorFlow side runs once per experiment."""

    def __init__(self, folder):
        from vitlab import models

        self.folder, self.summaries = folder, {}
        keras.utils.set_random_seed(0)
        for model in TINY_MODELS:
            models.create(model, num_classes=4).save(folder / f"{model}.keras")

    def adapters(self, name):
        from vitlab.models.adapter import resolve

        adapters = [resolve(str(path)) for path in sorted(self.folder.glob("*.keras"))]
        chosen = [a for a in adapters if set(experiments.get(name).requires.every) <= base.capabilities(a)]
        assert chosen, f"no tiny model meets {name}'s requirements"
        return chosen

    def run(self, name, tmp_path):
        result, stored = run_experiment_test(name, tmp_path, adapters=self.adapters(name))
        self.summaries[name] = result.summary
        return result, stored

    def get(self, name, tmp_path):
        if name not in self.summaries:
            self.run(name, tmp_path / "tf" / name)
        return self.summaries[name]


@pytest.fixture(scope="module")
def tensorflow_summaries(tmp_path_factory):
    return TensorFlowSummaries(tmp_path_factory.mktemp("tiny-models"))


@pytest.mark.parametrize("name", NAMES)
def test_experiment_end_to_end(name, tmp_path, tensorflow_summaries):
    tensorflow_summaries.run(name, tmp_path)


@pytest.mark.parametrize("name", NAMES)
def test_declaration_matches_registry_and_options(name):
    experiment = experiments.get(name)
    assert experiment.name == name and experiments.key(name.replace("-", "_")) == name
    assert experiment.description and "\n" not in experiment.description
    assert experiments.describe(name) == experiment.description  # options.json, read without Keras
    assert experiment.metrics and all(isinstance(m, base.Metric) for m in experiment.metrics)
    shipped = options.shipped()[name]
    assert [m["name"] for m in shipped["metrics"]] == [m.name for m in experiment.metrics]
    config = runner.build_config(name, values=experiment.smoke)  # the smoke settings are valid
    assert isinstance(config, experiment.Config)


def test_unknown_experiment_is_one_line():
    with pytest.raises(experiments.UnknownExperimentError, match="choose from occlusion"):
        experiments.get("occlusions")


def test_metric_names_and_values_are_read_by_name():
    from vitlab.results.result import Result

    result = Result(
        experiment="x",
        config={},
        models=["a", "b"],
        arrays={},
        curves=[],
        tables=[],
        summary={"top1_16x16/a": 0.5, "top1_16x16/b": 0.25, "mCE/deit/dist": 0.75},
    )
    assert base.metric_names(result) == ["top1_16x16", "mCE"]
    assert base.metric_values(result, "top1_16x16") == {"a": 0.5, "b": 0.25}
    assert base.metric_values(result, "mCE") == {"deit/dist": 0.75}
    shuffle = experiments.get("shuffle")
    assert shuffle.metric("top1_16x16").name == "top1_{grid}" and shuffle.metric("accuracy") is None


def test_per_image_randomness_derives_from_seed_index_and_stream():
    from vitlab.experiments.run_context import Context
    from vitlab.perturb import image_rng

    context = Context(seed=7)
    first = context.rng(3, 1).random(4)
    np.testing.assert_array_equal(first, image_rng.generator(7, 3, 1).random(4))  # the one scheme
    np.testing.assert_array_equal(first, Context(seed=7).rng(3, 1).random(4))  # reruns repeat it
    assert not np.array_equal(first, context.rng(3, 2).random(4))  # streams are independent
    assert not np.array_equal(first, context.rng(4, 1).random(4))  # images are independent
    assert not np.array_equal(first, Context(seed=8).rng(3, 1).random(4))


def _lacking(requirement, adapters):
    """Models that fail one requirement: without the capability for `every`, and only such models for `some`."""
    return [a for a in adapters if requirement not in base.capabilities(a)]


def _requires_something(name):
    requires = experiments.get(name).requires
    return bool(requires.every or requires.some or requires.data)


@pytest.mark.parametrize("name", [n for n in NAMES if _requires_something(n)])
def test_requirements_are_refused_before_any_work(name, tmp_path):
    experiment = experiments.get(name)
    config = runner.build_config(name, values=experiment.smoke)
    data = tiny_data(rows=8)
    adapters = tiny_adapters(experiment, data.num_classes)
    classifier = _plain_classifier()
    cases = [([*adapters, classifier], f"model {classifier.name!r} lacks")] if experiment.requires.every else []
    for capability in experiment.requires.some:
        cases.append((_lacking(capability, adapters) or [classifier], "needs at least one model with"))
    if "mask" in experiment.requires.data:
        from vitlab.data.dataset import from_arrays

        no_masks = from_arrays(np.zeros((4, 32, 32, 3), np.float32), np.arange(4) % 4, num_classes=4)
        cases.append((adapters, "has no ground-truth masks"))
        data_for = {len(cases) - 1: no_masks}
    else:
        data_for = {}
    assert cases, f"{name} declares requirements, so there is something to refuse"
    for index, (models, message) in enumerate(cases):
        with pytest.raises(RequirementError, match=message) as caught:
            runner.execute(name, models, data_for.get(index, data), config)
        assert "\n" not in str(caught.value) and str(caught.value).startswith(f"{name}: ")


def _plain_classifier():
    from vitlab.models.adapter import ModelAdapter

    inputs = keras.Input((32, 32, 3))
    outputs = keras.layers.Dense(4)(keras.layers.GlobalAveragePooling2D()(inputs))
    return ModelAdapter(keras.Model(inputs, outputs, name="plain"), name="plain")


def test_configs_are_validated_once_in_the_runner_with_the_experiment_named():
    from vitlab.config import ConfigError

    data = tiny_data(rows=8)
    adapters = tiny_adapters(experiments.get("shuffle"), data.num_classes)
    bad = experiments.get("shuffle").Config(repeats=0)
    with pytest.raises(ConfigError, match=r"^shuffle: repeats: must be >= 1"):
        runner.execute("shuffle", adapters, data, bad)
    with pytest.raises(TypeError, match="expected a vitlab.experiments.shuffle.Config"):
        runner.execute("shuffle", adapters, data, experiments.get("occlusion").Config())


JAX_SIDE = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, sys.argv[3])
    import keras
    from helpers import run_experiment_test, tiny_data
    from pathlib import Path
    from vitlab import experiments
    from vitlab.experiments import base
    from vitlab.models.adapter import resolve

    folder, names = Path(sys.argv[1]), sys.argv[2].split(",")
    summaries = {"backend": keras.backend.backend()}
    for name in names:
        adapters = [resolve(str(path)) for path in sorted(folder.glob("*.keras"))]
        adapters = [a for a in adapters if set(experiments.get(name).requires.every) <= base.capabilities(a)]
        result, _ = run_experiment_test(name, folder / "jax" / name, adapters=adapters)
        summaries[name] = result.summary
    print("JAX-SUMMARIES " + json.dumps(summaries))
""")


@pytest.mark.slow
def test_experiments_on_jax_give_the_tensorflow_numbers(tmp_path, tensorflow_summaries):
    """Same weights (.keras files saved here), same seed: the JAX run's summaries equal
    TensorFlow's (within float tolerance; FGSM/PGD within one image of the 24, as gradient
    signs of near-zero pixels may differ)."""
    from test_backends_agree import EXPERIMENTS as COMPARED_BY_ARRAY

    # test_backends_agree compares every array of the compiled sweeps on both backends, with
    # fuller settings than the smoke ones; every other experiment is compared here.
    names = [name for name in NAMES if name not in COMPARED_BY_ARRAY]
    assert set(names) | set(COMPARED_BY_ARRAY) == set(NAMES)
    expected = {name: tensorflow_summaries.get(name, tmp_path) for name in names}
    env = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "JAX_PLATFORMS": "cpu",
        "VITLAB_CACHE": str(tmp_path / "jax-cache"),
        "XLA_FLAGS": "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true",
    }
    done = subprocess.run(
        [sys.executable, "-c", JAX_SIDE, str(tensorflow_summaries.folder), ",".join(names), str(Path(__file__).parent)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("JAX-SUMMARIES "))
    got = json.loads(line[len("JAX-SUMMARIES ") :])
    assert got.pop("backend") == "jax"
    for name in names:
        assert set(got[name]) == set(expected[name]), name
        if name == "linear-probe":  # the official probe trains a linear layer from each backend's own
            assert all(isinstance(v, (int, float)) or v is None for v in got[name].values())  # own random init
            continue
        tolerance = 1 / 24 + 1e-6 if name == "adversarial" else 1e-4  # FGSM/PGD: signs of near-zero gradients
        for key, value in expected[name].items():
            assert got[name][key] == pytest.approx(value, abs=tolerance, nan_ok=True), f"{name} {key}"

"""A recipe on the JAX backend: keras.distribution.DataParallel over two CPU devices in place
of tf.distribute, distillation from an earlier step, a pure-Keras experiment, and a
SavedModel export (written by a TensorFlow process), and the compiled occlusion sweep;
what JAX cannot run is refused up front.

Each run is a fresh `vitlab` process with KERAS_BACKEND=jax (Keras fixes its backend at import).
"""

import json
import os

import numpy as np
import pytest
from helpers import run_cli_process

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("jax-training")]

RECIPE = """
name = "jax-data-parallel"
strategy = "mirrored"
[data]
dataset = "shapes"
limit = 64
eval_limit = 20
[optim]
epochs = 2
batch_size = {batch}
warmup_epochs = 0.5
[[train]]
name = "teacher"
model = "resnet_test"
[[train]]
name = "student"
model = "deit_test_distilled"
distill.teacher = "teacher"
[[evaluate]]
experiment = "{experiment}"
models = ["student"]
limit = 16
[[evaluate]]
experiment = "occlusion"
models = ["student"]
limit = 16
set = {{ modes = ["random", "salient"], levels = [0.0, 0.5], repeats = 1, lambdas = [1.0] }}
[export]
models = ["student"]
"""


def run_on_jax(tmp_path, batch=8, experiment="token-similarity"):
    recipe = tmp_path / "r.toml"
    recipe.write_text(RECIPE.format(batch=batch, experiment=experiment))
    env = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "JAX_PLATFORMS": "cpu",
        "VITLAB_CPU_REPLICAS": "2",
        "XLA_FLAGS": "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true",
    }
    return run_cli_process("recipe", "run", recipe, "--out", tmp_path / "run", "-q", timeout=900, env=env)


def test_recipe_trains_distils_evaluates_and_exports_on_jax(tmp_path):
    done = run_on_jax(tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    run = tmp_path / "run"
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "done"
    for name in ("teacher", "student"):
        trained = info["training"][name]
        assert (trained["strategy"], trained["replicas"]) == ("DataParallel", 2)
    assert info["training"]["student"]["teacher"] == "teacher"
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    losses = [
        e["value"] for e in events if e["kind"] == "metric" and e["name"] == "loss" and e["step"] == "train:student"
    ]
    assert len(losses) == 2 and np.all(np.isfinite(losses)) and losses[1] < losses[0]

    # The SavedModel (exported by a TensorFlow process) serves what the .keras student predicts.
    import tensorflow as tf

    from vitlab import models
    from vitlab.export import preprocess

    student = models.load(str(run / "models" / "student.keras"))
    served = tf.saved_model.load(str(run / "export" / "student")).signatures["serving_default"]
    images = np.random.default_rng(0).integers(0, 256, (2, 40, 40, 3), dtype=np.uint8)
    expected = tf.nn.softmax(student(preprocess(images, 32), training=False)).numpy()
    np.testing.assert_allclose(served(images=tf.constant(images))["probabilities"].numpy(), expected, atol=1e-5)

    from vitlab.results import RunStore

    result = RunStore(tmp_path).open(run).result("token-similarity")
    similarity = result.curves[0].series["student"]
    assert len(similarity) == 2 and all(-1.0 <= value <= 1.0 for value in similarity)  # one per block

    # occlusion's compiled sweep runs on JAX: half the cells drop at 0.5, all pixels at lambda 1
    occlusion = RunStore(tmp_path).open(run).result("occlusion").arrays
    np.testing.assert_allclose(occlusion["random/pixels_dropped"][0, 0], [0.0, 0.5])
    np.testing.assert_allclose(occlusion["salient/pixels_dropped"][0, 0], [1.0])


@pytest.mark.parametrize(
    "batch, experiment, expected",
    [
        (7, "token-similarity", "train.teacher.optim.batch_size: 7 does not split evenly over 2 devices"),
    ],
)
def test_jax_refuses_what_it_cannot_run_before_the_run_starts(tmp_path, batch, experiment, expected):
    done = run_on_jax(tmp_path, batch=batch, experiment=experiment)
    assert done.returncode == 2
    assert "error: " in done.stderr and expected in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "run").exists()

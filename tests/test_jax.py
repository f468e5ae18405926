"""The JAX backend: same weights, same outputs; and a short fit on JAX CPU.

Keras fixes its backend at import, so the JAX side runs in one subprocess with
KERAS_BACKEND=jax that loads the .keras files saved here (TensorFlow) and reports back.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from vitlab import models
from vitlab.models.adapter import ModelAdapter

NAMES = ("vit_test", "deit_test_distilled", "resnet_test")
# One JAX subprocess serves every test here: keep them on one xdist worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("jax")]

JAX_SIDE = textwrap.dedent("""
    import json, sys
    import numpy as np
    import keras
    from vitlab import models
    from vitlab.models.adapter import ModelAdapter

    folder, names = sys.argv[1], sys.argv[2].split(",")
    x = np.load(f"{folder}/x.npy")
    keep = np.load(f"{folder}/keep.npy")
    report = {"backend": keras.backend.backend()}
    for name in names:
        adapter = ModelAdapter(models.load(f"{folder}/{name}.keras"))
        outputs = {"call": adapter.model(x), "logits": adapter.logits(x, head="class")}
        if adapter.is_transformer:
            out = adapter.forward(x, tokens=True, attention=True, token_keep={1: keep})
            outputs.update(tokens=out["tokens"][-1], attention=out["attention"][0], masked=out["logits"])
        else:
            outputs["stages"] = adapter.forward(x, tokens=True)["stages"][-1]
        np.savez(f"{folder}/{name}.jax.npz", **{k: np.asarray(v) for k, v in outputs.items()})

    model = models.create("deit_test_distilled", drop_path_rate=0.1)
    model.compile(optimizer=keras.optimizers.AdamW(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    before = np.asarray(model.head.kernel).copy()
    history = model.fit(x, np.arange(len(x)) % 10, batch_size=4, epochs=2, verbose=0)
    report["fit_loss"] = [float(v) for v in history.history["loss"]]
    report["head_changed"] = float(np.abs(np.asarray(model.head.kernel) - before).max())
    print("JAX-REPORT " + json.dumps(report))
""")


def tensorflow_outputs(adapter, x, keep):
    outputs = {"call": adapter.model(x), "logits": adapter.logits(x, head="class")}
    if adapter.is_transformer:
        out = adapter.forward(x, tokens=True, attention=True, token_keep={1: keep})
        outputs.update(tokens=out["tokens"][-1], attention=out["attention"][0], masked=out["logits"])
    else:
        outputs["stages"] = adapter.forward(x, tokens=True)["stages"][-1]
    return {k: np.asarray(v) for k, v in outputs.items()}


@pytest.fixture(scope="module")
def jax_run(tmp_path_factory):
    """Saves seeded models and inputs, runs the JAX side once, returns (folder, report, TF outputs)."""
    folder = tmp_path_factory.mktemp("jax")
    rng = np.random.default_rng(0)
    x = rng.random((8, 32, 32, 3), dtype=np.float32)
    keep = rng.random((8, 16)) > 0.5
    np.save(folder / "x.npy", x)
    np.save(folder / "keep.npy", keep)
    expected = {}
    for name in NAMES:
        model = models.create(name)
        for weight in model.weights:  # non-trivial BatchNorm statistics too
            if weight.path.endswith("moving_variance"):
                weight.assign(rng.uniform(0.5, 1.5, weight.shape).astype("float32"))
            elif weight.path.endswith(("moving_mean", "beta")):
                weight.assign(rng.normal(0, 0.1, weight.shape).astype("float32"))
        model.save(folder / f"{name}.keras")
        expected[name] = tensorflow_outputs(ModelAdapter(model), x, keep)
    # Tiny models: XLA compile time dominates, so compile without the expensive passes.
    env = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "JAX_PLATFORMS": "cpu",
        "XLA_FLAGS": "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true",
    }
    done = subprocess.run(
        [sys.executable, "-c", JAX_SIDE, str(folder), ",".join(NAMES)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("JAX-REPORT "))
    return folder, json.loads(line[len("JAX-REPORT ") :]), expected


@pytest.mark.parametrize("name", NAMES)
def test_jax_gives_tensorflow_outputs_for_the_same_weights(jax_run, name):
    folder, report, expected = jax_run
    assert report["backend"] == "jax"
    got = np.load(folder / f"{name}.jax.npz")
    assert set(got.files) == set(expected[name])
    for key, value in expected[name].items():
        np.testing.assert_allclose(got[key], value, atol=1e-5, rtol=1e-5, err_msg=f"{name} {key}")


def test_short_fit_on_jax_cpu_learns(jax_run):
    _, report, _ = jax_run
    losses = report["fit_loss"]
    assert len(losses) == 2 and all(np.isfinite(losses))
    assert losses[1] < losses[0]
    assert report["head_changed"] > 0

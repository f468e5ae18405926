"""Every compiled sweep gives the same numbers on TensorFlow and JAX for the same weights and seed.

Occlusion (all modes), shuffle, correlation, segmentation and attention run on a tiny ViT
and ResNet here (TensorFlow) and in one subprocess with KERAS_BACKEND=jax that loads the
same .keras files; every numeric array of every Result must agree. Per-image choices come
from one NumPy scheme (vitlab.perturb.image_rng), so hit counts agree exactly; the
accuracy curves are compared as they are stored.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# One JAX subprocess serves every test here: keep them on one xdist worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("jax")]

NAMES = ("vit_test", "resnet_test")
# The experiments whose every numeric array is compared here; test_experiments compares the rest by summary.
EXPERIMENTS = ("occlusion", "shuffle", "correlation", "segmentation", "attention")


def run_experiments(folder):
    """{experiment/array: value} of every numeric array, on whichever backend is active."""
    from vitlab.data.dataset import from_arrays
    from vitlab.experiments import attention, correlation, occlusion, segmentation, shuffle
    from vitlab.experiments.run_context import Context
    from vitlab.experiments.runner import resolve_model

    adapters = [resolve_model(f"{folder}/{name}.keras") for name in NAMES]
    rng = np.random.default_rng(0)
    images = rng.random((8, 32, 32, 3), dtype=np.float32)
    masks = np.zeros((8, 32, 32), np.float32)
    masks[:, 8:24, 8:24] = 1.0
    masks[3, 2:10, 2:30] = 1.0  # one image with an odd mask: tie-breaks differ from the others
    data = from_arrays(images, np.arange(8) % 10, masks=masks, batch_size=8, num_classes=10)
    runs = {
        "occlusion": (
            occlusion,
            occlusion.Config(
                modes=list(occlusion.MODES),
                levels=[0.25, 0.5],
                repeats=2,
                lambdas=[0.5, 0.9],
                lesion_blocks=[0],
                lesion_levels=[0.5],
            ),
        ),
        "shuffle": (shuffle, shuffle.Config(grids=["2x2", "4x4"], repeats=2)),
        "correlation": (correlation, correlation.Config(levels=[0.5])),
        "segmentation": (segmentation, segmentation.Config()),
        "attention": (attention, attention.Config(num_images=2)),
    }
    arrays = {}
    for key, (module, config) in runs.items():
        result = module.run(adapters, data, config, Context(seed=3))
        for name, value in result.arrays.items():
            value = np.asarray(value)
            if value.dtype.kind in "fiub":
                arrays[f"{key}::{name}"] = value
    return arrays


JAX_SIDE = f"""
import sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
import numpy as np
import keras
from test_backends_agree import run_experiments
assert keras.backend.backend() == "jax"
np.savez(sys.argv[1] + "/jax.npz", **run_experiments(sys.argv[1]))
"""


@pytest.fixture(scope="module")
def both_backends(tmp_path_factory):
    import keras

    from vitlab import models

    folder = tmp_path_factory.mktemp("backends")
    keras.utils.set_random_seed(0)
    for name in NAMES:
        models.create(name).save(folder / f"{name}.keras")
    # Tiny models: XLA compile time dominates, so compile without the expensive passes.
    env = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "JAX_PLATFORMS": "cpu",
        "XLA_FLAGS": "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true",
    }
    jax_side = subprocess.Popen(
        [sys.executable, "-c", JAX_SIDE, str(folder)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    tensorflow = run_experiments(folder)
    _, stderr = jax_side.communicate(timeout=600)
    assert jax_side.returncode == 0, stderr[-3000:]
    return tensorflow, dict(np.load(folder / "jax.npz"))


def test_every_sweep_agrees_across_backends(both_backends):
    tensorflow, jax = both_backends
    assert set(tensorflow) == set(jax)
    for key, value in tensorflow.items():
        if value.dtype.kind == "f":
            np.testing.assert_allclose(jax[key], value, atol=1e-5, rtol=1e-4, err_msg=key)
        else:
            np.testing.assert_array_equal(jax[key], value, err_msg=key)


def test_agreement_covers_every_experiment_and_real_variation(both_backends):
    """The comparison is not vacuous: each experiment stored arrays, and occlusion actually varies."""
    tensorflow, _ = both_backends
    for experiment in EXPERIMENTS:
        assert any(k.startswith(f"{experiment}::") for k in tensorflow), experiment
    pixels = tensorflow["occlusion::random/pixels_dropped"]
    np.testing.assert_allclose(pixels[..., 0], 0.25)
    np.testing.assert_allclose(pixels[..., 1], 0.5)
    # salient + non-salient at one lambda drop complementary pixels (the ViT's saliency, both models)
    both = tensorflow["occlusion::salient/pixels_dropped"] + tensorflow["occlusion::non_salient/pixels_dropped"]
    np.testing.assert_allclose(both, 1.0, atol=1e-6)
    assert tensorflow["shuffle::top1"].shape == (len(NAMES), 2, 3)

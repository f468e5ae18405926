"""Shared test setup: quiet TensorFlow, the TensorFlow backend, tiny generated data."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Tiny models and a few batches: compiling (XLA) and tracing (graphs) are most of such a run's
# cost, so the suite trains eagerly without XLA (vitlab.compilation); tests/test_compilation.py and
# the tests that compile their own models run the compiled paths.
os.environ.setdefault("VITLAB_XLA", "0")
os.environ.setdefault("VITLAB_EAGER", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

# The longest files first (kill-anywhere, the zoo group, the experiment groups): xdist hands
# out work in collection order, and test_zoo.py's ~200 s group, collected last by name, ran
# alone at the end while the other worker idled.
LONGEST_FIRST = (
    "test_kill_anywhere.py",
    "test_zoo.py",
    "test_experiments.py",
    "test_training_mirrored.py",
    "test_jax_training.py",
    "test_backends_agree.py",
    "test_jax.py",
    "test_training_backup.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


@pytest.fixture(autouse=True)
def _no_debug_leak():
    """Every test starts and ends without VITLAB_DEBUG: an in-process `--verbose`/`--debug` (or a
    test's own setenv) must not turn later tests' one-line errors into tracebacks."""
    before = os.environ.pop("VITLAB_DEBUG", None)
    yield
    os.environ.pop("VITLAB_DEBUG", None)
    if before is not None:
        os.environ["VITLAB_DEBUG"] = before


@pytest.fixture
def tiny_arrays():
    """16 random 32x32 images, 10 classes, with square foreground masks."""
    rng = np.random.default_rng(0)
    images = rng.random((16, 32, 32, 3), dtype=np.float32)
    labels = np.arange(16) % 10
    masks = np.zeros((16, 32, 32), dtype=np.float32)
    masks[:, 8:24, 8:24] = 1.0
    return images, labels, masks


@pytest.fixture
def tiny_dataset(tiny_arrays):
    from vitlab.data.dataset import from_arrays

    images, labels, masks = tiny_arrays
    return from_arrays(images, labels, masks=masks, batch_size=8, num_classes=10)

"""How vitlab compiles on TensorFlow, and the two switches that change it.

VITLAB_XLA=0 turns XLA off in training, feature extraction and the sweeps alike. XLA repays
its compile time (seconds per model and batch shape) only over many batches.

VITLAB_EAGER=1 runs training steps eagerly: no graph tracing, which costs a tiny recipe half
its time (resnet_test, 4 steps: 39 s traced vs 19 s eager, imports included), so few-step
runs start at once and a loss can be stepped through in a debugger; each step is slower.

The test suite sets both for speed; tests/test_compilation.py runs the compiled paths. On JAX
everything is jit-compiled regardless: it is JAX's only fast path.
"""

import os

_OFF = ("0", "false", "no", "off")


def xla_enabled():
    """False when VITLAB_XLA is 0/false/no/off."""
    return os.environ.get("VITLAB_XLA", "1").strip().lower() not in _OFF


def eager_training():
    """True when VITLAB_EAGER is set (and not 0/false/no/off) and the backend is TensorFlow."""
    import keras

    value = os.environ.get("VITLAB_EAGER", "").strip().lower()
    return bool(value) and value not in _OFF and keras.backend.backend() == "tensorflow"

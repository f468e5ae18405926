"""One switch for XLA on TensorFlow: VITLAB_XLA=0 turns it off in training, feature
extraction and the sweeps alike.

XLA repays its compile time (seconds per model and batch shape) only over many batches;
tiny runs such as the test suite's start faster in plain graph mode. On JAX everything is
compiled regardless: jit is its only fast path.
"""

import os


def enabled():
    """False when VITLAB_XLA is 0/false/no/off."""
    return os.environ.get("VITLAB_XLA", "1").strip().lower() not in ("0", "false", "no", "off")

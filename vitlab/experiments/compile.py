"""One compile helper per backend, for the functions experiments call batch after batch.

TensorFlow: tf.function with reduce_retracing (XLA where a caller asks and it was measured
to help); JAX: jax.jit; other backends run eagerly. Experiments and the sweeps call these
instead of naming a backend themselves.
"""

import numpy as np


def backend():
    import keras

    return keras.backend.backend()


class _PerInstance:
    """tf.function traces per Python object; wrapping each fn keeps traces apart."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *args):
        return self.fn(*args)


def compile_fn(fn, jit_compile=False):
    """fn compiled for the current backend (tensors in, tensors out)."""
    name = backend()
    if name == "tensorflow":
        import tensorflow as tf

        return tf.function(_PerInstance(fn), reduce_retracing=True, jit_compile=jit_compile or None)
    if name == "jax":
        import jax

        return jax.jit(fn)
    return fn


def compile_logits(logits_fn):
    """logits_fn(images) compiled for repeated batches; takes and returns NumPy."""
    compiled = compile_fn(logits_fn)
    return lambda images: np.asarray(compiled(np.asarray(images, dtype="float32")))

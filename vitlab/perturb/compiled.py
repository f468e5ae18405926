"""Compiling a sweep on the active Keras backend: the only backend-specific code of the sweeps.

`compile_fn` is tf.function on TensorFlow (XLA when asked: measured per use, see
benchmarks/bench_occlusion.py and bench_features.py) and jax.jit on JAX; `stack_loop`
runs one body per variant inside such a function as one loop (tf.while_loop with
TensorArrays on TensorFlow, lax.map on JAX), so the compiled program holds one copy of
the model however many variants a sweep has.
"""

import keras
import numpy as np
from keras import ops


def backend():
    return keras.backend.backend()


class _PerInstance:
    """A callable with no __code__: TensorFlow then counts retracing per instance (one per
    model and head) rather than per source line, and stops warning about shared lambdas."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)


def compile_fn(fn, xla=False):
    """fn compiled for repeated batches of one shape: tf.function / jax.jit; eager elsewhere."""
    name = backend()
    if name == "tensorflow":
        import tensorflow as tf

        return tf.function(_PerInstance(fn), reduce_retracing=True, jit_compile=bool(xla))
    if name == "jax":
        import jax

        return jax.jit(fn)
    return fn


def stack_loop(count, body, dtypes):
    """(outputs of body(i) for i in range(count)) stacked on a new leading axis, as a tuple.

    body takes a scalar int32 tensor and returns a tuple of tensors of the given dtypes
    (same shapes for every i). Call it inside a function compiled with compile_fn.
    """
    count = int(count)
    name = backend()
    if name == "tensorflow":
        import tensorflow as tf

        arrays = tuple(tf.TensorArray(dtype, size=count) for dtype in dtypes)

        def step(i, arrays):
            values = body(i)
            return i + 1, tuple(a.write(i, v) for a, v in zip(arrays, values))

        _, arrays = tf.while_loop(lambda i, _: i < count, step, (tf.constant(0), arrays))
        return tuple(a.stack() for a in arrays)
    if name == "jax":
        import jax
        import jax.numpy as jnp

        return tuple(jax.lax.map(body, jnp.arange(count, dtype="int32")))
    outputs = [body(ops.convert_to_tensor(i, "int32")) for i in range(count)]
    return tuple(ops.stack([o[k] for o in outputs]) for k in range(len(dtypes)))


def compile_logits(logits_fn, xla=False):
    """logits_fn(images) compiled for repeated batches; takes and returns NumPy.

    A tf.function graph unless `xla` (honoured when VITLAB_XLA allows it; vitlab.compilation).
    Neither wins everywhere: against the graph, in alternating rounds on 2 CPU threads, XLA ran
    vit_nano_patch8_64's forward 1.2x and resnet_nano_64's 1.1x as fast, DeiT-Ti/16's at 224
    0.97x and DeiT-S/16's 0.9x (benchmarks/bench_throughput.py --variants default,inference_xla).
    """
    if xla:
        from vitlab import compilation

        xla = compilation.xla_enabled()
    compiled = compile_fn(logits_fn, xla=xla)
    return lambda images: np.asarray(compiled(np.asarray(images, dtype="float32")))

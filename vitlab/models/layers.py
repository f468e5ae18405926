"""Transformer building blocks, in pure Keras 3 (keras.ops only).

The layer and weight names follow timm's vision_transformer so that a timm state_dict
maps onto them one to one (see `timm_convert.py`).
"""

import math

import keras
from keras import ops

LAYER_NORM_EPSILON = 1e-6
SQRT_HALF = math.sqrt(0.5)


def gelu_exact(x):
    """GELU with the error function, as timm's Mlp runs it (nn.GELU, PyTorch's CPU kernel:
    x * 0.5 * (1 + erf(x * M_SQRT1_2)), aten/src/ATen/native/cpu/Activation.cpp GeluKernelImpl).

    keras.ops.gelu(approximate=False) is the same function through erfc on TensorFlow
    (TensorFlow's own gelu), which has no vectorized CPU kernel there: erf took 8.9 ms of CPU where erfc
    took 14.1 on DeiT-Ti/16's (32, 197, 768) MLP activations as a graph, 3.8 vs 6.7 under XLA.
    """
    return x * 0.5 * (1.0 + ops.erf(x * SQRT_HALF))


def rows(tokens, width):
    """(B, T, D) tokens as (B * T, D) rows, the input the Dense layers are fed.

    On TensorFlow a Dense layer on a rank-3 input is a tensordot (reshapes around a MatMul);
    on rows it is one MatMul, which oneDNN runs without the reshapes: vit_nano_patch8_64's
    graph forward ran 1.08x faster (alternating rounds, 2 threads). A reshape, so free.
    """
    return ops.reshape(tokens, (-1, width))


@keras.saving.register_keras_serializable(package="vitlab")
class DropPath(keras.layers.Layer):
    """Stochastic depth: drops the whole residual branch per sample while training."""

    def __init__(self, rate=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed) if rate > 0 else None

    def call(self, x, training=False):
        if not training or self.rate == 0.0:
            return x
        keep = 1.0 - self.rate
        shape = (ops.shape(x)[0],) + (1,) * (len(x.shape) - 1)
        mask = keras.random.uniform(shape, seed=self.seed_generator, dtype=x.dtype) < keep
        return ops.where(mask, x / keep, ops.zeros_like(x))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@keras.saving.register_keras_serializable(package="vitlab")
class PatchEmbedding(keras.layers.Layer):
    """Non-overlapping patches projected by a strided convolution (timm `patch_embed.proj`)."""

    def __init__(self, patch_size, hidden_dim, **kwargs):
        super().__init__(**kwargs)
        self.patch_size = patch_size
        self.hidden_dim = hidden_dim
        self.proj = keras.layers.Conv2D(
            hidden_dim,
            patch_size,
            strides=patch_size,
            padding="valid",
            name="proj",
            dtype=self.dtype_policy,
        )

    def build(self, input_shape):
        self.proj.build(input_shape)

    def call(self, images):
        x = self.proj(images)
        batch, height, width = ops.shape(x)[0], ops.shape(x)[1], ops.shape(x)[2]
        return ops.reshape(x, (batch, height * width, self.hidden_dim))

    def get_config(self):
        return {**super().get_config(), "patch_size": self.patch_size, "hidden_dim": self.hidden_dim}


@keras.saving.register_keras_serializable(package="vitlab")
class MultiHeadSelfAttention(keras.layers.Layer):
    """Self-attention with a fused QKV projection (timm `attn.qkv`, `attn.proj`).

    q, k and v come out of one transpose to (batch, heads, tokens, head_dim), as in timm's
    Attention.forward, and attention is two batched matmuls around a float32 softmax. On
    TensorFlow that is faster than `keras.ops.dot_product_attention` (einsums over the
    (batch, tokens, heads, head_dim) layout, whose q/k/v slices and their gradients cost
    copies): one block of DeiT-Ti/16 at batch 32 ran its attention forward in 17 ms of CPU
    instead of 24 as a graph, forward and backward in 64 instead of 142 (2 threads, oneDNN).
    On JAX, without maps or a mask, `dot_product_attention` is kept: it can dispatch to a
    fused kernel on GPUs. The maps (saliency, visualization) come from the same computation.
    A `key_mask` (batch, tokens) of booleans excludes tokens as keys: that is how tokens
    are dropped inside the network without changing the sequence length.
    """

    def __init__(self, hidden_dim, num_heads, qkv_bias=True, **kwargs):
        super().__init__(**kwargs)
        if hidden_dim % num_heads:
            raise ValueError(f"hidden_dim {hidden_dim} is not divisible by num_heads {num_heads}")
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.qkv_bias = qkv_bias
        self.head_dim = hidden_dim // num_heads
        self.qkv = keras.layers.Dense(3 * hidden_dim, use_bias=qkv_bias, name="qkv", dtype=self.dtype_policy)
        self.proj = keras.layers.Dense(hidden_dim, name="proj", dtype=self.dtype_policy)

    def build(self, input_shape):
        self.qkv.build(input_shape)
        self.proj.build(tuple(input_shape[:-1]) + (self.hidden_dim,))  # a list when rebuilt from a .keras file

    def call(self, x, return_attention=False, key_mask=None):
        tokens = x.shape[1]  # static: the model's image size fixes it
        qkv = self.qkv(rows(x, self.hidden_dim))
        qkv = ops.reshape(qkv, (-1, tokens, 3, self.num_heads, self.head_dim))
        if keras.backend.backend() == "jax" and not return_attention and key_mask is None:
            q, k, v = ops.unstack(qkv, 3, axis=2)  # (B, T, H, Dh)
            out = ops.dot_product_attention(q, k, v)
            return self._project(out, tokens), None
        q, k, v = ops.unstack(ops.transpose(qkv, (2, 0, 3, 1, 4)), 3, axis=0)  # (B, H, T, Dh)
        logits = ops.matmul(q * ops.cast(self.head_dim**-0.5, q.dtype), ops.swapaxes(k, -1, -2))
        if key_mask is not None:
            mask = ops.reshape(ops.cast(key_mask, "bool"), (-1, 1, 1, tokens))
            logits = ops.where(mask, logits, ops.full_like(logits, -1e9))
        attention = ops.softmax(ops.cast(logits, "float32"), axis=-1)
        out = ops.transpose(ops.matmul(ops.cast(attention, v.dtype), v), (0, 2, 1, 3))  # (B, T, H, Dh)
        return self._project(out, tokens), (attention if return_attention else None)

    def _project(self, heads, tokens):
        """(B, T, H, Dh) -> proj over (B * T) rows -> (B, T, D)."""
        out = self.proj(ops.reshape(heads, (-1, self.hidden_dim)))
        return ops.reshape(out, (-1, tokens, self.hidden_dim))

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "num_heads": self.num_heads,
            "qkv_bias": self.qkv_bias,
        }


@keras.saving.register_keras_serializable(package="vitlab")
class TransformerBlock(keras.layers.Layer):
    """Pre-norm block: x + attn(norm1(x)), then x + mlp(norm2(x)) (timm `Block`), the MLP's GELU exact."""

    def __init__(self, hidden_dim, num_heads, mlp_ratio=4.0, qkv_bias=True, drop_path=0.0, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.mlp_ratio = mlp_ratio
        self.qkv_bias = qkv_bias
        self.drop_path = drop_path
        mlp_dim = int(hidden_dim * mlp_ratio)
        policy = self.dtype_policy
        self.norm1 = keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="norm1", dtype=policy)
        self.attn = MultiHeadSelfAttention(hidden_dim, num_heads, qkv_bias, name="attn", dtype=policy)
        self.norm2 = keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="norm2", dtype=policy)
        self.fc1 = keras.layers.Dense(mlp_dim, name="fc1", dtype=policy)
        self.fc2 = keras.layers.Dense(hidden_dim, name="fc2", dtype=policy)
        self.drop_path_layer = DropPath(drop_path, name="drop_path", dtype=policy)

    def build(self, input_shape):
        self.norm1.build(input_shape)
        self.attn.build(input_shape)
        self.norm2.build(input_shape)
        self.fc1.build(input_shape)
        self.fc2.build(tuple(input_shape[:-1]) + (self.fc1.units,))

    def call(self, x, training=False, return_attention=False, key_mask=None):
        attended, attention = self.attn(self.norm1(x), return_attention=return_attention, key_mask=key_mask)
        x = x + self.drop_path_layer(attended, training=training)
        hidden = self.fc2(gelu_exact(self.fc1(rows(self.norm2(x), self.hidden_dim))))
        x = x + self.drop_path_layer(ops.reshape(hidden, (-1, x.shape[1], self.hidden_dim)), training=training)
        return x, attention

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "num_heads": self.num_heads,
            "mlp_ratio": self.mlp_ratio,
            "qkv_bias": self.qkv_bias,
            "drop_path": self.drop_path,
        }

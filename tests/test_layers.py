"""Every vitlab layer through the shared layer test: build, call, config and dtype-policy
round trips, .keras save/load (tests/helpers.py)."""

import numpy as np
import pytest
from helpers import run_layer_test

from vitlab.models.layers import DropPath, MultiHeadSelfAttention, PatchEmbedding, TransformerBlock
from vitlab.models.resnet import Bottleneck

TOKENS = np.random.default_rng(0).random((2, 5, 16), dtype=np.float32)
IMAGES = np.random.default_rng(1).random((2, 16, 16, 3), dtype=np.float32)
FEATURES = np.random.default_rng(2).random((2, 8, 8, 16), dtype=np.float32)

FIRST = {"select": lambda out: out[0], "call_kwargs": {"return_attention": True}}  # (tokens, attention)
CASES = {  # layer class, constructor arguments, input, output shape, options of run_layer_test
    "drop_path": (DropPath, dict(rate=0.1, seed=3), TOKENS, (2, 5, 16), {}),
    "patch_embedding": (PatchEmbedding, dict(patch_size=4, hidden_dim=16), IMAGES, (2, 16, 16), {}),
    "attention": (MultiHeadSelfAttention, dict(hidden_dim=16, num_heads=2, qkv_bias=False), TOKENS, (2, 5, 16), FIRST),
    "transformer_block": (
        TransformerBlock,
        dict(hidden_dim=16, num_heads=2, mlp_ratio=2.0, qkv_bias=True, drop_path=0.1),
        TOKENS,
        (2, 5, 16),
        FIRST,
    ),
    "bottleneck": (Bottleneck, dict(width=4, stride=2, downsample=True), FEATURES, (2, 4, 4, 16), {}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_layer(case, tmp_path):
    layer_cls, kwargs, inputs, shape, options = CASES[case]
    run_layer_test(layer_cls, kwargs, inputs, shape, tmp_path, **options)


def test_drop_path_is_the_identity_at_inference():
    np.testing.assert_array_equal(np.asarray(DropPath(0.5, seed=0)(TOKENS)), TOKENS)

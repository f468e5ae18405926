"""The one per-image randomness scheme: every random choice about an image (which patches
drop, which permutation, where PGD starts) derives from (run seed, image index, stream), so
a rerun, another batch size or another backend makes the same choices (DESIGN.md,
Contracts). `stream` keeps independent choices apart (e.g. 1 = PGD start, 2 = target).
"""

import numpy as np


def rng(seed, *keys):
    """A NumPy generator for (seed, *keys), e.g. rng(seed, image_index, stream)."""
    return np.random.default_rng([int(seed), *[int(k) for k in keys]])


def image_seeds(seed, indices, stream=0):
    """(B, 2) uint32 seeds, one row per image, for stateless random ops of any backend
    (tf.random.stateless_*, jax.random.key, keras.random with a seed tensor)."""
    return np.stack([np.random.SeedSequence([int(seed), int(i), int(stream)]).generate_state(2)
                     for i in np.asarray(indices).reshape(-1)]).astype(np.uint32)

"""Per-image randomness: one scheme, derived from (seed, image index, stream, repeat).

Every random per-image choice of vitlab (which cells drop, which permutation, tie-breaks,
which lesioned tokens) comes from here, on the host, in NumPy, so it is the same on every
Keras backend and device. The numbers are those of TensorFlow's stateless RNG on CPU
(Philox-4x32-10, as `tf.random.experimental.stateless_fold_in` and
`tf.random.stateless_uniform(..., minval=None, maxval=None, dtype=int64)`), which
vitlab's sweeps used before they ran on JAX: results recorded then stay reproducible,
and tests/test_perturb_rng.py checks the equality against TensorFlow itself.

Key of an image: fold_in(fold_in([seed, index], stream), repeat); its N priorities are
the first N full-range int64 values of that key's Philox stream. A ranking is the stable
argsort of the priorities (ties have probability ~N^2 / 2^64).
"""

import numpy as np

# Independent random streams per use, so e.g. shuffle and drop choices never coincide.
STREAM_DROP = 1
STREAM_MASK_TIEBREAK = 2
STREAM_LESION = 3
STREAM_SHUFFLE = 4
STREAM_FILL_NOISE = 5  # the noise a dropped pixel takes with occlusion fill=noise

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)  # Philox-4x32 multipliers
_W0, _W1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)  # Weyl key increments
_LOW = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)


def _philox(counter, key):
    """Philox-4x32-10 on arrays of 32-bit words held in uint64 (so products do not overflow)."""
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for _ in range(10):
        p0, p1 = _M0 * c0, _M1 * c2
        c0, c1, c2, c3 = (p1 >> _SHIFT) ^ c1 ^ k0, p1 & _LOW, (p0 >> _SHIFT) ^ c3 ^ k1, p0 & _LOW
        k0, k1 = (k0 + _W0) & _LOW, (k1 + _W1) & _LOW
    return c0, c1, c2, c3


def _key_counter(seeds):
    """TensorFlow's seed scrambling (StatelessRandomGetKeyCounter for Philox): (B, 2) -> key, counter."""
    words = np.asarray(seeds, dtype=np.int64).view(np.uint64)
    s0, s1 = words[..., 0], words[..., 1]
    mix = _philox(
        (s0 & _LOW, s0 >> _SHIFT, s1 & _LOW, s1 >> _SHIFT), (np.full_like(s0, 0x3EC8F720), np.full_like(s0, 0x02461E29))
    )
    return (mix[0], mix[1]), (mix[2], mix[3])


def random_int64(keys, count):
    """(B, count) full-range int64 values, one independent row per (B, 2) int64 key."""
    (k0, k1), (c2, c3) = _key_counter(keys)
    calls = np.arange((count + 1) // 2, dtype=np.uint64)  # each Philox call yields two int64
    shape = k0.shape + calls.shape

    def wide(word):
        return np.broadcast_to(word[..., None], shape)

    out = _philox((np.broadcast_to(calls, shape), np.zeros(shape, np.uint64), wide(c2), wide(c3)), (wide(k0), wide(k1)))
    pairs = np.stack([out[0] | (out[1] << _SHIFT), out[2] | (out[3] << _SHIFT)], axis=-1)
    return pairs.reshape(*k0.shape, -1)[..., :count].view(np.int64)


def fold_in(keys, data):
    """New keys [first value of each key's stream, data], as tf.random.experimental.stateless_fold_in."""
    keys = np.asarray(keys, dtype=np.int64)
    return np.stack([random_int64(keys, 1)[..., 0], np.broadcast_to(np.int64(data), keys.shape[:-1])], axis=-1)


def image_keys(seed, indices, stream, repeat=0):
    """(B, 2) int64 keys from (seed, image index, stream, repeat)."""
    indices = np.asarray(indices, dtype=np.int64).reshape(-1)
    base = np.stack([np.full(indices.shape, int(seed), np.int64), indices], axis=-1)
    return fold_in(fold_in(base, int(stream)), int(repeat))


def random_priorities(keys, num_cells):
    """(B, N) int64 random values, one independent row per key."""
    return random_int64(keys, int(num_cells))


def random_order(seed, indices, num_cells, stream, repeat=0):
    """(B, N) int32: a random permutation of 0..N-1 per image (cell ids in drawing order)."""
    priorities = random_priorities(image_keys(seed, indices, stream, repeat), num_cells)
    return np.argsort(priorities, axis=1, kind="stable").astype(np.int32)


def invert(order):
    """Inverse of each (B, N) permutation: the rank of every cell."""
    order = np.asarray(order)
    ranks = np.empty_like(order, dtype=np.int32)
    np.put_along_axis(ranks, order.astype(np.int64), np.arange(order.shape[1], dtype=np.int32)[None], axis=1)
    return ranks


def generator(seed, *keys):
    """A NumPy Generator for the other per-image draws (noise starts): keyed by the same
    (seed, index, stream, ...) fold, so reruns and backends repeat it."""
    key = np.array([[int(seed), int(keys[0]) if keys else 0]], dtype=np.int64)
    for value in keys[1:]:
        key = fold_in(key, int(value))
    return np.random.default_rng(key.view(np.uint64).ravel().tolist())

"""The one per-image randomness scheme: equal to TensorFlow's stateless RNG, and to the
values vitlab's sweeps drew before they were ported off TensorFlow (regression target)."""

import numpy as np
import pytest

from vitlab.perturb import image_rng, patch_drop, shuffle

# Drawn by the TensorFlow implementation (tf.random stateless ops) at commit 9c8a156.
RECORDED = [
    (
        dict(seed=0, indices=[0, 1, 7], num_cells=9),
        [[2, 4, 3, 7, 1, 6, 0, 5, 8], [8, 1, 4, 5, 7, 3, 2, 0, 6], [3, 5, 7, 4, 0, 8, 1, 6, 2]],
    ),
    (
        dict(seed=3, indices=[42], num_cells=16, stream=patch_drop.STREAM_MASK_TIEBREAK, repeat=2),
        [[2, 6, 4, 5, 0, 13, 1, 12, 7, 11, 3, 10, 14, 8, 9, 15]],
    ),
    (dict(seed=0, indices=[2**33], num_cells=6, stream=patch_drop.STREAM_LESION, repeat=1), [[1, 5, 3, 2, 4, 0]]),
]


@pytest.mark.parametrize("kwargs,expected", RECORDED)
def test_ranks_equal_the_recorded_tensorflow_draws(kwargs, expected):
    assert patch_drop.random_ranks(**kwargs).tolist() == expected


def test_permutations_equal_the_recorded_tensorflow_draws():
    assert shuffle.random_permutations(5, np.array([0, 3]), 8, repeat=1).tolist() == [
        [1, 2, 6, 3, 5, 7, 0, 4],
        [0, 7, 4, 6, 3, 2, 5, 1],
    ]


@pytest.mark.parametrize("seed", [0, 7, -3, 2**40])
def test_keys_and_values_equal_tensorflow_stateless_ops(seed):
    tf = pytest.importorskip("tensorflow")
    indices = np.array([0, 1, 5, 12345, 2**40], np.int64)
    base = tf.stack([tf.fill([5], tf.constant(seed, tf.int64)), tf.constant(indices)], axis=1)
    fold = tf.random.experimental.stateless_fold_in
    expected_keys = tf.stack([fold(fold(key, tf.constant(4, tf.int64)), tf.constant(2, tf.int64)) for key in base])
    keys = image_rng.image_keys(seed, indices, 4, 2)
    np.testing.assert_array_equal(keys, expected_keys.numpy())
    for count in (1, 2, 49, 197):  # odd counts: the last Philox call is used by half
        expected = np.stack(
            [
                tf.random.stateless_uniform([count], seed=key, minval=None, maxval=None, dtype=tf.int64).numpy()
                for key in expected_keys
            ]
        )
        np.testing.assert_array_equal(image_rng.random_priorities(keys, count), expected)


def test_rankings_are_uniform_permutations():
    """Distribution: over 4000 images each cell takes each rank ~equally often (chi-square)."""
    ranks = patch_drop.random_ranks(11, np.arange(4000), 5)
    assert (np.sort(ranks, axis=1) == np.arange(5)).all()
    counts = np.stack([(ranks == r).sum(axis=0) for r in range(5)])  # (rank, cell)
    chi2 = ((counts - 800.0) ** 2 / 800.0).sum()
    assert chi2 < 50.0  # 16 degrees of freedom: p ~ 3e-5 for 50
    assert len({tuple(r) for r in ranks}) == 120  # all 5! orders occur


def test_streams_repeats_and_indices_give_independent_choices():
    a = patch_drop.random_ranks(0, np.arange(64), 16, stream=patch_drop.STREAM_DROP)
    b = patch_drop.random_ranks(0, np.arange(64), 16, stream=patch_drop.STREAM_SHUFFLE)
    c = patch_drop.random_ranks(0, np.arange(64), 16, repeat=1)
    assert (a != b).any(axis=1).all() and (a != c).any(axis=1).all()
    np.testing.assert_array_equal(patch_drop.random_ranks(0, [63], 16)[0], a[63])


def test_invert_and_generator():
    order = image_rng.random_order(1, np.arange(3), 7, image_rng.STREAM_DROP)
    ranks = image_rng.invert(order)
    np.testing.assert_array_equal(
        np.take_along_axis(ranks, order.astype(np.int64), axis=1), np.tile(np.arange(7), (3, 1))
    )
    first = image_rng.generator(0, 5, 2).random(3)
    np.testing.assert_array_equal(first, image_rng.generator(0, 5, 2).random(3))
    assert not np.array_equal(first, image_rng.generator(0, 6, 2).random(3))
    assert not np.array_equal(first, image_rng.generator(1, 5, 2).random(3))

"""Hand-checked values for PatchDrop, shuffle and attention-saliency tensor functions."""

import numpy as np
import pytest
import tensorflow as tf

from vitlab.experiments.correlation import Moments, pearson_per_row
from vitlab.perturb import patch_drop, saliency, shuffle


def _images(n=6, size=8, seed=0):
    return np.random.default_rng(seed).random((n, size, size, 3), dtype=np.float32) + 0.1  # no true zeros


@pytest.mark.parametrize("fraction,expected", [(0.0, 0), (0.25, 4), (0.5, 8), (0.9, 14), (1.0, 16)])
def test_drop_mask_has_exactly_the_requested_fraction(fraction, expected):
    ranks = patch_drop.random_ranks(0, np.arange(5), 16)
    drop = ranks < patch_drop.drop_count(fraction, 16)
    assert (drop.sum(axis=1) == expected).all()
    assert patch_drop.drop_count(0.1, 196) == 19  # official 196 * 1 // 10


def test_dropped_pixels_are_zero_and_others_unchanged():
    images = _images()
    out = patch_drop.random_patch_drop(tf.constant(images), np.arange(6), 0.5, seed=3, grid=(4, 4)).numpy()
    zero = (out == 0).all(axis=-1)
    # 2x2-pixel cells: 8 of 16 cells = half the pixels, whole cells at a time
    assert (zero.reshape(6, -1).sum(axis=1) == 32).all()
    cells = zero.reshape(6, 4, 2, 4, 2).transpose(0, 1, 3, 2, 4).reshape(6, 16, 4)
    assert (cells.all(axis=2) | ~cells.any(axis=2)).all()
    np.testing.assert_array_equal(out[~zero], images[~zero])


def test_choices_differ_across_images_and_repeat_with_the_seed():
    first = patch_drop.random_ranks(7, np.arange(8), 16)
    again = patch_drop.random_ranks(7, np.arange(8), 16)
    other_seed = patch_drop.random_ranks(8, np.arange(8), 16)
    other_repeat = patch_drop.random_ranks(7, np.arange(8), 16, repeat=1)
    np.testing.assert_array_equal(first, again)
    assert len({tuple(r) for r in first}) == 8
    assert not np.array_equal(first, other_seed) and not np.array_equal(first, other_repeat)
    assert (np.sort(first, axis=1) == np.arange(16)).all()  # a ranking is a permutation
    # the choice of an image depends on its index, not on its batch position
    np.testing.assert_array_equal(patch_drop.random_ranks(7, np.array([5]), 16)[0], first[5])


def test_cell_map_any_grid_offset_and_pixel_level():
    assert patch_drop.cell_index_map(4, 4, 2, 2).tolist() == [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]
    assert patch_drop.cell_index_map(3, 3, 2, 2).tolist() == [[0, 0, 1], [0, 0, 1], [2, 2, 3]]
    shifted = patch_drop.cell_index_map(4, 4, 2, 2, offset=(1, 1))
    assert shifted.tolist() == [[-1, -1, -1, -1], [-1, 0, 0, 1], [-1, 0, 0, 1], [-1, 2, 2, 3]]
    assert patch_drop.parse_grid("pixel", 8, 8) == (8, 8) and patch_drop.parse_grid("2x4", 8, 8) == (2, 4)
    with pytest.raises(ValueError):
        patch_drop.parse_grid("9x2", 8, 8)


def test_mask_ranking_puts_foreground_cells_first():
    masks = np.zeros((1, 4, 4), np.float32)
    masks[0, :2, :2] = 1.0  # cell 0 of a 2x2 grid fully foreground
    masks[0, 2, 2] = 1.0  # cell 3 a quarter foreground
    cell_map = patch_drop.cell_index_map(4, 4, 2, 2)
    fraction = patch_drop.cell_fraction(masks, cell_map, 4)
    np.testing.assert_allclose(fraction, [[1.0, 0.0, 0.0, 0.25]])
    ties = patch_drop.random_ranks(0, [0], 4)
    fg = patch_drop.ranks_by_fraction(fraction, ties, True)[0]
    bg = patch_drop.ranks_by_fraction(fraction, ties, False)[0]
    assert fg[0] == 0 and fg[3] == 1 and bg[0] == 3 and bg[3] == 2


def test_shuffle_is_a_bijection_and_1x1_is_identity():
    images = _images(4, 8)
    perms = shuffle.random_permutations(0, np.arange(4), 16)
    out = shuffle.shuffle_cells(tf.constant(images), 4, 4, perms).numpy()
    assert not np.array_equal(out, images)
    np.testing.assert_array_equal(shuffle.unshuffle_cells(tf.constant(out), 4, 4, perms).numpy(), images)
    cells_in = images.reshape(4, 4, 2, 4, 2, 3).transpose(0, 1, 3, 2, 4, 5).reshape(4, 16, -1)
    cells_out = out.reshape(4, 4, 2, 4, 2, 3).transpose(0, 1, 3, 2, 4, 5).reshape(4, 16, -1)
    for b in range(4):  # sorting the cells of both gives the same multiset
        np.testing.assert_array_equal(cells_out[b], cells_in[b][perms[b]])
        assert sorted(map(tuple, cells_out[b])) == sorted(map(tuple, cells_in[b]))
    identity = shuffle.random_permutations(0, np.arange(4), 1)
    np.testing.assert_array_equal(shuffle.shuffle_cells(tf.constant(images), 1, 1, identity).numpy(), images)
    with pytest.raises(ValueError):
        shuffle.shuffle_cells(tf.constant(images), 3, 3, shuffle.random_permutations(0, np.arange(4), 9))


def test_cumulative_attention_threshold_on_a_hand_made_row():
    row = np.array([[0.1, 0.4, 0.2, 0.3]], np.float32)
    # ascending 0.1, 0.2, 0.3, 0.4 -> cumulative 0.1, 0.3, 0.6, 1.0, un-sorted back
    np.testing.assert_allclose(saliency.cumulative_mass(row).numpy(), [[0.1, 1.0, 0.3, 0.6]], atol=1e-6)
    mass = saliency.cumulative_mass(row)
    assert saliency.foreground(mass, 0.5).numpy().tolist() == [[False, True, False, True]]  # > 0.5
    assert saliency.foreground(mass, 0.9).numpy().tolist() == [[False, True, True, True]]  # > 0.1
    assert saliency.foreground(mass, 1.0).numpy().all()
    unnormalized = saliency.cumulative_mass(row * 10).numpy()
    np.testing.assert_allclose(unnormalized, [[0.1, 1.0, 0.3, 0.6]], atol=1e-6)


def test_jaccard_on_hand_made_masks():
    predicted = np.zeros((3, 4, 4), bool)
    target = np.zeros((3, 4, 4), bool)
    predicted[0, :2, :] = True  # 8 pixels
    target[0, 1:3, :] = True  # 8 pixels, overlap 4 -> 4 / 12
    predicted[1] = target[1] = True
    values = saliency.jaccard(predicted, target).numpy()
    np.testing.assert_allclose(values[:2], [4 / 12, 1.0])
    assert np.isnan(values[2])  # nothing predicted, nothing there
    up = saliency.upsample_nearest(np.array([[[1, 0], [0, 1]]]), 4, 4).numpy()[0]
    assert up.tolist() == [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]]


def test_correlation_of_identical_and_negated_features():
    u = np.random.default_rng(0).normal(size=(5, 16)).astype(np.float32)
    np.testing.assert_allclose(pearson_per_row(u, u).numpy(), 1.0, atol=1e-5)
    np.testing.assert_allclose(pearson_per_row(u, -u).numpy(), -1.0, atol=1e-5)
    np.testing.assert_allclose(pearson_per_row(u, 3 * u + 2).numpy(), 1.0, atol=1e-5)
    moments = Moments()
    moments.add(u, -2 * u)
    assert moments.correlation() == pytest.approx(-1.0, abs=1e-6)
    x = np.array([[1.0, 2.0, 3.0, 4.0]], np.float32)
    y = np.array([[1.0, 3.0, 2.0, 4.0]], np.float32)
    assert float(pearson_per_row(x, y).numpy()[0]) == pytest.approx(0.8, abs=1e-6)  # cov 1 / var 1.25

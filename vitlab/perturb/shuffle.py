"""Patch shuffle (paper Sec. 3.3): cut an image into an h x w grid and permute the cells.

Each image gets its own permutation, derived statelessly from (seed, image index, repeat)
(the official code uses one permutation for a whole batch). Cells must tile the image
exactly, so a grid has to divide the image size.
"""

import tensorflow as tf

from vitlab.perturb.patch_drop import STREAM_SHUFFLE, image_keys, random_priorities


def grid_divides(height, width, rows, cols):
    return height % rows == 0 and width % cols == 0


def random_permutations(seed, indices, num_cells, repeat=0):
    """(B, N) int32: one random permutation of 0..N-1 per image."""
    priorities = random_priorities(image_keys(seed, indices, STREAM_SHUFFLE, repeat), num_cells)
    return tf.argsort(priorities, axis=1, stable=True)


def _to_cells(images, rows, cols):
    batch, height, width, channels = (tf.shape(images)[0], images.shape[1], images.shape[2], images.shape[3])
    if not grid_divides(height, width, rows, cols):
        raise ValueError(f"a {rows}x{cols} grid does not divide {height}x{width} images")
    cell_h, cell_w = height // rows, width // cols
    cells = tf.reshape(images, (batch, rows, cell_h, cols, cell_w, channels))
    cells = tf.transpose(cells, (0, 1, 3, 2, 4, 5))
    return tf.reshape(cells, (batch, rows * cols, cell_h, cell_w, channels)), (cell_h, cell_w)


def _from_cells(cells, rows, cols, cell_h, cell_w):
    channels = cells.shape[-1]
    images = tf.reshape(cells, (-1, rows, cols, cell_h, cell_w, channels))
    images = tf.transpose(images, (0, 1, 3, 2, 4, 5))
    return tf.reshape(images, (-1, rows * cell_h, cols * cell_w, channels))


def shuffle_cells(images, rows, cols, permutations):
    """Output cell j (row-major) is input cell permutations[:, j]."""
    cells, (cell_h, cell_w) = _to_cells(images, rows, cols)
    cells = tf.gather(cells, tf.cast(permutations, tf.int32), axis=1, batch_dims=1)
    return _from_cells(cells, rows, cols, cell_h, cell_w)


def unshuffle_cells(images, rows, cols, permutations):
    """Inverse of shuffle_cells: puts every cell back where it came from."""
    inverse = tf.vectorized_map(tf.math.invert_permutation, tf.cast(permutations, tf.int32))
    return shuffle_cells(images, rows, cols, inverse)

"""Patch shuffle (paper Sec. 3.3): cut an image into an h x w grid and permute the cells.

Each image gets its own permutation, derived from (seed, image index, repeat) by
vitlab.perturb.image_rng (the official code uses one permutation for a whole batch).
Cells must tile the image exactly, so a grid has to divide the image size. The
permutations are NumPy; moving the cells is keras.ops (one gather), on any backend.
"""

import numpy as np
from keras import ops

from vitlab.perturb import image_rng


def grid_divides(height, width, rows, cols):
    return height % rows == 0 and width % cols == 0


def random_permutations(seed, indices, num_cells, repeat=0):
    """(B, N) int32 NumPy: one random permutation of 0..N-1 per image."""
    return image_rng.random_order(seed, indices, num_cells, image_rng.STREAM_SHUFFLE, repeat)


def _to_cells(images, rows, cols):
    height, width, channels = images.shape[1], images.shape[2], images.shape[3]
    if not grid_divides(height, width, rows, cols):
        raise ValueError(f"a {rows}x{cols} grid does not divide {height}x{width} images")
    cell_h, cell_w = height // rows, width // cols
    cells = ops.reshape(images, (-1, rows, cell_h, cols, cell_w, channels))
    cells = ops.transpose(cells, (0, 1, 3, 2, 4, 5))
    return ops.reshape(cells, (-1, rows * cols, cell_h * cell_w * channels)), (cell_h, cell_w, channels)


def _from_cells(cells, rows, cols, cell_h, cell_w, channels):
    images = ops.reshape(cells, (-1, rows, cols, cell_h, cell_w, channels))
    images = ops.transpose(images, (0, 1, 3, 2, 4, 5))
    return ops.reshape(images, (-1, rows * cell_h, cols * cell_w, channels))


def shuffle_cells(images, rows, cols, permutations):
    """Output cell j (row-major) is input cell permutations[:, j]."""
    images = ops.convert_to_tensor(images)
    cells, shape = _to_cells(images, rows, cols)
    permutations = ops.cast(ops.convert_to_tensor(permutations), "int32")
    flat = ops.reshape(cells, (-1, cells.shape[-1]))
    offsets = ops.arange(ops.shape(permutations)[0], dtype="int32")[:, None] * (rows * cols)
    moved = ops.take(flat, ops.reshape(permutations + offsets, (-1,)), axis=0)
    return _from_cells(moved, rows, cols, *shape)


def unshuffle_cells(images, rows, cols, permutations):
    """Inverse of shuffle_cells: puts every cell back where it came from."""
    return shuffle_cells(images, rows, cols, image_rng.invert(np.asarray(permutations)))

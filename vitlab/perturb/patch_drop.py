"""PatchDrop (paper Sec. 3.1): which pixels belong to which grid cell, and which cells drop.

An image is cut into a rows x cols grid (any grid: the model's patch grid, a coarser or
finer one, one cell per pixel, optionally shifted by an offset); a dropped cell is set to
0 in [0, 1] pixel space, as in the official evaluate.py. Unlike the official code, which
draws one choice for a whole batch, every image gets its own choice, derived statelessly
from (seed, image index, stream, repeat): reruns repeat it, and every model of a sweep
sees the same occluded images. A choice is a *ranking* of the cells; dropping a fraction f
drops the floor(f * N) first-ranked cells, so the levels of one repeat are nested.
"""

import math

import numpy as np
import tensorflow as tf

# Independent random streams per use, so e.g. shuffle and drop choices never coincide.
STREAM_DROP = 1
STREAM_MASK_TIEBREAK = 2
STREAM_LESION = 3
STREAM_SHUFFLE = 4


def parse_grid(text, height, width):
    """'RxC' / 'N' -> (rows, cols); 'pixel' -> one cell per pixel. ValueError when bad."""
    text = str(text).strip().lower()
    if text == "pixel":
        return height, width
    parts = text.split("x")
    try:
        rows, cols = (int(parts[0]), int(parts[-1])) if len(parts) in (1, 2) else (0, 0)
    except ValueError:
        rows = cols = 0
    if rows < 1 or cols < 1 or rows > height or cols > width:
        raise ValueError(f"grid {text!r} is not 'RxC' (1 <= R <= {height}, 1 <= C <= {width}) or 'pixel'")
    return rows, cols


def cell_index_map(height, width, rows, cols, offset=(0, 0)):
    """(H, W) int32: the cell of every pixel (row-major), -1 for pixels in no cell.

    Cells need not divide the image: pixel y lies in row floor((y - dy) * rows / H). An
    offset (dy, dx) shifts the grid down/right as the official random_offset_drop does:
    the strip above/left of it belongs to no cell (never dropped) and the last cells are
    cut at the border.
    """
    dy, dx = (int(o) for o in offset)
    ys = np.arange(height) - dy
    xs = np.arange(width) - dx
    row = np.where(ys >= 0, (np.maximum(ys, 0) * rows) // height, -1)
    col = np.where(xs >= 0, (np.maximum(xs, 0) * cols) // width, -1)
    cells = row[:, None] * cols + col[None, :]
    return np.where((row[:, None] >= 0) & (col[None, :] >= 0), cells, -1).astype("int32")


def drop_count(fraction, num_cells):
    """Cells dropped at information loss `fraction` (floor, as the official 196 * k // 10)."""
    return int(math.floor(fraction * num_cells + 1e-9))


# The helpers below are tf.functions so that eager callers (tests, notebooks) reuse one trace;
# inside an experiment's compiled step they are inlined.
@tf.function(reduce_retracing=True)
def _fold_keys(seed, indices, stream, repeat):
    base = tf.stack([tf.fill(tf.shape(indices), seed), indices], axis=1)

    def fold(key):
        key = tf.random.experimental.stateless_fold_in(key, stream)
        return tf.random.experimental.stateless_fold_in(key, repeat)

    return tf.vectorized_map(fold, base)


def image_keys(seed, indices, stream, repeat=0):
    """(B, 2) int64 stateless-RNG keys from (seed, image index, stream, repeat)."""
    return _fold_keys(tf.cast(seed, tf.int64), tf.cast(indices, tf.int64), tf.cast(stream, tf.int64),
                      tf.cast(repeat, tf.int64))


@tf.function(reduce_retracing=True)
def _uniform_rows(keys, num_cells):
    return tf.vectorized_map(
        lambda key: tf.random.stateless_uniform(tf.reshape(num_cells, [1]), seed=key, minval=None, maxval=None,
                                                dtype=tf.int64), keys)


def random_priorities(keys, num_cells):
    """(B, N) int64 full-range random values, one independent row per key (ties ~ never)."""
    return _uniform_rows(keys, tf.constant(num_cells, tf.int32))


@tf.function(reduce_retracing=True)
def ranks_from_order(order):
    """Invert (B, N) orders (cell ids, first to drop first) into per-cell ranks."""
    return tf.vectorized_map(tf.math.invert_permutation, tf.cast(order, tf.int32))


def random_ranks(seed, indices, num_cells, stream=STREAM_DROP, repeat=0):
    """(B, N) int32: a random ranking of the cells of every image (a permutation of 0..N-1)."""
    priorities = random_priorities(image_keys(seed, indices, stream, repeat), num_cells)
    return ranks_from_order(tf.argsort(priorities, axis=1, stable=True))


def cell_fraction(masks, cell_map, num_cells):
    """(B, N) mean of a (B, H, W) mask over the pixels of each cell (0 for empty cells)."""
    masks = tf.cast(masks, tf.float32)
    flat = tf.transpose(tf.reshape(masks, (tf.shape(masks)[0], -1)))  # (H*W, B)
    means = tf.math.unsorted_segment_mean(flat, tf.reshape(tf.constant(cell_map), [-1]), num_cells)
    return tf.transpose(means)


def ranks_by_fraction(fraction, tiebreak_ranks, foreground_first=True):
    """Rank cells by mask fraction (largest first, or smallest first), random among ties."""
    random_order = tf.argsort(tiebreak_ranks, axis=1, stable=True)
    in_random_order = tf.gather(fraction, random_order, batch_dims=1)
    direction = "DESCENDING" if foreground_first else "ASCENDING"
    by_fraction = tf.argsort(in_random_order, axis=1, direction=direction, stable=True)
    return ranks_from_order(tf.gather(random_order, by_fraction, batch_dims=1))


def cells_to_pixels(cell_values, cell_map, fill):
    """(B, N) per-cell values -> (B, H, W) per-pixel values; pixels in no cell get `fill`."""
    cell_values = tf.convert_to_tensor(cell_values)
    cell_map = tf.constant(cell_map)
    padded = tf.concat([cell_values, tf.fill([tf.shape(cell_values)[0], 1], tf.cast(fill, cell_values.dtype))],
                       axis=1)
    index = tf.where(cell_map >= 0, cell_map, tf.shape(cell_values)[1])
    return tf.gather(padded, index, axis=1)


def drop_pixels(images, pixel_drop):
    """Set dropped pixels (B, H, W bool) to 0; all others unchanged."""
    keep = 1.0 - tf.cast(pixel_drop, images.dtype)
    return images * keep[..., None]


def random_patch_drop(images, indices, fraction, seed, grid=None, offset=(0, 0), repeat=0):
    """Convenience: drop `fraction` of the cells of `grid` (rows, cols) at random per image."""
    height, width = int(images.shape[1]), int(images.shape[2])
    rows, cols = grid or (height, width)
    cell_map = cell_index_map(height, width, rows, cols, offset)
    ranks = random_ranks(seed, indices, rows * cols, repeat=repeat)
    cell_drop = ranks < drop_count(fraction, rows * cols)
    return drop_pixels(images, cells_to_pixels(cell_drop, cell_map, False))

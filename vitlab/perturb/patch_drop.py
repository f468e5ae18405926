"""PatchDrop (paper Sec. 3.1): which pixels belong to which grid cell, and which cells drop.

An image is cut into a rows x cols grid (any grid: the model's patch grid, a coarser or
finer one, one cell per pixel, optionally shifted by an offset); a dropped cell is set to
0 in [0, 1] pixel space, as in the official evaluate.py (`fill_pixels` puts another fill
there, a colour or per-image noise from `noise_fill`, to test whether a result depends on
black). Unlike the official code, which draws one choice for a whole batch, every image gets its own choice, derived from
(seed, image index, stream, repeat) by vitlab.perturb.image_rng: reruns repeat it, every
model of a sweep sees the same occluded images, and every backend draws the same. A
choice is a *ranking* of the cells; dropping a fraction f drops the floor(f * N)
first-ranked cells, so the levels of one repeat are nested.

Choices (ranks) are small host arrays computed in NumPy; the pixel work (`cells_to_pixels`,
`drop_pixels`) is keras.ops and runs compiled on any backend.
"""

import math

import numpy as np
from keras import ops

from vitlab.perturb import image_rng
from vitlab.perturb.image_rng import (  # noqa: F401
    STREAM_DROP,
    STREAM_FILL_NOISE,
    STREAM_LESION,
    STREAM_MASK_TIEBREAK,
    STREAM_SHUFFLE,
)

FILLS = ("black", "mean", "noise")  # what a dropped pixel becomes; black is the official evaluate.py's


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


def image_keys(seed, indices, stream, repeat=0):
    """(B, 2) int64 keys from (seed, image index, stream, repeat) (see image_rng)."""
    return image_rng.image_keys(seed, indices, stream, repeat)


def random_priorities(keys, num_cells):
    """(B, N) int64 full-range random values, one independent row per key (ties ~ never)."""
    return image_rng.random_priorities(keys, num_cells)


def ranks_from_order(order):
    """Invert (B, N) orders (cell ids, first to drop first) into per-cell ranks."""
    return image_rng.invert(order)


def random_ranks(seed, indices, num_cells, stream=STREAM_DROP, repeat=0):
    """(B, N) int32 NumPy: a random ranking of the cells of every image (a permutation of 0..N-1)."""
    return image_rng.invert(image_rng.random_order(seed, indices, num_cells, stream, repeat))


def cell_fraction(masks, cell_map, num_cells):
    """(B, N) mean of a (B, H, W) mask over the pixels of each cell (0 for empty cells)."""
    masks = np.asarray(masks, dtype=np.float32)
    batch = masks.shape[0]
    flat_map = np.asarray(cell_map).reshape(-1)
    inside = flat_map >= 0
    ids = (np.arange(batch)[:, None] * num_cells + flat_map[None, inside]).reshape(-1)
    sums = np.bincount(
        ids, weights=masks.reshape(batch, -1)[:, inside].reshape(-1).astype(np.float64), minlength=batch * num_cells
    ).reshape(batch, num_cells)
    counts = np.bincount(flat_map[inside], minlength=num_cells)
    return (sums / np.maximum(counts, 1)).astype(np.float32)


def ranks_by_fraction(fraction, tiebreak_ranks, foreground_first=True):
    """Rank cells by mask fraction (largest first, or smallest first), random among ties."""
    fraction = np.asarray(fraction, dtype=np.float32)
    random_order = np.argsort(np.asarray(tiebreak_ranks), axis=1, kind="stable")
    in_random_order = np.take_along_axis(fraction, random_order, axis=1)
    key = -in_random_order if foreground_first else in_random_order
    by_fraction = np.argsort(key, axis=1, kind="stable")
    return image_rng.invert(np.take_along_axis(random_order, by_fraction, axis=1))


def cells_to_pixels(cell_values, cell_map, fill):
    """(B, N) per-cell values -> (B, H, W) per-pixel values; pixels in no cell get `fill`."""
    cell_values = ops.convert_to_tensor(cell_values)
    cell_map = np.asarray(cell_map)
    num_cells = int(cell_values.shape[1])
    padded = ops.concatenate(
        [cell_values, ops.cast(ops.full((ops.shape(cell_values)[0], 1), fill), cell_values.dtype)], axis=1
    )
    index = np.where(cell_map >= 0, cell_map, num_cells).astype("int32")
    return ops.take(padded, index, axis=1)


def drop_pixels(images, pixel_drop):
    """Set dropped pixels (B, H, W bool) to 0; all others unchanged."""
    keep = 1.0 - ops.cast(pixel_drop, images.dtype)
    return images * keep[..., None]


def fill_pixels(images, pixel_drop, fill=None):
    """Set dropped pixels (B, H, W bool) to `fill`, all others unchanged: None is black (exactly
    `drop_pixels`), a (C,) colour fills every dropped pixel, (B, H, W, C) values fill per pixel."""
    if fill is None:
        return drop_pixels(images, pixel_drop)
    return ops.where(ops.expand_dims(pixel_drop, -1), ops.cast(fill, images.dtype), images)


def noise_fill(seed, indices, shape):
    """(B, *shape) float32 uniform noise in [0, 1), one draw per image keyed by (seed, image index,
    STREAM_FILL_NOISE): reruns, batch sizes and every model of a sweep see the same noise."""
    draws = [image_rng.generator(seed, int(i), STREAM_FILL_NOISE).random(tuple(shape), np.float32) for i in indices]
    return np.stack(draws) if draws else np.zeros((0, *shape), np.float32)


def random_patch_drop(images, indices, fraction, seed, grid=None, offset=(0, 0), repeat=0):
    """Convenience: drop `fraction` of the cells of `grid` (rows, cols) at random per image."""
    images = ops.convert_to_tensor(images, "float32")
    height, width = int(images.shape[1]), int(images.shape[2])
    rows, cols = grid or (height, width)
    cell_map = cell_index_map(height, width, rows, cols, offset)
    ranks = random_ranks(seed, indices, rows * cols, repeat=repeat)
    cell_drop = ranks < drop_count(fraction, rows * cols)
    return drop_pixels(images, cells_to_pixels(cell_drop, cell_map, False))

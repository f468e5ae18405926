"""Saliency from attention: foreground masks and their agreement with ground truth.

Definition (official evaluate.py `--dino` and evaluate_segmentation.py): sort a token's
attention to the patches in ascending order, normalize it to sum 1, take the cumulative
sum, and call a patch foreground when its cumulative mass is > 1 - lambda. The patches
kept are thus the most attended ones that together hold ~lambda of the attention mass.
Here the cumulative mass is computed once per image (`cumulative_mass`); every lambda is
then one comparison (`foreground`), so a sweep over lambda reuses one attention pass.
All keras.ops: the same code runs compiled on TensorFlow and JAX.
"""

from keras import ops


def cumulative_mass(attention):
    """(..., N) attention -> (..., N): for each patch, the normalized mass of all patches
    ranked at or below it in ascending order (the official `cumval`, un-sorted)."""
    attention = ops.cast(ops.convert_to_tensor(attention), "float32")
    order = ops.argsort(attention, axis=-1)
    values = ops.take_along_axis(attention, order, axis=-1)
    values = values / ops.sum(values, axis=-1, keepdims=True)
    cumulative = ops.cumsum(values, axis=-1)
    inverse = ops.argsort(order, axis=-1)  # order is a permutation: no ties
    return ops.take_along_axis(cumulative, inverse, axis=-1)


def foreground(mass, lam):
    """Foreground patches at mass fraction `lam`: cumulative mass > 1 - lam."""
    return ops.convert_to_tensor(mass) > (1.0 - lam)


def upsample_nearest(cells, height, width):
    """(..., rows, cols) -> (..., H, W) by nearest neighbour (pixel y -> row y*rows//H)."""
    cells = ops.convert_to_tensor(cells)
    rows, cols = cells.shape[-2], cells.shape[-1]
    row_index = [(y * rows) // height for y in range(height)]
    col_index = [(x * cols) // width for x in range(width)]
    rank = len(cells.shape)
    return ops.take(ops.take(cells, row_index, axis=rank - 2), col_index, axis=rank - 1)


def jaccard(predicted, target):
    """Per-image Jaccard index |P & T| / |P | T| over the last two axes (bool masks).

    NaN where the union is empty (no object and nothing predicted): such images carry no
    information about segmentation and are left out of means (np.nanmean).
    """
    predicted = ops.cast(predicted, "bool")
    target = ops.cast(target, "bool")
    intersection = ops.sum(ops.cast(ops.logical_and(predicted, target), "float32"), axis=(-2, -1))
    union = ops.sum(ops.cast(ops.logical_or(predicted, target), "float32"), axis=(-2, -1))
    return ops.where(union > 0, intersection / ops.maximum(union, 1.0), float("nan"))

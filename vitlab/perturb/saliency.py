"""Saliency from attention: foreground masks and their agreement with ground truth.

Definition (official evaluate.py `--dino` and evaluate_segmentation.py): sort a token's
attention to the patches in ascending order, normalize it to sum 1, take the cumulative
sum, and call a patch foreground when its cumulative mass is > 1 - lambda. The patches
kept are thus the most attended ones that together hold ~lambda of the attention mass.
Here the cumulative mass is computed once per image (`cumulative_mass`); every lambda is
then one comparison (`foreground`), so a sweep over lambda reuses one attention pass.
"""

import tensorflow as tf


def cumulative_mass(attention):
    """(..., N) attention -> (..., N): for each patch, the normalized mass of all patches
    ranked at or below it in ascending order (the official `cumval`, un-sorted)."""
    attention = tf.convert_to_tensor(attention, tf.float32)
    order = tf.argsort(attention, axis=-1, stable=True)
    values = tf.gather(attention, order, axis=-1, batch_dims=len(attention.shape) - 1)
    values = values / tf.reduce_sum(values, axis=-1, keepdims=True)
    cumulative = tf.cumsum(values, axis=-1)
    inverse = tf.argsort(order, axis=-1, stable=True)
    return tf.gather(cumulative, inverse, axis=-1, batch_dims=len(attention.shape) - 1)


def foreground(mass, lam):
    """Foreground patches at mass fraction `lam`: cumulative mass > 1 - lam."""
    return tf.convert_to_tensor(mass) > (1.0 - lam)


def upsample_nearest(cells, height, width):
    """(..., rows, cols) -> (..., H, W) by nearest neighbour (pixel y -> row y*rows//H)."""
    cells = tf.convert_to_tensor(cells)
    rows, cols = cells.shape[-2], cells.shape[-1]
    row_index = (tf.range(height) * rows) // height
    col_index = (tf.range(width) * cols) // width
    return tf.gather(tf.gather(cells, row_index, axis=-2), col_index, axis=-1)


def jaccard(predicted, target):
    """Per-image Jaccard index |P & T| / |P | T| over the last two axes (bool masks).

    NaN where the union is empty (no object and nothing predicted): such images carry no
    information about segmentation and are left out of means (np.nanmean).
    """
    predicted = tf.cast(predicted, tf.bool)
    target = tf.cast(target, tf.bool)
    intersection = tf.reduce_sum(tf.cast(predicted & target, tf.float32), axis=(-2, -1))
    union = tf.reduce_sum(tf.cast(predicted | target, tf.float32), axis=(-2, -1))
    return tf.where(union > 0, intersection / tf.maximum(union, 1.0), float("nan"))

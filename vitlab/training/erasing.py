"""Random erasing as DeiT uses it: timm RandomErasing(0.25, mode='pixel', max_count=1).

timm (commit aa4b585, timm/data/random_erasing.py; the same in v0.3.3): an image is erased
when a uniform draw is at most the probability (line 79); then up to 10 attempts (line 85)
of an area fraction uniform on (0.02, 1/3) (lines 49-50, 86) and a log-uniform aspect ratio
on (0.3, 1/0.3) (lines 51, 62-63, 87), h = round(sqrt(area x ratio)), w = round(sqrt(area /
ratio)) (lines 88-89); the first box with h < H and w < W (line 90) is placed uniformly
(lines 91-92) and filled with per-pixel, per-channel N(0, 1) noise (mode 'pixel', lines
18-19). Ten misses: the image stays as it was. DeiT's flags: main.py lines 118-123.

timm erases the *normalised* tensor. vitlab's pixels are in [0, 1] and the model normalises
them, so the fill here is mean + std x N(0, 1) per pixel and channel: the model then sees
N(0, 1), as DeiT's does. The fill is not clipped to [0, 1]; nothing after this stage clips.
"""

import math

import tensorflow as tf

from vitlab.training.crops import uniform_int

AREA = (0.02, 1 / 3)
ASPECT = (0.3, 1 / 0.3)
ATTEMPTS = 10


def erasing_boxes(key, batch, height, width, probability):
    """(erased, top, left, h, w) per image: erased is bool [batch], the rest int32 [batch]."""
    keys = tf.random.experimental.stateless_split(key, 5)
    erased = tf.random.stateless_uniform((batch,), keys[0], dtype=tf.float64) <= probability
    area = float(height * width)
    target = tf.random.stateless_uniform((batch, ATTEMPTS), keys[1], AREA[0], AREA[1], tf.float64) * area
    log_aspect = tf.random.stateless_uniform(
        (batch, ATTEMPTS), keys[2], math.log(ASPECT[0]), math.log(ASPECT[1]), tf.float64
    )
    aspect = tf.exp(log_aspect)
    h = tf.round(tf.sqrt(target * aspect))
    w = tf.round(tf.sqrt(target / aspect))
    fits = (w < width) & (h < height)
    first = tf.argmax(tf.cast(fits, tf.int32), axis=1, output_type=tf.int32)
    erased &= tf.reduce_any(fits, axis=1)
    h = tf.where(erased, tf.cast(tf.gather(h, first, batch_dims=1), tf.int32), 0)
    w = tf.where(erased, tf.cast(tf.gather(w, first, batch_dims=1), tf.int32), 0)
    return erased, uniform_int(keys[3], height - h), uniform_int(keys[4], width - w), h, w


def box_mask(top, left, h, w, height, width):
    """[B, H, W, 1] bool: inside each image's box."""
    rows = tf.range(height)[None, :, None]
    cols = tf.range(width)[None, None, :]
    inside = (
        (rows >= top[:, None, None])
        & (rows < (top + h)[:, None, None])
        & (cols >= left[:, None, None])
        & (cols < (left + w)[:, None, None])
    )
    return inside[..., None]


def random_erasing(images, key, probability, mean, std):
    """Erase one box in a `probability` share of a [B, H, W, C] batch in pixel space."""
    height, width = images.shape[1], images.shape[2]
    _, top, left, h, w = erasing_boxes(key, tf.shape(images)[0], height, width, probability)
    noise = tf.random.stateless_normal(
        tf.shape(images), tf.random.experimental.stateless_fold_in(key, 7), dtype=images.dtype
    )
    fill = tf.constant(mean, images.dtype) + tf.constant(std, images.dtype) * noise
    return tf.where(box_mask(top, left, h, w, height, width), fill, images)

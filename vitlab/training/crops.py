"""Training crops as DeiT draws them: timm's RandomResizedCrop above 32 px, torchvision's
RandomCrop with zero padding at 32 px and below (deit datasets.py lines 92-96 swap the one
for the other when `input_size <= 32`).

RandomResizedCrop (timm commit aa4b585, timm/data/transforms.py lines 215-243, the same in
v0.3.3): up to 10 attempts of an area fraction uniform on (0.08, 1) and a log-uniform aspect
ratio on (3/4, 4/3), w = round(sqrt(area x ratio)), h = round(sqrt(area / ratio)), kept when
the box fits, placed uniformly; after 10 misses the central crop (the whole image when the
image's own ratio lies in the range). The box is resized back bicubic with antialiasing
(DeiT's `--train-interpolation bicubic`; TF's "keyscubic" kernel is PIL's a = -0.5 cubic).
One difference from DeiT: timm crops the full-resolution photograph, vitlab the image at its
training size (the data pipeline resizes first), so a small box is upsampled from fewer
pixels.

Each draw is a stateless function of a key, so a batch's crops depend on (seed, position) only.
"""

import math

import tensorflow as tf

SCALE = (0.08, 1.0)
RATIO = (3 / 4, 4 / 3)
ATTEMPTS = 10


def uniform_int(key, upper):
    """Integers uniform on 0..upper (inclusive, per element), as Python's random.randint(0, upper)."""
    u = tf.random.stateless_uniform(tf.shape(upper), key, dtype=tf.float64)
    return tf.cast(tf.floor(u * (tf.cast(upper, tf.float64) + 1.0)), tf.int32)


def resized_crop_boxes(key, batch, height, width, scale=SCALE, ratio=RATIO):
    """(top, left, box height, box width), int32 [batch] each, drawn as timm's get_params."""
    keys = tf.random.experimental.stateless_split(key, 4)
    area = float(height * width)
    target = tf.random.stateless_uniform((batch, ATTEMPTS), keys[0], scale[0], scale[1], tf.float64) * area
    log_ratio = tf.random.stateless_uniform(
        (batch, ATTEMPTS), keys[1], math.log(ratio[0]), math.log(ratio[1]), tf.float64
    )
    aspect = tf.exp(log_ratio)
    w = tf.round(tf.sqrt(target * aspect))  # round half to even, as Python's round
    h = tf.round(tf.sqrt(target / aspect))
    fits = (w <= width) & (h <= height)
    first = tf.argmax(tf.cast(fits, tf.int32), axis=1, output_type=tf.int32)
    found = tf.reduce_any(fits, axis=1)
    h = tf.cast(tf.gather(h, first, batch_dims=1), tf.int32)
    w = tf.cast(tf.gather(w, first, batch_dims=1), tf.int32)
    fallback_h, fallback_w = central_fallback(height, width, ratio)
    h = tf.where(found, h, fallback_h)
    w = tf.where(found, w, fallback_w)
    top = tf.where(found, uniform_int(keys[2], height - h), (height - h) // 2)
    left = tf.where(found, uniform_int(keys[3], width - w), (width - w) // 2)
    return top, left, h, w


def central_fallback(height, width, ratio=RATIO):
    """The box timm takes after 10 misses: the largest centred box with a ratio in range."""
    in_ratio = width / height
    if in_ratio < min(ratio):
        return round(width / min(ratio)), width
    if in_ratio > max(ratio):
        return height, round(height * max(ratio))
    return height, width


def random_resized_crop(images, key):
    """RandomResizedCrop of each image of a [B, H, W, C] batch back to H x W, clipped to [0, 1]
    as PIL's uint8 result is (bicubic overshoots)."""
    height, width = images.shape[1], images.shape[2]
    top, left, h, w = resized_crop_boxes(key, tf.shape(images)[0], height, width)

    def one(args):
        image, top_row, left_col, bh, bw = args
        box = image[top_row : top_row + bh, left_col : left_col + bw]
        return tf.image.resize(box, (height, width), method="bicubic", antialias=True)

    out = tf.map_fn(one, (images, top, left, h, w), fn_output_signature=tf.TensorSpec(images.shape[1:], tf.float32))
    return tf.clip_by_value(out, 0.0, 1.0)


def padding_for(size):
    """torchvision's CIFAR recipe pads 4 px at 32 px; other sizes pad the same fraction (1/8)."""
    return max(1, size // 8)


def padded_crop_offsets(key, batch, padding):
    """(top, left) in 0..2 x padding, as torchvision RandomCrop.get_params draws them."""
    keys = tf.random.experimental.stateless_split(key, 2)
    upper = tf.fill([batch], 2 * padding)
    return uniform_int(keys[0], upper), uniform_int(keys[1], upper)


def padded_crop(images, key, padding):
    """RandomCrop(size, padding): zero-pad each side, then a size x size window at random."""
    height, width = images.shape[1], images.shape[2]
    top, left = padded_crop_offsets(key, tf.shape(images)[0], padding)
    padded = tf.pad(images, [[0, 0], [padding, padding], [padding, padding], [0, 0]])
    rows = top[:, None] + tf.range(height)
    cols = left[:, None] + tf.range(width)
    return tf.gather(tf.gather(padded, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)

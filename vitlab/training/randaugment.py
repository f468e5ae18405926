"""timm's RandAugment as DeiT trains with it (`--aa rand-m9-mstd0.5-inc1`), op for op in TensorFlow.

Keras' RandAugment is another augmentation (11 ops, one op choice per batch, every chosen op
applied, `factor` a random strength range), so this module reproduces timm's instead. The
constants and their sources (timm commit aa4b585, timm/data/auto_augment.py; the same
definitions as v0.3.3, next to the timm 0.3.2 DeiT pins):

- ops: `_RAND_INCREASING_TRANSFORMS` (lines 641-658), 15 ops, two per image drawn with
  replacement (`RandAugment.__call__`, lines 742-752);
- each drawn op is applied with probability 0.5 (`rand_augment_transform`, line 795;
  `AugmentOp.__call__`, line 381) at magnitude N(9, 0.5) clipped to [0, 10] (lines 384-394);
- magnitude -> argument: the `_*_level_to_arg` functions (lines 206-291), a random sign
  where timm negates (line 203);
- geometry (rotate, shear, translate) resamples bicubic (DeiT's `--train-interpolation`)
  and fills with the normalisation mean in 0..255 (transforms_factory.py lines 192-197).

Images are PIL uint8 in timm; here they are float32 holding the same integers 0..255, and
every op rounds as Pillow does (ImageEnhance blends and geometry truncate, SMOOTH rounds),
so an op on an image gives Pillow's pixels (tests/test_augment_timm.py compares them).
One deliberate difference: PosterizeIncreasing at magnitude 10 keeps 0 bits, a black image,
as the Pillow of DeiT's time did; Pillow >= 12 refuses 0 bits.
"""

import math

import tensorflow as tf

OPS = (
    "AutoContrast",
    "Equalize",
    "Invert",
    "Rotate",
    "PosterizeIncreasing",
    "SolarizeIncreasing",
    "SolarizeAdd",
    "ColorIncreasing",
    "ContrastIncreasing",
    "BrightnessIncreasing",
    "SharpnessIncreasing",
    "ShearX",
    "ShearY",
    "TranslateXRel",
    "TranslateYRel",
)
NUM_OPS = 2  # ops drawn per image ('n', default 2)
MAGNITUDE = 9.0  # 'm9'
MAGNITUDE_STD = 0.5  # 'mstd0.5'
OP_PROB = 0.5  # 'p', default 0.5
LEVEL_DENOM = 10.0  # magnitudes live on [0, 10]


def fill_colour(mean):
    """timm's fill for geometry ops: the normalisation mean in 0..255, rounded as Python rounds."""
    return tuple(min(255, round(255 * m)) for m in mean)


def draw(key, batch, num_ops=NUM_OPS, magnitude=MAGNITUDE, magnitude_std=MAGNITUDE_STD):
    """Per image and layer: op index, applied?, magnitude (noisy, clipped), sign (-1 or 1)."""
    keys = tf.random.experimental.stateless_split(key, 4)
    shape = (batch, num_ops)
    ops = tf.random.stateless_uniform(shape, keys[0], minval=0, maxval=len(OPS), dtype=tf.int32)
    applied = tf.random.stateless_uniform(shape, keys[1], dtype=tf.float64) <= OP_PROB
    noise = tf.random.stateless_normal(shape, keys[2], dtype=tf.float64)
    magnitudes = tf.clip_by_value(magnitude + magnitude_std * noise, 0.0, LEVEL_DENOM)
    signs = tf.where(tf.random.stateless_uniform(shape, keys[3], dtype=tf.float64) > 0.5, -1.0, 1.0)
    return {
        "ops": ops,
        "applied": applied,
        "magnitudes": tf.cast(magnitudes, tf.float64),
        "signs": tf.cast(signs, tf.float64),
    }


def rand_augment(images, key, mean, num_ops=NUM_OPS, magnitude=MAGNITUDE, magnitude_std=MAGNITUDE_STD):
    """RandAugment on a [B, H, W, 3] batch in [0, 1]; returns [0, 1] values on the 1/255 grid."""
    pixels = tf.round(tf.clip_by_value(images, 0.0, 1.0) * 255.0)  # the uint8 image PIL would hold
    params = draw(key, tf.shape(images)[0], num_ops, magnitude, magnitude_std)
    ops = tf.where(params["applied"], params["ops"], SKIP)
    fill = tf.constant(fill_colour(mean), tf.float32)

    spec = tf.TensorSpec(images.shape[1:], tf.float32)

    def layer(batch, drawn):  # one op per image; a loop over layers builds its graph once
        return tf.map_fn(lambda args: apply_op(*args, fill), (batch, *drawn), fn_output_signature=spec)

    drawn = tuple(tf.transpose(t) for t in (ops, params["magnitudes"], params["signs"]))  # [layers, B]
    return tf.foldl(layer, drawn, initializer=pixels) / 255.0


# Ops by how they compute: a lookup table from the image's histogram, a fixed lookup table,
# a blend with a degenerate image, an affine resampling. One graph per kind (rather than per
# op) keeps building the stage short; a drawn op that is not applied takes the SKIP branch.
SKIP = len(OPS)
_KINDS = ("skip", "histogram", "table", "blend", "geometry")
_OPS_OF = {
    "histogram": ("AutoContrast", "Equalize"),
    "table": ("Invert", "PosterizeIncreasing", "SolarizeIncreasing", "SolarizeAdd"),
    "blend": ("ColorIncreasing", "ContrastIncreasing", "BrightnessIncreasing", "SharpnessIncreasing"),
    "geometry": ("Rotate", "ShearX", "ShearY", "TranslateXRel", "TranslateYRel"),
}


def _kind_of():
    kinds = [next(_KINDS.index(k) for k, names in _OPS_OF.items() if name in names) for name in OPS]
    return tf.constant(kinds + [_KINDS.index("skip")], tf.int32)


def _position(kind):
    """op index -> its position among the ops of `kind` (0 for the other ops)."""
    names = _OPS_OF[kind]
    return tf.constant([names.index(op) if op in names else 0 for op in OPS] + [0], tf.int32)


def apply_op(image, op, magnitude, sign, fill):
    """One op (index into OPS, SKIP for none) on an [H, W, 3] image of integers 0..255 at
    `magnitude` in [0, 10], with `sign` where timm negates at random."""
    op = tf.cast(op, tf.int32)
    level = tf.cast(magnitude, tf.float64) / LEVEL_DENOM
    sign = tf.cast(sign, tf.float64)
    height, width = tf.shape(image)[0], tf.shape(image)[1]

    def histogram():
        tables = tf.stack([auto_contrast_table(image), tf.cast(equalize_table(image), tf.float64)])
        return _lookup(image, tf.gather(tables, tf.gather(_position("histogram"), op)))

    def table():
        tables = tf.stack(
            [
                255.0 - _levels(),
                posterize_table(4 - tf.cast(tf.floor(level * 4), tf.int32)),
                solarize_table(256.0 - tf.minimum(tf.floor(level * 256), 256.0)),
                solarize_add_table(tf.minimum(tf.floor(level * 110), 128.0)),
            ]
        )
        return _lookup(image, tf.gather(tables, tf.gather(_position("table"), op)))

    def blend():  # _enhance_increasing_level_to_arg: 1 -+ 0.9 level, at least 0.1
        factor = tf.maximum(1.0 + sign * level * 0.9, 0.1)
        degenerates = [
            lambda: tf.repeat(grey(image)[..., None], 3, axis=-1),
            lambda: contrast_degenerate(image),
            lambda: tf.zeros_like(image),
            lambda: smooth(image),
        ]
        return _blend(tf.switch_case(tf.gather(_position("blend"), op), degenerates), image, factor)

    def geometry():
        shear, shift = sign * level * 0.3, sign * level * 0.45
        matrices = tf.stack(
            [
                rotation_matrix(sign * level * 30.0, width, height),
                _matrix(1, shear, 0, 0, 1, 0),
                _matrix(1, 0, 0, shear, 1, 0),
                _matrix(1, 0, shift * tf.cast(width, tf.float64), 0, 1, 0),
                _matrix(1, 0, 0, 0, 1, shift * tf.cast(height, tf.float64)),
            ]
        )
        return affine(image, tf.gather(matrices, tf.gather(_position("geometry"), op)), fill)

    return tf.switch_case(tf.gather(_kind_of(), op), [lambda: image, histogram, table, blend, geometry])


# --- point ops: per-channel lookup tables, as PIL's ImageOps builds them ---------------------------


def _lookup(image, table):
    """image[..., c] -> table[c, image[..., c]] for a [3, 256] table."""
    index = tf.cast(image, tf.int32) + 256 * tf.range(3)
    return tf.cast(tf.gather(tf.reshape(table, [-1]), index), tf.float32)


def _histograms(image):
    values = tf.transpose(tf.reshape(tf.cast(image, tf.int32), [-1, 3]))
    return tf.math.bincount(values, minlength=256, maxlength=256, axis=-1, dtype=tf.int64)  # [3, 256]


def auto_contrast_table(image):
    """ImageOps.autocontrast(cutoff=0): each channel stretched from its [min, max] to [0, 255]."""
    low = tf.cast(tf.reduce_min(image, axis=(0, 1)), tf.float64)[:, None]
    high = tf.cast(tf.reduce_max(image, axis=(0, 1)), tf.float64)[:, None]
    levels = tf.range(256, dtype=tf.float64)[None, :]
    scale = 255.0 / tf.maximum(high - low, 1.0)
    table = tf.clip_by_value(tf.floor(levels * scale - low * scale), 0.0, 255.0)
    return tf.where(high > low, table, levels + 0 * low)


def equalize_table(image):
    """ImageOps.equalize: each channel's cumulative histogram as the lookup table."""
    histogram = _histograms(image)
    used = tf.reduce_sum(tf.cast(histogram > 0, tf.int64), axis=1, keepdims=True)
    last_bin = 255 - tf.argmax(tf.reverse(tf.cast(histogram > 0, tf.int32), [1]), axis=1, output_type=tf.int32)
    last = tf.gather(histogram, last_bin, batch_dims=1)[:, None]
    step = (tf.reduce_sum(histogram, axis=1, keepdims=True) - last) // 255
    safe_step = tf.maximum(step, 1)
    table = (safe_step // 2 + tf.cumsum(histogram, axis=1, exclusive=True)) // safe_step
    identity = tf.range(256, dtype=tf.int64)[None, :] + 0 * step
    return tf.where((used > 1) & (step > 0), tf.minimum(table, 255), identity)


def _levels():
    return tf.tile(tf.range(256, dtype=tf.float64)[None, :], [3, 1])


def posterize_table(bits):
    """ImageOps.posterize: keep the `bits` high bits (0 bits: black)."""
    quantum = tf.cast(2 ** (8 - bits), tf.float64)
    return tf.floor(_levels() / quantum) * quantum


def solarize_table(threshold):
    levels = _levels()
    return tf.where(levels < tf.cast(threshold, tf.float64), levels, 255.0 - levels)


def solarize_add_table(add, threshold=128.0):
    levels = _levels()
    return tf.where(levels < threshold, tf.minimum(levels + tf.cast(add, tf.float64), 255.0), levels)


def auto_contrast(image):
    return _lookup(image, auto_contrast_table(image))


def equalize(image):
    return _lookup(image, equalize_table(image))


def posterize(image, bits):
    return _lookup(image, posterize_table(bits))


def solarize(image, threshold):
    return _lookup(image, solarize_table(threshold))


# --- ImageEnhance: blends with a degenerate image, truncated as ImagingBlend truncates --------------


def _blend(degenerate, image, factor):
    factor = tf.cast(factor, tf.float32)  # ImagingBlend's alpha is a C float
    return tf.floor(tf.clip_by_value(degenerate + factor * (image - degenerate), 0.0, 255.0))


def grey(image):
    """PIL's RGB -> L: (R 19595 + G 38470 + B 7471 + 0x8000) >> 16, integer arithmetic."""
    rgb = tf.cast(image, tf.int32)
    return tf.cast((rgb[..., 0] * 19595 + rgb[..., 1] * 38470 + rgb[..., 2] * 7471 + 0x8000) // 65536, tf.float32)


def color(image, factor):
    return _blend(tf.repeat(grey(image)[..., None], 3, axis=-1), image, factor)


def contrast_degenerate(image):
    """ImageEnhance.Contrast's degenerate: the grey image's mean, rounded, everywhere."""
    mean = tf.floor(tf.reduce_mean(tf.cast(grey(image), tf.float64)) + 0.5)
    return tf.fill(tf.shape(image), tf.cast(mean, tf.float32))


def contrast(image, factor):
    return _blend(contrast_degenerate(image), image, factor)


def brightness(image, factor):
    return _blend(tf.zeros_like(image), image, factor)


def smooth(image):
    """ImageFilter.SMOOTH (3x3, 1 1 1 / 1 5 1 / 1 1 1 over 13), rounded; the border row and
    column keep their pixels, as ImagingFilter3x3 leaves them."""
    centre, edge = tf.constant(5 / 13, tf.float32), tf.constant(1 / 13, tf.float32)
    height = tf.shape(image)[0]

    def row(y):  # the three taps of one kernel row, summed left to right as KERNEL1x3
        r = image[y : height - 2 + y]
        return r[:, :-2] * edge + r[:, 1:-1] * (centre if y == 1 else edge) + r[:, 2:] * edge

    inner = tf.floor(tf.clip_by_value(0.5 + row(2) + row(1) + row(0), 0.0, 255.0))
    inner = tf.concat([image[1:-1, :1], inner, image[1:-1, -1:]], axis=1)
    return tf.concat([image[:1], inner, image[-1:]], axis=0)


def sharpness(image, factor):
    return _blend(smooth(image), image, factor)


# --- geometry: Pillow's affine transform with its bicubic (a = -1) filter ---------------------------


def _matrix(a, b, c, d, e, f):
    # Python numbers straight to float64 (tf.cast of a Python float goes through float32)
    return tf.stack(
        [tf.cast(v, tf.float64) if tf.is_tensor(v) else tf.constant(v, tf.float64) for v in (a, b, c, d, e, f)]
    )


def _round15(value):
    """Python's round(value, 15), as Pillow rounds the rotation's cosine and sine."""
    return tf.round(value * 1e15) / 1e15


def rotation_matrix(degrees, width, height):
    """Image.rotate(degrees) about the centre, as the matrix Pillow hands to transform."""
    angle = -tf.math.floormod(degrees, 360.0) * (math.pi / 180.0)  # Pillow: -math.radians(angle % 360)
    cos, sin = _round15(tf.cos(angle)), _round15(tf.sin(angle))
    cx, cy = tf.cast(width, tf.float64) / 2, tf.cast(height, tf.float64) / 2
    return _matrix(cos, sin, -cos * cx - sin * cy + cx, -sin, cos, sin * cx - cos * cy + cy)


def _cubic(v1, v2, v3, v4, d):
    """Pillow Geometry.c BICUBIC (cubic convolution, a = -1) in its own Horner order, taps at
    -1, 0, 1, 2 of the sample point, so the truncation below lands where Pillow's does."""
    return v2 + d * ((-v1 + v3) + d * ((2 * (v1 - v2) + v3 - v4) + d * (-v1 + v2 - v3 + v4)))


def affine(image, matrix, fill):
    """Image.transform(AFFINE, matrix, BICUBIC, fillcolor=fill): output pixel centre (x, y)
    samples the input at matrix . (x, y, 1); outside the input it takes the fill colour."""
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    ys, xs = tf.meshgrid(
        tf.range(height, dtype=tf.float64) + 0.5, tf.range(width, dtype=tf.float64) + 0.5, indexing="ij"
    )
    x_in = matrix[0] * xs + matrix[1] * ys + matrix[2]
    y_in = matrix[3] * xs + matrix[4] * ys + matrix[5]
    inside = (x_in >= 0) & (x_in < tf.cast(width, tf.float64)) & (y_in >= 0) & (y_in < tf.cast(height, tf.float64))
    x_in, y_in = x_in - 0.5, y_in - 0.5
    x0, y0 = tf.floor(x_in), tf.floor(y_in)
    taps = tf.range(-1, 3, dtype=tf.int32)
    cols = tf.clip_by_value(tf.cast(x0, tf.int32)[..., None] + taps, 0, width - 1)  # [H, W, 4]
    rows = tf.clip_by_value(tf.cast(y0, tf.int32)[..., None] + taps, 0, height - 1)
    index = rows[..., :, None] * width + cols[..., None, :]  # [H, W, 4, 4]
    values = tf.cast(tf.gather(tf.reshape(image, [-1, 3]), index), tf.float64)  # [H, W, 4, 4, 3]
    dx, dy = (x_in - x0)[..., None, None], (y_in - y0)[..., None]
    across = _cubic(values[..., 0, :], values[..., 1, :], values[..., 2, :], values[..., 3, :], dx)  # each row
    sampled = _cubic(across[..., 0, :], across[..., 1, :], across[..., 2, :], across[..., 3, :], dy)  # then down
    sampled = tf.cast(tf.floor(tf.clip_by_value(sampled, 0.0, 255.0)), tf.float32)
    return tf.where(inside[..., None], sampled, tf.broadcast_to(fill, tf.shape(image)))

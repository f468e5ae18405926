"""MixUp / CutMix as DeiT mixes: timm Mixup(mixup_alpha=0.8, cutmix_alpha=1.0, prob=1.0,
switch_prob=0.5, mode='batch', correct_lam=True, label_smoothing=0.1) (deit main.py lines
128-139 and 254-260).

timm (commit aa4b585, timm/data/mixup.py; the same in v0.3.3): one lambda per batch
(`_params_per_batch`, lines 141-157): CutMix with probability switch_prob when both are on,
lambda ~ Beta(alpha, alpha) of the chosen one. The batch is mixed with itself reversed
(`x.flip(0)`, lines 196-207): MixUp blends lam x + (1 - lam) x_flipped; CutMix pastes a box
of x_flipped whose side is int(side x sqrt(1 - lam)) around a uniform centre, clipped to the
image (`rand_bbox`, lines 30-51), and lambda becomes 1 - box area / image area
(`cutmix_bbox_and_lam`, lines 77-87). Targets are lam y + (1 - lam) y_flipped of the
label-smoothed one-hots (`mixup_target`, lines 22-27).

Keras' MixUp and CutMix differ: a lambda per image, a random permutation as partner, and
CutMix's `factor` draws alpha itself from U(0, factor) (keras/src/layers/preprocessing/
image_preprocessing/cut_mix.py), so they are not used. timm mixes normalised tensors;
mixing is affine, so mixing pixels before the model normalises gives the same input.
"""

import tensorflow as tf

SWITCH_PROB = 0.5  # --mixup-switch-prob
MIX_PROB = 1.0  # --mixup-prob: every batch is mixed


def beta(key, alpha):
    """A Beta(alpha, alpha) draw as the ratio of two Gamma(alpha) draws."""
    keys = tf.random.experimental.stateless_split(key, 2)
    a = tf.random.stateless_gamma((), keys[0], alpha=alpha, dtype=tf.float64)
    b = tf.random.stateless_gamma((), keys[1], alpha=alpha, dtype=tf.float64)
    return a / tf.maximum(a + b, 1e-300)


def draw(key, mixup_alpha, cutmix_alpha, switch_prob=SWITCH_PROB):
    """(use_cutmix, lam) for one batch, as timm's _params_per_batch with prob 1."""
    keys = tf.random.experimental.stateless_split(key, 3)
    if mixup_alpha > 0 and cutmix_alpha > 0:
        use_cutmix = tf.random.stateless_uniform((), keys[0], dtype=tf.float64) < switch_prob
    else:
        use_cutmix = tf.constant(cutmix_alpha > 0)
    lam = tf.where(use_cutmix, beta(keys[1], max(cutmix_alpha, 1e-3)), beta(keys[2], max(mixup_alpha, 1e-3)))
    return use_cutmix, lam


def cutmix_box(lam, centre_y, centre_x, height, width):
    """timm's rand_bbox with margin 0: (y low, y high, x low, x high) of the pasted box, int32."""
    ratio = tf.sqrt(1.0 - tf.cast(lam, tf.float64))
    cut_h = tf.cast(tf.floor(height * ratio), tf.int32)
    cut_w = tf.cast(tf.floor(width * ratio), tf.int32)
    y_low = tf.clip_by_value(centre_y - cut_h // 2, 0, height)
    y_high = tf.clip_by_value(centre_y + cut_h // 2, 0, height)
    x_low = tf.clip_by_value(centre_x - cut_w // 2, 0, width)
    x_high = tf.clip_by_value(centre_x + cut_w // 2, 0, width)
    return y_low, y_high, x_low, x_high


def mix(images, targets, key, mixup_alpha, cutmix_alpha, switch_prob=SWITCH_PROB):
    """Mix a batch of [B, H, W, C] images and [B, K] soft targets with the batch reversed.
    Returns (images, targets, lam) with lam the weight the targets got (box-corrected)."""
    height, width = images.shape[1], images.shape[2]
    use_cutmix, lam = draw(key, mixup_alpha, cutmix_alpha, switch_prob)
    keys = tf.random.experimental.stateless_split(tf.random.experimental.stateless_fold_in(key, 1), 2)
    centre_y = tf.random.stateless_uniform((), keys[0], 0, height, tf.int32)  # np.random.randint(0, H)
    centre_x = tf.random.stateless_uniform((), keys[1], 0, width, tf.int32)
    y_low, y_high, x_low, x_high = cutmix_box(lam, centre_y, centre_x, height, width)
    flipped = tf.reverse(images, [0])

    def cutmix():
        rows = tf.range(height)[:, None]
        cols = tf.range(width)[None, :]
        box = (rows >= y_low) & (rows < y_high) & (cols >= x_low) & (cols < x_high)
        return tf.where(box[None, :, :, None], flipped, images)

    def mixup():
        weight = tf.cast(lam, images.dtype)
        return images * weight + flipped * (1.0 - weight)

    mixed = tf.cond(use_cutmix, cutmix, mixup)
    box_lam = 1.0 - tf.cast((y_high - y_low) * (x_high - x_low), tf.float64) / float(height * width)
    lam = tf.where(use_cutmix, box_lam, lam)
    weight = tf.cast(lam, targets.dtype)
    return mixed, targets * weight + tf.reverse(targets, [0]) * (1.0 - weight), lam

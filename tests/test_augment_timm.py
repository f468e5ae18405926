"""vitlab's "deit" augmentation against timm's definitions: statistics of each draw on fixed
keys against the distribution timm's code gives (a Python transcription of it, run here with
its own RNG), and RandAugment's ops pixel for pixel against Pillow called as timm calls it.

Tolerances are 4-5 standard errors (or a KS test at alpha 0.001), so a wrong distribution
(Keras' RandomErasing erases with probability U(0, p), not p; its MixUp draws per image)
fails them while the right one does not, whatever the keys."""

import math
import random

import numpy as np
import pytest
import tensorflow as tf

from vitlab.training import crops, erasing, mixing, randaugment
from vitlab.training.recipe_sections import AugmentSection

N = 2000


def key(*values):
    return tf.constant(values, tf.int64)


def ks_statistic(a, b):
    """Two-sample Kolmogorov-Smirnov distance, and its critical value at alpha = 0.001."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    distance = np.abs(np.searchsorted(a, grid, "right") / len(a) - np.searchsorted(b, grid, "right") / len(b)).max()
    return distance, 1.95 * math.sqrt((len(a) + len(b)) / (len(a) * len(b)))


# --- presets ------------------------------------------------------------------------------------


def test_presets_fill_unset_fields_and_written_fields_win():
    from vitlab.config import ConfigError, build

    deit = AugmentSection(preset="deit").validate()
    assert (
        deit.crop,
        deit.flip,
        deit.rand_augment,
        deit.rand_augment_ops,
        deit.rand_augment_magnitude,
        deit.rand_augment_magnitude_std,
        deit.mixup_alpha,
        deit.cutmix_alpha,
        deit.erasing_prob,
        deit.repeats,
        deit.label_smoothing,
    ) == ("auto", True, True, 2, 9.0, 0.5, 0.8, 1.0, 0.25, 3, 0.1)
    ablation = build(AugmentSection, {"preset": "deit", "cutmix_alpha": 0, "erasing_prob": 0.0})
    assert (ablation.cutmix_alpha, ablation.erasing_prob, ablation.mixup_alpha, ablation.rand_augment) == (
        0.0,
        0.0,
        0.8,
        True,
    )
    basic = build(AugmentSection, overrides=["preset=basic"])
    assert (basic.crop, basic.flip, basic.label_smoothing, basic.rand_augment, basic.mixup_alpha, basic.repeats) == (
        "auto",
        True,
        0.1,
        False,
        0.0,
        1,
    )
    plain = AugmentSection().validate()
    assert (plain.crop, plain.flip, plain.erasing_prob, plain.repeats) == ("none", False, 0.0, 1)
    for bad in ({"preset": "timm"}, {"crop": "centre"}, {"rand_augment_magnitude": 11.0}):
        with pytest.raises(ConfigError):
            build(AugmentSection, bad)


def test_crop_auto_follows_deit_datasets_rule():
    from vitlab.training.augment import crop_kind

    config = AugmentSection(preset="deit").validate()
    assert (crop_kind(config, 32), crop_kind(config, 64), crop_kind(config, 224)) == (
        "padded",
        "random_resized",
        "random_resized",
    )
    assert (crops.padding_for(32), crops.padding_for(64)) == (4, 8)


# --- random erasing -----------------------------------------------------------------------------


def timm_erasing_area(rng, height, width, probability=0.25):
    """timm RandomErasing._erase with max_count 1: the erased fraction of the image (0: none)."""
    if rng.random() > probability:
        return 0.0
    area = height * width
    for _ in range(10):
        target = rng.uniform(0.02, 1 / 3) * area
        aspect = math.exp(rng.uniform(math.log(0.3), math.log(1 / 0.3)))
        h, w = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
        if w < width and h < height:
            return h * w / area
    return 0.0


def test_erasing_probability_area_and_fill_follow_timm():
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    images = tf.fill((N, 8, 8, 3), 0.5)
    out = erasing.random_erasing(images, key(3, 1), 0.25, mean, std).numpy()
    changed = out != 0.5
    ours = changed.any(axis=-1).mean(axis=(1, 2))  # the erased fraction of each image
    rng = random.Random(0)
    theirs = np.array([timm_erasing_area(rng, 8, 8) for _ in range(20 * N)])
    rate = (theirs > 0).mean()
    assert abs((ours > 0).mean() - rate) < 4 * math.sqrt(rate * (1 - rate) / N)  # ~0.25 (Keras' factor: ~0.125)
    erased, top, left, h, w = (t.numpy() for t in erasing.erasing_boxes(key(3, 1), N, 8, 8, 0.25))
    np.testing.assert_allclose(ours, h * w / 64)  # the boxes drawn are the pixels changed
    assert ((top + h <= 8) & (left + w <= 8) & (h < 8) & (w < 8)).all()
    erased, top, left, h, w = (t.numpy() for t in erasing.erasing_boxes(key(3, 2), 10 * N, 16, 16, 1.0))
    theirs = np.array([timm_erasing_area(rng, 16, 16, 1.0) for _ in range(10 * N)])
    distance, critical = ks_statistic((h * w / 256)[erased], theirs[theirs > 0])  # the erased-area distribution
    assert distance < critical, (distance, critical)
    assert ((top + h <= 16) & (left + w <= 16)).all() and abs(np.mean(top + h / 2) - 8) < 0.1
    normalised = (out - np.array(mean)) / np.array(std)
    fill = normalised[changed]  # what the model sees: N(0, 1), as timm's 'pixel' mode
    assert abs(fill.mean()) < 5 / math.sqrt(fill.size) and abs(fill.std() - 1) < 5 / math.sqrt(2 * fill.size)
    for channel in range(3):
        values = out[..., channel][changed[..., channel]]
        assert abs(values.mean() - mean[channel]) < 5 * std[channel] / math.sqrt(values.size)
    assert (out < 0).any() and (out > 1).any()  # not clipped to [0, 1]


# --- MixUp / CutMix -----------------------------------------------------------------------------


def many_draws(mixup_alpha, cutmix_alpha):
    keys = tf.stack([tf.fill([N], tf.constant(5, tf.int64)), tf.range(N, dtype=tf.int64)], axis=1)
    draw = tf.function(
        lambda ks: tf.map_fn(
            lambda k: mixing.draw(k, mixup_alpha, cutmix_alpha), ks, fn_output_signature=(tf.bool, tf.float64)
        ),
        autograph=False,
    )
    use_cutmix, lam = draw(keys)
    return use_cutmix.numpy(), lam.numpy()


def test_one_lambda_per_batch_from_the_chosen_beta_and_the_switch_rate():
    use_cutmix, lam = many_draws(0.8, 1.0)
    assert abs(use_cutmix.mean() - 0.5) < 4 * math.sqrt(0.25 / N)
    for chosen, alpha in ((~use_cutmix, 0.8), (use_cutmix, 1.0)):
        values, n = lam[chosen], chosen.sum()
        variance = 1 / (4 * (2 * alpha + 1))  # Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1))
        assert abs(values.mean() - 0.5) < 4 * math.sqrt(variance / n)
        fourth = 3 / (16 * (2 * alpha + 1) * (2 * alpha + 3))  # E(lam - 1/2)^4 of Beta(a, a)
        assert abs(values.var() - variance) < 4 * math.sqrt((fourth - variance**2) / n)
    only_mixup, lam_mixup = many_draws(0.8, 0.0)
    assert not only_mixup.any() and abs(lam_mixup.var() - 1 / 10.4) < 0.01
    only_cutmix, _ = many_draws(0.0, 1.0)
    assert only_cutmix.all()


def timm_rand_bbox(lam, cy, cx, height, width):
    ratio = np.sqrt(1 - lam)
    cut_h, cut_w = int(height * ratio), int(width * ratio)
    return (
        np.clip(cy - cut_h // 2, 0, height),
        np.clip(cy + cut_h // 2, 0, height),
        np.clip(cx - cut_w // 2, 0, width),
        np.clip(cx + cut_w // 2, 0, width),
    )


def test_cutmix_box_is_timms_and_lambda_is_corrected_to_its_area():
    for lam in (0.05, 0.3, 0.5, 0.77, 0.999):
        for cy, cx in ((0, 0), (3, 7), (7, 2), (5, 5)):
            box = [int(v) for v in mixing.cutmix_box(tf.constant(lam, tf.float64), cy, cx, 8, 8)]
            assert box == [int(v) for v in timm_rand_bbox(lam, cy, cx, 8, 8)], (lam, cy, cx)
    images = tf.reshape(tf.range(4, dtype=tf.float32), (4, 1, 1, 1)) * tf.ones((4, 16, 16, 3))
    targets = tf.one_hot(tf.range(4), 4)

    def one(k):  # image 0 takes its box from image 3 (the reversed batch)
        mixed, mixed_targets, lam = mixing.mix(images, targets, k, 0.0, 1.0)
        pasted = tf.reduce_mean(tf.cast(mixed[0, ..., 0] == 3, tf.float64))
        return pasted, tf.cast(mixed_targets[0, 3], tf.float64), lam

    keys = tf.stack([tf.fill([N], tf.constant(9, tf.int64)), tf.range(N, dtype=tf.int64)], axis=1)
    pasted, weight, corrected = (
        t.numpy()
        for t in tf.function(lambda ks: tf.map_fn(one, ks, fn_output_signature=(tf.float64,) * 3), autograph=False)(
            keys
        )
    )
    np.testing.assert_allclose(pasted, 1 - corrected, atol=1e-9)
    np.testing.assert_allclose(weight, 1 - corrected, atol=1e-6)
    rng = np.random.default_rng(0)
    theirs = []
    for lam in rng.beta(1.0, 1.0, 20000):
        yl, yh, xl, xh = timm_rand_bbox(lam, rng.integers(0, 16), rng.integers(0, 16), 16, 16)
        theirs.append(1 - (yh - yl) * (xh - xl) / 256)
    distance, critical = ks_statistic(corrected, np.array(theirs))
    assert distance < critical, (distance, critical)


def test_mixup_targets_are_the_pixel_mix_with_the_reversed_batch():
    images = tf.reshape(tf.constant([0.0, 0.1, 0.6, 0.9]), (4, 1, 1, 1)) * tf.ones((4, 8, 8, 3))
    smoothing, classes = 0.1, 5
    targets = tf.one_hot(tf.range(4), classes) * (1 - smoothing) + smoothing / classes
    for index in range(20):
        mixed, mixed_targets, lam = mixing.mix(images, targets, key(2, index), 0.8, 0.0)
        values = mixed.numpy()[:, 0, 0, 0]
        lam = float(lam)
        np.testing.assert_allclose(
            values, lam * np.array([0, 0.1, 0.6, 0.9]) + (1 - lam) * np.array([0.9, 0.6, 0.1, 0]), atol=1e-6
        )
        expected = lam * targets.numpy() + (1 - lam) * targets.numpy()[::-1]
        np.testing.assert_allclose(mixed_targets.numpy(), expected, atol=1e-6)
        assert mixed_targets.numpy()[0, 0] == pytest.approx(lam * (0.9 + 0.02) + (1 - lam) * 0.02, abs=1e-6)


# --- RandAugment --------------------------------------------------------------------------------

TIMM_INCREASING = [
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
]


def test_rand_augment_draws_timms_ops_probability_and_magnitudes():
    assert list(randaugment.OPS) == TIMM_INCREASING  # auto_augment.py _RAND_INCREASING_TRANSFORMS
    params = {k: v.numpy() for k, v in randaugment.draw(key(4, 0), N).items()}
    assert params["ops"].shape == (N, 2)
    counts = np.bincount(params["ops"].ravel(), minlength=15)
    expected = 2 * N / 15
    assert ((counts - expected) ** 2 / expected).sum() < 36.1  # chi-square, 14 dof, alpha 0.001
    assert abs(params["applied"].mean() - 0.5) < 4 * math.sqrt(0.25 / (2 * N))
    assert abs((params["signs"] < 0).mean() - 0.5) < 4 * math.sqrt(0.25 / (2 * N))
    magnitudes = params["magnitudes"].ravel()
    at_ten = 0.5 * math.erfc(2 / math.sqrt(2))  # P(N(9, 0.5) > 10), clipped to 10
    assert magnitudes.min() >= 0 and magnitudes.max() == 10.0
    assert abs((magnitudes == 10).mean() - at_ten) < 4 * math.sqrt(at_ten / (2 * N))
    clipped_mean = 9 - 0.5 * (math.exp(-2) / math.sqrt(2 * math.pi) - 2 * at_ten)  # E min(N(9, .5), 10)
    assert abs(magnitudes.mean() - clipped_mean) < 4 * 0.5 / math.sqrt(2 * N)


def timm_op(name, image, magnitude, sign, fill):
    """timm's AugmentOp for `name` at `magnitude` (no noise), the sign forced: Pillow calls."""
    from PIL import Image, ImageEnhance, ImageOps

    level = magnitude / 10
    enhance = max(0.1, 1.0 + sign * level * 0.9)
    affine = {"resample": Image.BICUBIC, "fillcolor": fill}
    lut = [min(255, i + min(128, int(level * 110))) if i < 128 else i for i in range(256)]
    bits = 4 - int(level * 4)
    return {
        "AutoContrast": lambda: ImageOps.autocontrast(image),
        "Equalize": lambda: ImageOps.equalize(image),
        "Invert": lambda: ImageOps.invert(image),
        "Rotate": lambda: image.rotate(sign * level * 30, **affine),
        "PosterizeIncreasing": lambda: ImageOps.posterize(image, bits) if bits else Image.new("RGB", image.size),
        "SolarizeIncreasing": lambda: ImageOps.solarize(image, 256 - min(256, int(level * 256))),
        "SolarizeAdd": lambda: image.point(lut * 3),
        "ColorIncreasing": lambda: ImageEnhance.Color(image).enhance(enhance),
        "ContrastIncreasing": lambda: ImageEnhance.Contrast(image).enhance(enhance),
        "BrightnessIncreasing": lambda: ImageEnhance.Brightness(image).enhance(enhance),
        "SharpnessIncreasing": lambda: ImageEnhance.Sharpness(image).enhance(enhance),
        "ShearX": lambda: image.transform(image.size, Image.AFFINE, (1, sign * level * 0.3, 0, 0, 1, 0), **affine),
        "ShearY": lambda: image.transform(image.size, Image.AFFINE, (1, 0, 0, sign * level * 0.3, 1, 0), **affine),
        "TranslateXRel": lambda: image.transform(
            image.size, Image.AFFINE, (1, 0, sign * level * 0.45 * image.size[0], 0, 1, 0), **affine
        ),
        "TranslateYRel": lambda: image.transform(
            image.size, Image.AFFINE, (1, 0, 0, 0, 1, sign * level * 0.45 * image.size[1]), **affine
        ),
    }[name]()


@pytest.mark.parametrize("name", TIMM_INCREASING)
def test_each_rand_augment_op_gives_pillows_pixels(name):
    from PIL import Image

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (16, 12, 3), dtype=np.uint8)
    pixels[:6] = rng.integers(60, 190, (6, 12, 3))  # a narrower band: autocontrast and equalize move it
    fill = randaugment.fill_colour((0.485, 0.456, 0.406))
    assert fill == (124, 116, 104)
    for magnitude, sign in ((9.0, 1.0), (6.3, -1.0), (10.0, 1.0)):
        ours = randaugment.apply_op(
            tf.constant(pixels, tf.float32),
            TIMM_INCREASING.index(name),
            tf.constant(magnitude, tf.float64),
            tf.constant(sign, tf.float64),
            tf.constant(fill, tf.float32),
        )
        theirs = np.asarray(timm_op(name, Image.fromarray(pixels), magnitude, sign, fill))
        np.testing.assert_array_equal(ours.numpy().astype(np.uint8), theirs, err_msg=f"{name} m={magnitude}")


def test_rand_augment_batch_stays_on_the_uint8_grid_and_changes_about_three_quarters():
    images = tf.random.stateless_uniform((64, 8, 8, 3), key(1, 1))
    out = tf.function(randaugment.rand_augment, autograph=False)(images, key(6, 0), (0.5, 0.5, 0.5)).numpy()
    np.testing.assert_allclose(out * 255, np.round(out * 255), atol=1e-4)
    assert out.min() >= 0 and out.max() <= 1
    quantised = np.round(images.numpy() * 255) / 255
    params = randaugment.draw(key(6, 0), 64)
    untouched = ~params["applied"].numpy().any(axis=1)  # both ops skipped: 1/4 of the images
    np.testing.assert_allclose(out[untouched], quantised[untouched], atol=1e-6)
    assert (np.abs(out - quantised).max(axis=(1, 2, 3)) > 0)[~untouched].mean() > 0.8


# --- crops --------------------------------------------------------------------------------------


def timm_resized_crop(rng, height, width, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)):
    area = height * width
    for _ in range(10):
        target = rng.uniform(*scale) * area
        aspect = math.exp(rng.uniform(math.log(ratio[0]), math.log(ratio[1])))
        w, h = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
        if w <= width and h <= height:
            return h, w
    return height, width


def test_random_resized_crop_areas_and_ratios_follow_timm():
    top, left, h, w = (t.numpy() for t in crops.resized_crop_boxes(key(8, 0), N, 32, 32))
    assert ((top >= 0) & (left >= 0) & (top + h <= 32) & (left + w <= 32) & (h >= 1) & (w >= 1)).all()
    rng = random.Random(0)
    theirs = np.array([timm_resized_crop(rng, 32, 32) for _ in range(20 * N)])
    for ours_values, their_values in (
        (h * w / 1024, theirs[:, 0] * theirs[:, 1] / 1024),
        (np.log(w / h), np.log(theirs[:, 1] / theirs[:, 0])),
    ):
        distance, critical = ks_statistic(ours_values, their_values)
        assert distance < critical, (distance, critical)
    fallback = (theirs[:, 0] == 32) & (theirs[:, 1] == 32)
    assert abs(((h == 32) & (w == 32)).mean() - fallback.mean()) < 5 * math.sqrt(fallback.mean() / N) + 1e-3
    images = tf.random.stateless_uniform((4, 32, 32, 3), key(1, 2))
    out = crops.random_resized_crop(images, key(8, 1)).numpy()
    assert out.shape == (4, 32, 32, 3) and out.min() >= 0 and out.max() <= 1


def test_padded_crop_is_torchvisions_random_crop():
    images = tf.random.stateless_uniform((N, 8, 8, 1), key(1, 3))
    out = crops.padded_crop(images, key(7, 0), 2).numpy()
    top, left = (t.numpy() for t in crops.padded_crop_offsets(key(7, 0), N, 2))
    counts = np.bincount(top, minlength=5)
    assert len(counts) == 5 and ((counts - N / 5) ** 2 / (N / 5)).sum() < 18.5  # uniform on 0..4, 4 dof
    padded = np.pad(images.numpy(), ((0, 0), (2, 2), (2, 2), (0, 0)))
    for i in range(0, N, 97):
        np.testing.assert_array_equal(out[i], padded[i, top[i] : top[i] + 8, left[i] : left[i] + 8])


# --- the stage in tf.data -----------------------------------------------------------------------


def deit_batches(parallel=False):
    from vitlab.data.dataset import from_arrays
    from vitlab.training.augment import training_batches

    rng = np.random.default_rng(0)
    data = from_arrays(rng.random((12, 32, 32, 3), dtype=np.float32), np.arange(12) % 4, batch_size=4)
    config = AugmentSection(preset="deit", parallel=parallel)
    return [
        (x.numpy(), y.numpy())
        for x, y in training_batches(
            data.pipeline, config, 4, 6, seed=0, shuffle_buffer=0, mean=(0.5,) * 3, std=(0.25,) * 3
        ).take(3)
    ]


def test_deit_stage_is_keyed_by_position_whatever_the_parallelism():
    """Parallel calls race for nothing: every draw is a function of (seed, position)."""
    sequential, parallel = deit_batches(), deit_batches(parallel=True)
    for (x, y), (x2, y2) in zip(sequential, parallel):
        np.testing.assert_array_equal(x, x2)
        np.testing.assert_array_equal(y, y2)
        assert x.shape == (6, 32, 32, 3) and y.shape == (6, 4)
        np.testing.assert_allclose(y.sum(1), 1.0, atol=1e-5)


def test_a_stream_started_at_batch_k_is_the_uninterrupted_streams_from_k():
    """A resume builds the stream at its batch (nothing augmented to be thrown away); with DeiT's
    draws, shuffling and repeats it must be the same batches an uninterrupted run reads."""
    from vitlab.data.dataset import from_arrays
    from vitlab.training.augment import training_batches

    rng = np.random.default_rng(1)
    data = from_arrays(rng.random((20, 32, 32, 3), dtype=np.float32), np.arange(20) % 4, batch_size=5)
    config = AugmentSection(preset="deit")

    def stream(start, count):
        batches = training_batches(data.pipeline, config, 4, 6, seed=2, shuffle_buffer=8, count=20, start=start)
        return [(x.numpy(), y.numpy()) for x, y in batches.take(count)]

    whole, resumed = stream(0, 6), stream(4, 2)  # 6 batches of 6 from 20 images: past one pass
    assert not np.array_equal(whole[0][0], whole[1][0])
    for (x, y), (x2, y2) in zip(whole[4:], resumed, strict=True):
        np.testing.assert_array_equal(x, x2)
        np.testing.assert_array_equal(y, y2)

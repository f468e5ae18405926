"""mCE normalisation: AlexNet's published ImageNet-C errors, and which baseline a run uses.

Hendrycks & Dietterich (ICLR 2019) normalise each corruption's error (summed over the five
severities) by AlexNet's. The 15 per-corruption means below are the table distributed with
their evaluation code and copied by AugMix (google-research/augmix imagenet.py, ALEXNET_ERR,
"Raw AlexNet errors taken from https://github.com/hendrycks/robustness"); the paper reports
mCE normalised this way. On data without ImageNet's 1000 classes no AlexNet errors exist,
so a named baseline model is evaluated in the same pass instead.
"""

IMAGENET_CLASSES = 1000

# The released set: each ImageNet val image was resized to 256, centre-cropped to 224 and
# corrupted (hendrycks/robustness ImageNet-C/create_c/make_imagenet_c.py line 583), then
# saved as JPEG quality 85 (line 119); test.py reads it with CenterCrop(224) alone (line 244)
# and the clean images with Resize(256) + CenterCrop(224) (line 211).
RELEASED_SIZE = 224
RELEASED_JPEG_QUALITY = 85

# Where a run's corrupted images came from (result config `corruption_images`, run.json facts).
IMAGES_RELEASED = "imagenet_c"
IMAGES_PREPARED = "vitlab_prepared"
IMAGES_ON_THE_FLY = "vitlab_on_the_fly"
IMAGES_LABELS = {
    IMAGES_RELEASED: "released ImageNet-C files",
    IMAGES_PREPARED: "vitlab's corruptions, prepared set",
    IMAGES_ON_THE_FLY: "vitlab's corruptions, made on the fly",
}
NOT_RELEASED_NOTE = (
    "these are vitlab's corruptions (re-implemented filters, no JPEG save), not the released "
    "ImageNet-C files: errors, and CE / mCE against AlexNet's errors on the released files, are "
    "not comparable with published ImageNet-C numbers (use imagenet_c=DIR for those)"
)

# Mean top-1 error over severities 1-5, in AugMix's CORRUPTIONS order.
ALEXNET_MEAN_ERRORS = {
    "gaussian_noise": 0.886428,
    "shot_noise": 0.894468,
    "impulse_noise": 0.922640,
    "defocus_blur": 0.819880,
    "glass_blur": 0.826268,
    "motion_blur": 0.785948,
    "zoom_blur": 0.798360,
    "snow": 0.866816,
    "frost": 0.826572,
    "fog": 0.819324,
    "brightness": 0.564592,
    "contrast": 0.853204,
    "elastic_transform": 0.646056,
    "pixelate": 0.717840,
    "jpeg_compression": 0.606500,
}
ALEXNET = "alexnet"

# Per severity 1..5, as distributed with the ImageNet-C evaluation code; each row's mean is the
# table above (tests/test_protocol_core.py checks both).
ALEXNET_ERRORS = {
    "gaussian_noise": (0.69528, 0.82542, 0.93554, 0.98138, 0.99452),
    "shot_noise": (0.71224, 0.85108, 0.93574, 0.98182, 0.99146),
    "impulse_noise": (0.78374, 0.89808, 0.9487, 0.9872, 0.99548),
    "defocus_blur": (0.65624, 0.73202, 0.85036, 0.91364, 0.94714),
    "glass_blur": (0.64308, 0.75054, 0.88806, 0.91622, 0.93344),
    "motion_blur": (0.5843, 0.70048, 0.82108, 0.8975, 0.92638),
    "zoom_blur": (0.70008, 0.76992, 0.80784, 0.84198, 0.87198),
    "snow": (0.71726, 0.88392, 0.86468, 0.9187, 0.94952),
    "frost": (0.6139, 0.79734, 0.8879, 0.89942, 0.9343),
    "fog": (0.67474, 0.7605, 0.84378, 0.8726, 0.945),
    "brightness": (0.4514, 0.48502, 0.54048, 0.62166, 0.7244),
    "contrast": (0.64548, 0.7615, 0.88874, 0.9776, 0.9927),
    "elastic_transform": (0.52596, 0.70116, 0.55686, 0.64076, 0.80554),
    "pixelate": (0.52218, 0.5462, 0.73728, 0.87092, 0.91262),
    "jpeg_compression": (0.51002, 0.54718, 0.57294, 0.65458, 0.74778),
}
# AlexNet's clean top-1 error (43.5% in the ImageNet-C paper's Table 1): the relative-mCE baseline.
ALEXNET_CLEAN_ERROR = 0.4348


def mce_baseline(num_classes, requested=None, models=()):
    """(baseline, label): which errors normalise CE, and how results and reports name them.

    requested: None/"" (the rule), "alexnet", "none", or a model name. The rule: AlexNet's
    published errors on 1000-class data; otherwise the first CNN among `models` ((name, kind)
    pairs), evaluated in the same pass; None when there is none (unnormalised errors only).
    """
    choice = (requested or "").strip()
    if choice.lower() == ALEXNET or (not choice and int(num_classes) == IMAGENET_CLASSES):
        return ALEXNET, "AlexNet, published ImageNet-C errors (Hendrycks & Dietterich 2019)"
    if choice.lower() == "none":
        return None, "none: unnormalised errors only"
    if choice:
        return choice, f"{choice} (baseline model, evaluated in the same pass)"
    cnns = [name for name, kind in models if kind == "cnn"]
    if cnns:
        return cnns[0], (
            f"{cnns[0]} (baseline model: first CNN of the run; the data has {num_classes} "
            f"classes, not ImageNet's {IMAGENET_CLASSES})"
        )
    return None, "none: no AlexNet errors for this data and no CNN in the run; unnormalised errors only"

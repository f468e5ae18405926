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
IMAGES_LABELS = {IMAGES_RELEASED: "released ImageNet-C files",
                 IMAGES_PREPARED: "vitlab's corruptions, prepared set",
                 IMAGES_ON_THE_FLY: "vitlab's corruptions, made on the fly"}
NOT_RELEASED_NOTE = ("these are vitlab's corruptions (re-implemented filters, no JPEG save), not the released "
                     "ImageNet-C files: errors, and CE / mCE against AlexNet's errors on the released files, are "
                     "not comparable with published ImageNet-C numbers (use imagenet_c=DIR for those)")

# Mean top-1 error over severities 1-5, in AugMix's CORRUPTIONS order.
ALEXNET_MEAN_ERRORS = {
    "gaussian_noise": 0.886428, "shot_noise": 0.894468, "impulse_noise": 0.922640,
    "defocus_blur": 0.819880, "glass_blur": 0.826268, "motion_blur": 0.785948, "zoom_blur": 0.798360,
    "snow": 0.866816, "frost": 0.826572, "fog": 0.819324, "brightness": 0.564592,
    "contrast": 0.853204, "elastic_transform": 0.646056, "pixelate": 0.717840, "jpeg_compression": 0.606500,
}
ALEXNET = "alexnet"


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
        return cnns[0], (f"{cnns[0]} (baseline model: first CNN of the run; the data has {num_classes} "
                         f"classes, not ImageNet's {IMAGENET_CLASSES})")
    return None, "none: no AlexNet errors for this data and no CNN in the run; unnormalised errors only"

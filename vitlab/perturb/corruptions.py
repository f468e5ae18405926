"""ImageNet-C corruptions (Hendrycks & Dietterich 2019) as pure array functions, plus the
corruption-error arithmetic (CE, mCE, relative mCE).

The pixel work is imagecorruptions-imaug's (the maintained fork of the ImageNet-C code);
this module names the corruptions, checks user input, seeds every random corruption from
(seed, corruption, severity, image index) so that a prepared set, an on-the-fly pass and a
rerun all produce the same pixels, and lifts images under 32x32 (the library refuses them)
to 32x32 and back.
"""

import zlib

import numpy as np

from vitlab.errors import UserError
from vitlab.protocol.corruption import ALEXNET_ERRORS  # the mCE normaliser

FAMILIES = {
    "noise": ("gaussian_noise", "shot_noise", "impulse_noise"),
    "blur": ("defocus_blur", "glass_blur", "motion_blur", "zoom_blur"),
    "weather": ("snow", "frost", "fog", "brightness"),
    "digital": ("contrast", "elastic_transform", "pixelate", "jpeg_compression"),
}
COMMON = tuple(name for names in FAMILIES.values() for name in names)  # the 15 of mCE
EXTRA = ("speckle_noise", "gaussian_blur", "spatter", "saturate")  # reported apart
ALL = COMMON + EXTRA
SEVERITIES = (1, 2, 3, 4, 5)
EXTRA_FAMILY = "extra"
MIN_SIZE = 32  # imagecorruptions refuses smaller images
_TAKES_SEED = ("glass_blur", "impulse_noise")  # these draw from their own generator


class UnknownCorruptionError(UserError):
    pass


class SeverityError(UserError):
    pass


def family_of(name):
    for family, names in FAMILIES.items():
        if name in names:
            return family
    return EXTRA_FAMILY


def check_corruptions(names):
    """Corruption names, in order, from names or groups ('all', 'common', 'extra', a family)."""
    if isinstance(names, str):
        names = [part for part in names.split(",") if part.strip()]
    groups = {"all": ALL, "common": COMMON, "extra": EXTRA, **FAMILIES}
    resolved = []
    for raw in names:
        name = str(raw).strip()
        expanded = groups.get(name, (name,))
        for item in expanded:
            if item not in ALL:
                raise UnknownCorruptionError(
                    f"unknown corruption {item!r}; choose from {', '.join(ALL)} or a group ({', '.join(groups)})"
                )
            if item not in resolved:
                resolved.append(item)
    if not resolved:
        raise UnknownCorruptionError("no corruption given")
    return resolved


def check_severities(severities):
    """Severities as ints in 1..5 (duplicates dropped); anything else names the bad value."""
    if isinstance(severities, (int, str)):
        severities = [severities]
    checked = []
    for value in severities:
        text = str(value).strip()
        if isinstance(value, bool) or not text.lstrip("-").isdigit() or int(text) not in SEVERITIES:
            raise SeverityError(f"severity {value!r} is outside 1..5 (ImageNet-C severities are 1, 2, 3, 4, 5)")
        if int(text) not in checked:
            checked.append(int(text))
    if not checked:
        raise SeverityError("no severity given")
    return checked


def image_seed(seed, corruption, severity, index):
    """A 32-bit seed from (run seed, corruption, severity, image index): reruns repeat pixels."""
    key = f"{int(seed)}/{corruption}/{int(severity)}/{int(index)}".encode()
    return zlib.crc32(key) & 0x7FFFFFFF


def to_uint8(images):
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    return np.clip(np.rint(np.asarray(images, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)


def _resize(image, size):
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((size[1], size[0]), Image.BILINEAR))


def needs_upscale(height, width):
    return min(height, width) < MIN_SIZE


def corrupt_image(image, corruption, severity, seed=0, index=0):
    """One HxWx3 image (uint8, or float in [0, 1]) -> corrupted uint8 of the same size.

    Images under 32 pixels a side are resized up to 32 for the corruption and back down.
    """
    import imagecorruptions

    check_corruptions([corruption])
    check_severities([severity])
    image = to_uint8(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    height, width = image.shape[:2]
    work = image
    if needs_upscale(height, width):
        scale = MIN_SIZE / min(height, width)
        work = _resize(image, (max(MIN_SIZE, round(height * scale)), max(MIN_SIZE, round(width * scale))))
    local_seed = image_seed(seed, corruption, severity, index)
    np.random.seed(local_seed)  # the library draws from NumPy's global generator
    kwargs = {"seed": local_seed} if corruption in _TAKES_SEED else {}
    out = imagecorruptions.corrupt(
        np.ascontiguousarray(work), corruption_name=corruption, severity=int(severity), **kwargs
    )
    out = np.asarray(out, dtype=np.uint8)
    if out.shape[:2] != (height, width):
        out = _resize(out, (height, width))
    return out


def corrupt_batch(images, corruption, severity, seed=0, indices=None):
    """(N, H, W, 3) images -> corrupted (N, H, W, 3) uint8; per-image seeds from `indices`."""
    images = to_uint8(images)
    indices = np.arange(len(images)) if indices is None else np.asarray(indices)
    return (
        np.stack([corrupt_image(image, corruption, severity, seed, index) for image, index in zip(images, indices)])
        if len(images)
        else images.copy()
    )


# --- corruption error ---------------------------------------------------------------------


def corruption_errors(errors, base_errors, clean_error=None, base_clean_error=None):
    """CE per corruption: sum over severities of E / sum of E_base. Arrays (C, S).

    With clean errors given, also the relative CE: sum_s (E - E_clean) / sum_s (E_base -
    E_base_clean). Returns (ce, relative_ce or None), each (C,).
    """
    errors = np.asarray(errors, dtype=np.float64)
    base = np.asarray(base_errors, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ce = errors.sum(axis=-1) / base.sum(axis=-1)
        relative = None
        if clean_error is not None and base_clean_error is not None:
            relative = (errors - clean_error).sum(axis=-1) / (base - base_clean_error).sum(axis=-1)
            relative = np.where(np.isfinite(relative), relative, np.nan)  # baseline no worse than clean
        ce = np.where(np.isfinite(ce), ce, np.nan)
    return ce, relative


def mean_corruption_error(ce, names):
    """mCE: mean CE over the ImageNet-C corruptions among `names` (extra ones excluded)."""
    values = [value for value, name in zip(np.asarray(ce), names) if name in COMMON]
    return float(np.mean(values)) if values and not np.isnan(values).any() else float("nan")


def alexnet_errors(names, severities):
    """The published AlexNet errors for these (corruption, severity) pairs, (C, S)."""
    missing = [name for name in names if name not in ALEXNET_ERRORS]
    if missing:
        raise UnknownCorruptionError(
            f"no published AlexNet errors for {', '.join(missing)} (only the 15 ImageNet-C corruptions have them)"
        )
    return np.array([[ALEXNET_ERRORS[name][s - 1] for s in severities] for name in names])

"""Evaluation preprocessing: resize the shorter side to floor(size / crop_pct), then take
the centre size x size crop (timm's eval transform, torchvision Resize + CenterCrop).

The official evaluate.py (lines 74-78) uses Resize(256) + CenterCrop(224) for every model,
i.e. crop_pct 0.875 with torchvision's default bilinear resize; vitlab uses each model's own
crop_pct and interpolation (timm's per-name values in vitlab/models/registry.py).
"""

import math

PAPER_CROP_PCT = 0.875  # evaluate.py: --scale_size 256 / --img_size 224 (utils.py lines 107-108)
PAPER_INTERPOLATION = "bilinear"  # torchvision.transforms.Resize's default, evaluate.py line 75
INTERPOLATIONS = ("bilinear", "bicubic", "nearest", "area")


def scale_size(size, crop_pct):
    """The shorter side before the crop: timm's math.floor(img_size / crop_pct)."""
    if not 0.0 < float(crop_pct) <= 1.0:
        raise ValueError(f"crop_pct must be in (0, 1], got {crop_pct}")
    return int(math.floor(size / float(crop_pct)))


def resized_shape(height, width, short):
    """torchvision Resize(int): the shorter side becomes `short`, the longer int(short * long / short_in)."""
    if height <= width:
        return short, (short * width) // height
    return (short * height) // width, short


def centre_offset(length, crop):
    """torchvision CenterCrop's offset: int(round((length - crop) / 2)), Python's half-to-even round."""
    return int(round((length - crop) / 2.0))


def crop_geometry(height, width, size, crop_pct):
    """(resized height, resized width, top, left) of the eval transform for one image."""
    new_h, new_w = resized_shape(height, width, scale_size(size, crop_pct))
    return new_h, new_w, centre_offset(new_h, size), centre_offset(new_w, size)

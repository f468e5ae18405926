"""The paper's salient / non-salient PatchDrop mask: one DINO model decides, for every model.

evaluate.py lines 131-156: the class token's attention to the patches in the last block of
DINO ViT-S/16 (dino_deitsmall16_pretrain.pth; vit_models/dino.py forward_selfattention,
lines 265-311), head index 1 (line 132). The attention is sorted ascending, normalized to
sum 1 and accumulated; a patch is salient when its cumulative mass exceeds 1 - lambda
(line 145), i.e. the most attended patches that together hold a fraction lambda of the mass.
Dropping the foreground multiplies the image by (1 - mask), the background by the mask
(lines 153-156), after nearest upsampling of the patch mask to pixels (line 151).
"""

import numpy as np

DINO_MODEL = "vit_small_patch16_224_dino"  # the registry name of DINO ViT-S/16 (headless)
DINO_HEAD = 1  # evaluate.py line 132: head_number = 1
DINO_BLOCK = -1  # the last block: forward_selfattention returns blk(x, return_attention=True) of it
PAPER_LAMBDAS = tuple(i / 10 for i in range(1, 11))  # evaluate.py line 253: drop_lambda 0.1 .. 1.0

# How DINO's input is normalised. evaluate.py line 134 feeds it normalize(img, mean, std) with the
# mean / std that get_model returned for the *evaluated* model (line 48; utils.py lines 45-98:
# 0.5 / 0.5 for timm "vit" and "tnt" models, ImageNet's for DeiT, T2T, ResNet), so a ViT's mask
# comes from DINO seeing 0.5/0.5-normalised pixels. "evaluated" repeats that (the default);
# "own" feeds DINO its own training statistics (ImageNet's), one mask for every model.
NORMALIZATIONS = ("evaluated", "own")
PAPER_NORMALIZATION = "evaluated"


def salient_mask(attention, mass):
    """Bool (..., P): the patches whose sorted cumulative attention exceeds 1 - mass.

    attention: (..., P) non-negative class-token attention to P patches (one head).
    Ties keep the stable order of a sort, as torch.sort on distinct values does.
    """
    attention = np.asarray(attention, dtype=np.float64)
    order = np.argsort(attention, axis=-1, kind="stable")
    ordered = np.take_along_axis(attention, order, axis=-1)
    ordered = ordered / ordered.sum(axis=-1, keepdims=True)
    cumulative = np.cumsum(ordered, axis=-1)
    keep_sorted = cumulative > (1.0 - float(mass))
    mask = np.empty_like(keep_sorted)
    np.put_along_axis(mask, order, keep_sorted, axis=-1)
    return mask


def pixel_mask(patch_mask, grid, image_size):
    """(..., P) bool -> (..., S, S) float: each patch's value over its cells (nearest upsampling)."""
    patch_mask = np.asarray(patch_mask, dtype=np.float32)
    rows = patch_mask.reshape(*patch_mask.shape[:-1], grid, grid)
    scale = image_size // grid
    return np.repeat(np.repeat(rows, scale, axis=-2), scale, axis=-1)


def occlude(images, mask, drop_foreground):
    """images (B, S, S, C) in [0, 1] with pixel mask (B, S, S): the official (1 - mask) or mask product."""
    mask = np.asarray(mask, dtype=np.float32)[..., None]
    return np.asarray(images) * ((1.0 - mask) if drop_foreground else mask)


SALIENT_MODES = ("salient", "non_salient")


def choose_saliency_model(requested, has_mask, vit_names, modes=SALIENT_MODES):
    """(saliency model name or None, label): the one model whose attention masks every model.

    requested: the `saliency_model` option. Without it, data with ground-truth masks (the
    generated shapes) falls back to the first ViT of the run, still one mask for all models;
    real data gets a one-line error naming the paper's DINO model.
    """
    if not any(mode in SALIENT_MODES for mode in modes):
        return None, ""
    if requested:
        return requested, f"saliency: {requested} (one mask per image, shared by every model)"
    if has_mask and vit_names:
        return vit_names[0], (
            f"saliency: {vit_names[0]} (first ViT of the run, shared by every model; "
            f"the paper uses DINO ViT-S/16: saliency_model=...)"
        )
    from vitlab.config import ConfigError

    raise ConfigError(
        f"salient / non_salient PatchDrop needs saliency_model=MODEL, one model whose attention "
        f"masks every image for all models (the paper: DINO ViT-S/16, `vitlab weights import "
        f"{DINO_MODEL} dino_deitsmall16_pretrain.pth -o dino.keras`)"
        + ("" if has_mask else "; this data has no ground-truth masks to fall back on")
    )

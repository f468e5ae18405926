"""The paper's segmentation score: per-object Jaccard of thresholded attention, best head.

evaluate_segmentation.py: the image and the VOC mask are resized to 512 x 512 (utils.py
get_voc_dataset, lines 22-36; the mask, a palette image, is resized nearest by PIL), the
attention of the class token (or the distillation token with --use_shape, lines 28-34) in
the last block keeps mass 0.9 per head (lines 37-44, --threshold 0.9), and
get_per_sample_jaccard (lines 51-65) scores every object label of the mask except 0
(background) and 255 (void) separately, takes the best head for each and averages over the
objects; run_eval (lines 68-79) averages over images. Void pixels are not removed from the
union (line 60 multiplies by `cur_mask != 255`, which is always true for a boolean mask):
a head that covers the void border is penalised, and vitlab keeps that rule.
"""

import numpy as np

PAPER_INPUT_SIZE = 512  # utils.py line 23: transforms.Resize((512, 512))
PAPER_MASS = 0.9  # scripts/eval_segmentation.sh: --threshold 0.9
IGNORED_LABELS = (0, 255)  # evaluate_segmentation.py line 55


def foreground(masks):
    """Label masks -> float32 {0, 1}: any object label (not 0 background, not 255 void)."""
    masks = np.rint(np.asarray(masks, dtype=np.float32))
    return ((masks > 0) & (masks != 255)).astype(np.float32)


def object_jaccard(head_masks, target):
    """Mean over the objects of `target` of the best head's Jaccard; nan when it has none.

    head_masks: (H, S, S) bool, one predicted mask per head; target: (S, S) int labels.
    """
    head_masks = np.asarray(head_masks, dtype=bool)
    target = np.asarray(target)
    scores = []
    for label in np.unique(target):
        if label in IGNORED_LABELS:
            continue
        region = target == label
        intersection = np.logical_and(head_masks, region).sum(axis=(1, 2))
        union = np.logical_or(head_masks, region).sum(axis=(1, 2))
        scores.append(float(np.max(intersection / union)))
    return float(np.mean(scores)) if scores else float("nan")


def mean_jaccard(per_image):
    """The dataset score: the mean over images that have at least one object."""
    values = np.asarray(per_image, dtype=np.float64)
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else float("nan")


_CUBIC_A = -0.75  # torch.nn.functional.interpolate(mode="bicubic"), no antialias


def _cubic_weights(t):
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=-1)


def _resize_axis(values, new, axis):
    old = values.shape[axis]
    real = (np.arange(new) + 0.5) * (old / new) - 0.5  # align_corners=False; not clamped (cubic)
    base = np.floor(real).astype(int)
    weights = _cubic_weights(real - base)  # (new, 4)
    taps = np.clip(base[:, None] + np.arange(-1, 3)[None], 0, old - 1)  # border values repeat
    gathered = np.take(values, taps, axis=axis)  # axis becomes (new, 4)
    shape = [1] * gathered.ndim
    shape[axis], shape[axis + 1] = new, 4
    return (gathered * weights.reshape(shape)).sum(axis=axis + 1)


def resample_pos_grid(grid, new):
    """(g, g, D) position table -> (new, new, D), as the official forward_selfattention does
    (vit_models/dino.py lines 281-285: bicubic F.interpolate, a = -0.75, no antialias)."""
    grid = np.asarray(grid, dtype=np.float64)
    return _resize_axis(_resize_axis(grid, new, 0), new, 1)


def at_input_size(adapter, size=PAPER_INPUT_SIZE):
    """The adapter's ViT rebuilt for size x size input (512: a 32 x 32 grid at patch 16), its
    position table resampled the official way; the same adapter when it already has that size."""
    from vitlab.models import timm_convert
    from vitlab.models.adapter import ModelAdapter
    from vitlab.models.vit import VisionTransformer

    model = adapter.model
    if int(model.image_size) == int(size):
        return adapter
    state = timm_convert.export_timm_state(model)
    resized = VisionTransformer(**{**model.get_config(), "image_size": int(size)})
    if model.pos_embed is not None:
        table = state["pos_embed"]
        prefix, grid = table[:, : model.num_prefix_tokens], table[0, model.num_prefix_tokens :]
        old = model.grid_size
        new_grid = resample_pos_grid(grid.reshape(old, old, -1), resized.grid_size)
        state["pos_embed"] = np.concatenate(
            [prefix, new_grid.reshape(1, -1, table.shape[-1]).astype(table.dtype)], axis=1
        )
    timm_convert.load_timm_state(resized, state, source=f"{adapter.name} at {size}px")
    return ModelAdapter(resized, adapter.name, adapter.mean, adapter.std, adapter.token_norm)

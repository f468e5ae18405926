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

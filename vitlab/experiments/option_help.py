"""One line per experiment option: what `vitlab eval NAME --help`, the TUI's form and
options.json say about it.

The experiments' Config dataclasses hold the names, types and defaults; the words live here,
so that the schema (`python -m vitlab.experiments.options --write`) can carry them without
an import of Keras. A test fails when an option has no line. SHARED holds the options that
mean the same in every experiment that has them; EXPERIMENT the rest, and any wording that
is particular to one experiment.
"""

SHARED = {
    "head": "which DeiT head is scored: average, class or dist (models without a distillation token have one)",
    "heads": "the DeiT heads scored, each on its own: class, dist, average",
    "top_k": "k of the top-k accuracy reported beside top-1",
    "repeats": "random draws per setting (seeded per image), averaged; more gives smaller error bars",
    "batch_size": "images per batch for this experiment's own passes",
    "blocks": "blocks whose tokens are features: all, last, last4 or indices such as 0,3,-1",
    "kinds": "token kinds used as features: class, dist, patch_mean (ViTs), pooled (CNNs); empty: every kind",
    "token_norm": "tokens after the final LayerNorm, as the paper's off-the-shelf features (false: raw tokens)",
    "train_split": "where the probe's training rows come from: train (that split of the dataset) or holdout",
    "holdout_fraction": "with train_split=holdout: the share of the evaluated images used for training",
    "limit_train": "at most this many training images (default: all)",
    "train_batch_size": "batch size for extracting the training split's features",
    "data_dir": "TFDS data_dir for loading the training split by name",
    "cache_dir": "feature cache folder (default $VITLAB_CACHE/features or ~/.cache/vitlab/features)",
    "chunk_rows": "rows per chunk written to and read from the feature cache",
    "grid": "cells of the image grid: empty = 14x14 at 224 px, 8x8 at 32 px (the image size's default); RxC; pixel",
    "crop_pct": "evaluation crop of folder and TFDS images: shorter side resized to size/crop_pct, centre crop "
    "(default: the model's own)",
    "interpolation": "resize interpolation of that crop: bilinear, bicubic, nearest... (default: the model's own)",
}

EXPERIMENT = {
    "occlusion": {
        "modes": "what is dropped: random, salient, non_salient (a saliency model's mask), mask_salient, "
        "mask_non_salient (the data's masks), lesion (tokens inside the network)",
        "levels": "fractions of patches dropped (random mode), from 0 to 1",
        "grid_offset": "shift of the dropped cells in pixels, (dy, dx); the paper's code uses [8, 8]",
        "fill": "what dropped pixels become: black (the paper's), mean (the evaluated images' mean colour) "
        "or noise (uniform in [0, 1], per image from the seed)",
        "lambdas": "salient modes: share of the saliency mass that counts as foreground, in (0, 1]",
        "saliency_model": "model whose attention gives the salient masks for every model (paper: DINO ViT-S/16); "
        "empty: the run's first ViT, on data with masks only",
        "saliency_block": "block of the saliency model whose class-token attention is used (-1: the last)",
        "saliency_head": "attention head of that block (the official code: 1); -1: the mean of the heads",
        "saliency_token": "token whose attention is the saliency: class or dist (the shape token)",
        "saliency_normalization": "input statistics the saliency model sees: evaluated (each evaluated model's "
        "mean/std, as the official code) or own",
        "lesion_blocks": "lesion mode: blocks at whose input tokens are zeroed (paper: 0,2,4,8,10)",
        "lesion_levels": "lesion mode: fractions of tokens zeroed",
        "lesion_variant": "official (zeroed tokens still attend, as deit.py) or key_mask (they stop being keys)",
    },
    "correlation": {
        "levels": "fractions of patches dropped (random PatchDrop) for the occluded features",
        "token": "ViT feature compared: class, dist (the shape token) or patch_mean",
        "definition": "correlation per_image (over feature dimensions) or per_dimension (over images)",
    },
    "shuffle": {
        "grids": "shuffle grids RxC (cells permuted per image); grids that do not divide the image are skipped",
    },
    "attention": {
        "num_images": "images whose attention maps are drawn",
        "level": "fraction of patches dropped (random, per image) for the occluded maps",
        "token": "token whose attention is drawn: class or dist (the shape token)",
    },
    "segmentation": {
        "threshold": "share of attention mass each head's mask keeps (the official code: 0.9)",
        "block": "block whose attention is used (-1: the last)",
        "input_size": "input size: 0 = 512 for models built for 224 px and more (official), else the data's; N forces N",
        "tokens": "tokens whose attention is scored: class, dist (where the model has one)",
    },
    "corruption": {
        "corruptions": "ImageNet-C corruptions to apply (default: all 15)",
        "severities": "severities 1-5 of each corruption",
        "corruption_dir": "a corruption set made by `vitlab data prepare corruptions` (default: made on the fly)",
        "imagenet_c": "the released ImageNet-C: its folder root, or tfds",
        "baseline": "the model CE is divided by: a model of the run, a model spec, alexnet or none "
        "(default: AlexNet's published errors on 1000 classes, else the run's first CNN)",
    },
    "adversarial": {
        "attacks": "attacks run: fgsm, pgd",
        "epsilons": "attack radii in [0, 1] pixel units (8/255 is accepted)",
        "norm": "linf, or l2 (then epsilons are L2 radii, e.g. 0.25,0.5,1.0)",
        "steps": "PGD iterations",
        "step_size": "PGD step in pixel units (default: 2.5 * epsilon / steps)",
        "random_start": "PGD starts from a random point in the epsilon ball",
        "targeted": "move towards a random other class instead of away from the label",
        "heads": "the DeiT heads attacked and judged, each on its own: class, dist, average",
        "transfer": "also show each model's adversarial images to every other model (a transfer matrix)",
        "transfer_head": "the head that crafts and judges the transfer examples: average, class or dist",
    },
    "shape-bias": {
        "cue_conflict_dir": "Geirhos's cue-conflict folder (default: the dataset's own shape and texture labels)",
    },
    "linear-probe": {
        "method": "linear (the paper's probe: a new layer trained with AdamW), logistic (scikit-learn) or both",
        "c_grid": "logistic: inverse regularisation strengths C tried by cross-validation",
        "cv_folds": "logistic: cross-validation folds for choosing C",
        "cv_max_rows": "logistic: C is chosen on a stratified subset this large; the final fit uses every row",
        "max_iter": "logistic: solver iterations",
        "n_jobs": "logistic: parallel jobs for the cross-validation",
        "epochs": "linear: training epochs (the paper's: 10)",
        "learning_rate": "linear: AdamW learning rate (the paper's: 5e-4)",
        "weight_decay": "linear: AdamW weight decay, none on the bias (the paper's: 0.05)",
        "probe_batch_size": "linear: batch size; the last partial batch is dropped, as the paper's code",
    },
    "knn": {
        "k": "neighbours voting (cosine similarity)",
    },
    "few-shot": {
        "n_way": "classes per episode",
        "k_shot": "labelled examples per class per episode; one result per value",
        "n_query": "query images per class per episode",
        "episodes": "episodes averaged (seeded), with a 95% interval",
        "heads": "classifiers on the support set: centroid (nearest mean, cosine), logistic",
    },
}


def help_for(experiment, option):
    """The option's line, '' when it has none (a test keeps that from shipping)."""
    return EXPERIMENT.get(experiment, {}).get(option) or SHARED.get(option, "")

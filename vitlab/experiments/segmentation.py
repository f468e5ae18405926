"""Segmentation from attention, without pixel supervision (paper Sec. 3.2, Table 2), as the
official evaluate_segmentation.py: per head of the chosen block, the patches holding the
top `threshold` (0.9) of the token's attention mass (cumulative mass > 1 - threshold) form
the mask, upsampled (nearest) to pixels. Each object class of the label mask (0 background
and 255 void left out; `voc:PATH` masks carry VOC's 20 classes, generated masks one object)
is scored by the Jaccard index of the best head, averaged over objects, then over images
(official get_per_sample_jaccard); the head-averaged attention is scored the same way.
ImageNet-size models are evaluated at 512 x 512 from the original images resized without a
crop (official utils.py), their position table resampled. Class token vs shape
(distillation) token where a model has one.
"""

import dataclasses
import warnings

import numpy as np
from keras import ops

from vitlab.config import ConfigError
from vitlab.experiments.base import Experiment, Metric, Requires
from vitlab.perturb import saliency
from vitlab.perturb.compiled import compile_fn
from vitlab.results.result import Curve, Result, Table


@dataclasses.dataclass
class Config:
    threshold: float = 0.9
    block: int = -1
    input_size: int = 0  # 0: 512 for ImageNet-size models (official; 32x32 grid at patch 16), else the data's
    tokens: list[str] = dataclasses.field(default_factory=lambda: ["class", "dist"])  # dist where present

    def validate(self):
        if not 0.0 < self.threshold <= 1.0:
            raise ConfigError(f"threshold: must lie in (0, 1], got {self.threshold}")
        if not self.tokens or any(t not in ("class", "dist") for t in self.tokens):
            raise ConfigError(f"tokens: expected a list of class / dist, got {self.tokens}")


def segment_fn(adapter, block, token, threshold):
    """Compiled: images -> (per-head patch masks (B, heads, rows, cols), head-mean mask (B, rows, cols))."""

    def run(images):
        attention = adapter.forward(images, attention=True)["attention"][block]
        rows, cols = adapter.patch_grid
        row = attention[:, :, token, adapter.num_prefix_tokens :]
        heads = int(row.shape[1])
        mean = ops.mean(row, axis=1)
        head_masks = ops.reshape(saliency.foreground(saliency.cumulative_mass(row), threshold), (-1, heads, rows, cols))
        mean_mask = ops.reshape(saliency.foreground(saliency.cumulative_mass(mean), threshold), (-1, rows, cols))
        return head_masks, mean_mask

    return compile_fn(run)


def score_batch(head_masks, mean_mask, labels):
    """Per-image per-object Jaccard (official get_per_sample_jaccard) of patch-grid masks against
    (B, H, W) label masks: (best head over objects (B,), head mean (B,), per head (B, heads)).
    Patch masks go to pixels by nearest neighbour (saliency.upsample_nearest's index map)."""
    from vitlab.protocol import segmentation as protocol

    labels = np.rint(np.asarray(labels)).astype(np.int32)
    height, width = labels.shape[1:]
    rows, cols = head_masks.shape[-2:]
    row_index = (np.arange(height) * rows) // height
    col_index = (np.arange(width) * cols) // width
    pixels = np.asarray(head_masks)[..., row_index, :][..., col_index]
    mean_pixels = np.asarray(mean_mask)[..., row_index, :][..., col_index]
    best, mean, per_head = [], [], []
    for image in range(len(labels)):
        best.append(protocol.object_jaccard(pixels[image], labels[image]))
        mean.append(protocol.object_jaccard(mean_pixels[image][None], labels[image]))
        per_head.append([protocol.object_jaccard(head[None], labels[image]) for head in pixels[image]])
    return np.array(best), np.array(mean), np.array(per_head)


def check(adapters, data, config):
    for adapter in [a for a in adapters if a.is_transformer]:
        if not -adapter.num_blocks <= config.block < adapter.num_blocks:
            raise ConfigError(f"block: {config.block} out of range for {adapter.name!r} ({adapter.num_blocks} blocks)")


def input_size(adapter, config, data_size):
    """The evaluation size: config.input_size, or with 0 the official 512 for models built for
    224 px and larger (evaluate_segmentation.py via utils.py get_voc_dataset), else the data's."""
    from vitlab.protocol import segmentation as protocol

    if config.input_size:
        return int(config.input_size)
    return protocol.PAPER_INPUT_SIZE if adapter.image_size >= 224 else int(data_size)


def run(adapters, data, config, context):
    vits = [a for a in adapters if a.is_transformer]
    jobs = [(a, t) for a in vits for t in config.tokens if t == "class" or a.has_dist_token]
    for adapter, _ in jobs:
        if not -adapter.num_blocks <= config.block < adapter.num_blocks:
            raise ConfigError(f"block: {config.block} out of range for {adapter.name!r} ({adapter.num_blocks} blocks)")
    from vitlab.protocol import segmentation as protocol

    if config.input_size < 0:
        raise ConfigError(f"input_size: must be 0 (automatic) or a size in pixels, got {config.input_size}")
    sizes = {a.name: input_size(a, config, data.image_size) for a, _ in jobs}
    resized = {a.name: protocol.at_input_size(a, sizes[a.name]) for a, _ in jobs}
    fns = {
        (a.name, t): segment_fn(resized[a.name], config.block, 1 if t == "dist" else 0, config.threshold)
        for a, t in jobs
    }
    best_j, heads_j, mean_j = {k: [] for k in fns}, {k: [] for k in fns}, {k: [] for k in fns}
    notes = []
    by_size = {size: [key for key in fns if sizes[key[0]] == size] for size in sorted(set(sizes.values()))}
    sources = {size: data if size == data.image_size else data.reloaded(size, resize="squash") for size in by_size}
    done, total = 0, (data.num_batches or 0) * len(by_size)
    for size, keys in by_size.items():
        source = sources[size] or data  # in-memory data: its own images, resized here
        for batch in source.batches():
            images = ops.convert_to_tensor(batch["image"], "float32")
            masks = np.asarray(batch["mask"])
            if sources[size] is None:  # image bilinear, mask nearest (the official 512 input of an array)
                images = ops.image.resize(images, (size, size), interpolation="bilinear")
                masks = ops.convert_to_numpy(ops.image.resize(masks[..., None], (size, size), interpolation="nearest"))[
                    ..., 0
                ]
            for key in keys:
                head_masks, mean_mask = fns[key](images)
                best, mean, per_head = score_batch(
                    ops.convert_to_numpy(head_masks), ops.convert_to_numpy(mean_mask), masks
                )
                best_j[key].append(best)
                mean_j[key].append(mean)
                heads_j[key].append(per_head)
            done += 1
            context.progress(done, max(total, done))
    arrays, rows, series, summary = {}, [], {"best head (official)": [], "head mean": []}, {}
    ticks = []
    notes += [f"{a.name}: not a transformer, skipped" for a in adapters if not a.is_transformer]
    for (name, token), parts in heads_j.items():
        per_head = np.concatenate(parts)
        mean = np.concatenate(mean_j[(name, token)])
        best = np.concatenate(best_j[(name, token)])
        arrays[f"{name}/{token}/jaccard_per_head"] = per_head
        arrays[f"{name}/{token}/jaccard_best_head"] = best
        arrays[f"{name}/{token}/jaccard_head_mean"] = mean
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-nan columns: no image with an object
            scores = [float(np.nanmean(best)), float(np.nanmean(mean)), float(np.nanmax(np.nanmean(per_head, axis=0)))]
        rows.append([name, token] + scores + [int(np.isnan(best).sum())])
        ticks.append(f"{name}/{token}")
        series["best head (official)"].append(scores[0])
        series["head mean"].append(scores[1])
        summary[f"jaccard_{token}/{name}"] = scores[0]
    for name, size in sizes.items():
        if size != data.image_size:
            how = (
                "the original images resized to that square without a crop (official utils.py get_voc_dataset)"
                if sources[size] is not None
                else "the data's images resized (in-memory data)"
            )
            notes.append(f"{name}: evaluated at {size} x {size}, {how}; position table resampled (official bicubic)")
    table = Table(
        title=f"Segmentation from attention (threshold {config.threshold}, block {config.block})",
        columns=[
            "model",
            "token",
            "Jaccard best head",
            "Jaccard head mean",
            "best single head",
            "images without object",
        ],
        rows=rows,
    )
    curve = Curve(
        title="Segmentation from attention: Jaccard index",
        x_label="model / token",
        y_label="Jaccard",
        x=list(range(len(ticks))),
        series=series,
        x_ticks=ticks,
        kind="bar",
    )
    return Result(
        experiment="segmentation",
        config={},
        models=[a.name for a in adapters],
        arrays=arrays,
        curves=[curve],
        tables=[table],
        summary=summary,
        notes=notes,
    )


EXPERIMENT = Experiment(
    name="segmentation",
    description="Segmentation from attention: Jaccard vs ground-truth masks.",
    Config=Config,
    run=run,
    requires=Requires(some=("attention",), data=("mask",)),
    check=check,
    metrics=(Metric("jaccard_{token}", "Jaccard index of the best head's mask (official protocol)"),),
    smoke=dict(),
)

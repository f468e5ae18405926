"""Segmentation from attention, without pixel supervision (paper Sec. 3.2, Table 2), as the
official evaluate_segmentation.py: per head of the chosen block, the patches holding the
top `threshold` (0.9) of the token's attention mass (cumulative mass > 1 - threshold) form
the mask, upsampled (nearest) to pixels; the Jaccard index with the ground-truth mask is
taken for the best head per image (official) and for the head-averaged attention.
Class token vs shape (distillation) token where a model has one.
"""

import dataclasses

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


def segment_fn(adapter, block, token, threshold, height, width):
    """Compiled: images, masks -> (Jaccard of each head (B, heads), Jaccard of the mean (B,))."""

    def run(images, masks):
        attention = adapter.forward(images, attention=True)["attention"][block]
        rows, cols = adapter.patch_grid
        row = attention[:, :, token, adapter.num_prefix_tokens:]
        heads = int(row.shape[1])
        mean = ops.mean(row, axis=1)
        target = masks[:, None] > 0.5
        head_masks = saliency.upsample_nearest(
            ops.reshape(saliency.foreground(saliency.cumulative_mass(row), threshold), (-1, heads, rows, cols)),
            height, width)
        mean_mask = saliency.upsample_nearest(
            ops.reshape(saliency.foreground(saliency.cumulative_mass(mean), threshold), (-1, rows, cols)),
            height, width)
        has_object = ops.any(target[:, 0], axis=(1, 2))  # images without an object are left out
        nan = float("nan")
        return (ops.where(has_object[:, None], saliency.jaccard(head_masks, target), nan),
                ops.where(has_object, saliency.jaccard(mean_mask, target[:, 0]), nan))

    return compile_fn(run)


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
    fns = {(a.name, t): segment_fn(resized[a.name], config.block, 1 if t == "dist" else 0, config.threshold,
                                   sizes[a.name], sizes[a.name])
           for a, t in jobs}
    heads_j, mean_j = {k: [] for k in fns}, {k: [] for k in fns}
    done, total = 0, data.num_batches or 0
    for batch in data.batches():
        images = ops.convert_to_tensor(batch["image"], "float32")
        masks = ops.convert_to_tensor(batch["mask"], "float32")
        for key, fn in fns.items():
            size = sizes[key[0]]
            if size != data.image_size:  # the official 512 x 512 input: image bilinear, mask nearest
                per_head, mean = fn(ops.image.resize(images, (size, size), interpolation="bilinear"),
                                    ops.image.resize(masks[..., None], (size, size), interpolation="nearest")[..., 0])
            else:
                per_head, mean = fn(images, masks)
            heads_j[key].append(ops.convert_to_numpy(per_head))
            mean_j[key].append(ops.convert_to_numpy(mean))
        done += 1
        context.progress(done, max(total, done))
    arrays, rows, series, summary = {}, [], {"best head (official)": [], "head mean": []}, {}
    ticks, notes = [], [f"{a.name}: not a transformer, skipped" for a in adapters if not a.is_transformer]
    for (name, token), parts in heads_j.items():
        per_head = np.concatenate(parts)
        mean = np.concatenate(mean_j[(name, token)])
        with np.errstate(invalid="ignore"):
            best = np.where(np.all(np.isnan(per_head), axis=1), np.nan, np.nanmax(np.nan_to_num(per_head, nan=-1), axis=1))
        arrays[f"{name}/{token}/jaccard_per_head"] = per_head
        arrays[f"{name}/{token}/jaccard_best_head"] = best
        arrays[f"{name}/{token}/jaccard_head_mean"] = mean
        scores = [float(np.nanmean(best)), float(np.nanmean(mean)), float(np.nanmax(np.nanmean(per_head, axis=0)))]
        rows.append([name, token] + scores + [int(np.isnan(best).sum())])
        ticks.append(f"{name}/{token}")
        series["best head (official)"].append(scores[0])
        series["head mean"].append(scores[1])
        summary[f"jaccard_{token}/{name}"] = scores[0]
    notes += [f"{name}: evaluated at {size} x {size}, position table resampled (official bicubic)"
              for name, size in sizes.items() if size != data.image_size]
    table = Table(title=f"Segmentation from attention (threshold {config.threshold}, block {config.block})",
                  columns=["model", "token", "Jaccard best head", "Jaccard head mean", "best single head",
                           "images without object"], rows=rows)
    curve = Curve(title="Segmentation from attention: Jaccard index", x_label="model / token", y_label="Jaccard",
                  x=list(range(len(ticks))), series=series, x_ticks=ticks, kind="bar")
    return Result(experiment="segmentation", config={}, models=[a.name for a in adapters], arrays=arrays,
                  curves=[curve], tables=[table], summary=summary, notes=notes)


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

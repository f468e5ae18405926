"""Feature correlation under PatchDrop (paper Sec. 3.1, Fig. 6): how similar the features
of an occluded image stay to those of the clean image, block by block.

CC(u, v) = (E[uv] - E[u]E[v]) / (sigma(u) sigma(v)), u = clean, v = occluded features:
the class token after every transformer block and the final LayerNorm (token_norm, as the
official off-the-shelf features; adapter.block_features), the global-average
pooled output of every ResNet stage. The official repository does not ship this code, so
the definition follows the paper's text: `per_image` (default) treats the D feature
dimensions of one image as the samples of u and v and averages CC over images (overall
and per class); `per_dimension` computes CC of each dimension across all images, then
averages over dimensions (overall only). Occlusion: random PatchDrop at 25/50/75% of the
cells of the grid, per image, the same choices as `vitlab eval occlusion` with that seed.
"""

import dataclasses

import numpy as np
from keras import ops

from vitlab.config import ConfigError
from vitlab.experiments.base import Experiment, Metric, Requires
from vitlab.experiments.grids import resolve_grid
from vitlab.experiments.occlusion_sweep import PixelScores, Source
from vitlab.perturb import patch_drop
from vitlab.perturb.compiled import compile_fn
from vitlab.results.result import Curve, Result, Table


@dataclasses.dataclass
class Config:
    levels: list[float] = dataclasses.field(default_factory=lambda: [0.25, 0.5, 0.75])
    grid: str = ""  # as occlusion: "" = the default grid for the image size (14x14 at 224), "RxC", "pixel"
    token: str = "class"  # ViT feature: class, dist (shape token) or patch_mean
    token_norm: bool = True  # tokens after the final LayerNorm, as the official off-the-shelf features
    definition: str = "per_image"  # or per_dimension

    def validate(self):
        if not self.levels or any(not 0.0 <= v <= 1.0 for v in self.levels):
            raise ConfigError(f"levels: fractions must lie in [0, 1], got {self.levels}")
        if self.token not in ("class", "dist", "patch_mean"):
            raise ConfigError(f"token: expected class, dist or patch_mean, got {self.token!r}")
        if self.definition not in ("per_image", "per_dimension"):
            raise ConfigError(f"definition: expected per_image or per_dimension, got {self.definition!r}")


def pearson_per_row(u, v, eps=1e-12):
    """CC of each row of u with the same row of v (over the last axis)."""
    u = u - ops.mean(u, axis=-1, keepdims=True)
    v = v - ops.mean(v, axis=-1, keepdims=True)
    covariance = ops.mean(u * v, axis=-1)
    return covariance / ops.maximum(ops.std(u, axis=-1) * ops.std(v, axis=-1), eps)


class Moments:
    """Streaming sums for CC across images, per dimension."""

    def __init__(self):
        self.n, self.sums = 0, None

    def add(self, u, v):
        parts = [u, v, u * v, u * u, v * v]
        sums = [p.sum(axis=0, dtype="float64") for p in parts]
        self.sums = sums if self.sums is None else [a + b for a, b in zip(self.sums, sums)]
        self.n += len(u)

    def correlation(self):
        su, sv, suv, suu, svv = (s / max(self.n, 1) for s in self.sums)
        denominator = np.sqrt(np.maximum(suu - su**2, 0) * np.maximum(svv - sv**2, 0))
        with np.errstate(invalid="ignore", divide="ignore"):
            return float(np.nanmean((suv - su * sv) / denominator))


def feature_fn(adapter, token, thresholds):
    def features(images):
        out = adapter.block_features(images, kinds=(token,))
        return out["pooled"] if adapter.kind == "cnn" else out[token]

    def run(images, scores):
        """(L, blocks, B) CC of clean and occluded features, and both feature lists."""
        clean = features(images)
        occluded = [features(patch_drop.drop_pixels(images, scores[0] < t)) for t in thresholds]
        cc = ops.stack([ops.stack([pearson_per_row(c, o) for c, o in zip(clean, level)]) for level in occluded])
        return cc, clean, occluded

    return compile_fn(run)


def check(adapters, data, config):
    for adapter in adapters:
        if config.token == "dist" and adapter.is_transformer and not adapter.has_dist_token:
            raise ConfigError(f"token: model {adapter.name!r} has no distillation (shape) token")


def run(adapters, data, config, context):
    size = data.image_size
    rows, cols = resolve_grid(config.grid, adapters, size, size)
    scores_fn = PixelScores([Source("random", rows, cols)], size, size, context.seed)
    thresholds = [float(patch_drop.drop_count(f, rows * cols)) for f in config.levels]
    from vitlab.features.shared import normed

    fns = {a.name: feature_fn(normed(a, config), config.token, thresholds) for a in adapters}
    sums, class_sums, class_counts, moments = {}, {}, np.zeros(data.num_classes), {}
    done, total = 0, data.num_batches or 0
    for batch in data.batches():
        scores = scores_fn(batch["index"])
        labels = np.asarray(batch["label"], dtype=int)
        np.add.at(class_counts, labels, 1)
        for adapter in adapters:
            cc, clean, occluded = fns[adapter.name](ops.convert_to_tensor(batch["image"], "float32"), scores)
            cc = ops.convert_to_numpy(cc)
            sums[adapter.name] = sums.get(adapter.name, 0) + cc.sum(axis=-1)  # (L, blocks)
            per_class = class_sums.setdefault(adapter.name, np.zeros(cc.shape[:2] + (data.num_classes,)))
            for index in range(len(labels)):
                per_class[:, :, labels[index]] += cc[:, :, index]
            if config.definition == "per_dimension":
                for li, level in enumerate(occluded):
                    for bi, (c, o) in enumerate(zip(clean, level)):
                        moments.setdefault((adapter.name, li, bi), Moments()).add(
                            ops.convert_to_numpy(c), ops.convert_to_numpy(o)
                        )
        done += 1
        context.progress(done, max(total, done))
    count = max(class_counts.sum(), 1)
    names = [a.name for a in adapters]
    arrays, curves, rows_out, summary = {"levels": np.asarray(config.levels, dtype="float32")}, [], [], {}
    for adapter in adapters:
        name = adapter.name
        if config.definition == "per_dimension":
            overall = np.array(
                [
                    [moments[(name, li, bi)].correlation() for bi in range(sums[name].shape[1])]
                    for li in range(len(config.levels))
                ]
            )
        else:
            overall = sums[name] / count
        with np.errstate(invalid="ignore", divide="ignore"):
            arrays[f"{name}/per_class"] = class_sums[name] / np.where(class_counts > 0, class_counts, np.nan)
        arrays[f"{name}/correlation"] = overall
        unit = "block" if adapter.is_transformer else "stage"
        curves.append(
            Curve(
                title=f"Feature correlation, clean vs PatchDrop: {name}",
                x_label=f"{unit}",
                y_label="correlation coefficient",
                x=list(range(1, overall.shape[1] + 1)),
                series={f"{int(round(f * 100))}% dropped": overall[li].tolist() for li, f in enumerate(config.levels)},
            )
        )
        for li, f in enumerate(config.levels):
            rows_out += [[name, unit, b + 1, f, float(overall[li, b])] for b in range(overall.shape[1])]
            summary[f"cc_last_{int(round(f * 100))}/{name}"] = float(overall[li, -1])
    table = Table(
        title=f"Feature correlation ({config.definition})",
        columns=["model", "unit", "index", "dropped", "correlation"],
        rows=rows_out,
    )
    notes = [
        f"definition: {config.definition}; grid {rows}x{cols}; ViT feature: {config.token} token; "
        "ResNet feature: pooled stage output"
    ]
    return Result(
        experiment="correlation",
        config={"grid": f"{rows}x{cols}"},
        models=names,
        arrays=arrays,
        curves=curves,
        tables=[table],
        summary=summary,
        notes=notes,
    )


EXPERIMENT = Experiment(
    name="correlation",
    description="Correlation of clean and occluded features per block / stage.",
    Config=Config,
    run=run,
    requires=Requires(every=("block_features",)),
    check=check,
    metrics=(Metric("cc_last_{percent}", "correlation of clean and occluded features after the last block"),),
    smoke=dict(levels=[0.0, 0.5]),
)

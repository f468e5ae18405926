"""Patch shuffle (paper Sec. 3.3, Fig. 7): accuracy when the cells of an h x w grid are
permuted at random, per image; defaults are the official list (scripts/evaluate_shuffle.sh:
2x2, 2x4, 4x4, 4x8, 8x8, 14x14, 16x16) plus the unshuffled image.

Cells must tile the image, so grids that do not divide the image size are skipped and the
skip is recorded in Result.notes (at 32x32 that is 14x14; every other default divides 32).
All grids and repeats are evaluated from one pass over the data; models without a position
embedding (vit_nano_nopos_patch4_32) are invariant to shuffles on their own patch grid.
"""

import dataclasses

import numpy as np
from keras import ops

from vitlab.config import ConfigError
from vitlab.experiments import heads
from vitlab.experiments.base import Experiment, Metric
from vitlab.experiments.scoring import Tally, top_k_hits
from vitlab.perturb import patch_drop, shuffle
from vitlab.perturb.compiled import compile_fn, stack_loop
from vitlab.protocol import occlusion as occlusion_protocol
from vitlab.results.result import Curve, Result, Table


@dataclasses.dataclass
class Config:
    grids: list[str] = dataclasses.field(default_factory=lambda: list(occlusion_protocol.PAPER_SHUFFLE_GRIDS))
    repeats: int = occlusion_protocol.PAPER_SHUFFLE_REPEATS
    head: str = "average"
    top_k: int = 5

    def validate(self):
        if self.repeats < 1:
            raise ConfigError(f"repeats: must be >= 1, got {self.repeats}")
        heads.check_head(self.head)
        if self.top_k < 1:
            raise ConfigError(f"top_k: must be >= 1, got {self.top_k}")


class ShuffleSweep:
    """Builds every shuffled variant of a batch once (compiled; the permutations come from
    the host, NumPy), then each model scores them in one compiled loop."""

    def __init__(self, grids, repeats, seed):
        self.grids, self.repeats, self.seed = grids, repeats, seed
        self._build = compile_fn(self._variants)

    def _variants(self, images, permutations):
        out = [images]
        for (rows, cols), perms in zip(self.grids * self.repeats, permutations):
            out.append(shuffle.shuffle_cells(images, rows, cols, perms))
        return ops.stack(out)

    def __call__(self, images, indices):
        permutations = [
            shuffle.random_permutations(self.seed, indices, rows * cols, repeat=repeat)
            for repeat in range(self.repeats)
            for rows, cols in self.grids
        ]
        return self._build(ops.convert_to_tensor(images, "float32"), permutations)


def model_scorer(adapter, head, top_k):
    def score(variants, labels):
        def variant(v):
            heads = adapter.forward(ops.take(variants, v, axis=0))["heads"]
            return top_k_hits(adapter.select_head(heads, head), labels, top_k)

        return stack_loop(variants.shape[0], variant, ("bool", "bool"))

    compiled = compile_fn(score)
    return lambda variants, labels: tuple(ops.convert_to_numpy(t) for t in compiled(variants, labels))


def usable_grids(grids, size):
    usable, notes = [], []
    for text in grids:
        try:
            rows, cols = patch_drop.parse_grid(text, size, size)
        except ValueError as error:
            raise ConfigError(f"grids: {error}") from None
        if shuffle.grid_divides(size, size, rows, cols):
            usable.append((rows, cols))
        else:
            notes.append(f"grid {rows}x{cols} skipped: it does not divide {size}x{size} images")
    return usable, notes


def run(adapters, data, config, context):
    size = data.image_size
    grids, notes = usable_grids(config.grids, size)
    sweep = ShuffleSweep(grids, config.repeats, context.seed)
    scorers = {a.name: model_scorer(a, config.head, config.top_k) for a in adapters}
    variants = 1 + config.repeats * len(grids)
    tallies = {a.name: Tally(variants, data.num_classes) for a in adapters}
    total, done = data.num_batches or 0, 0
    for batch in data.batches():
        shuffled = sweep(batch["image"], batch["index"])
        labels = ops.convert_to_tensor(np.asarray(batch["label"]), "int32")
        for adapter in adapters:
            hits1, hitsk = scorers[adapter.name](shuffled, labels)
            tallies[adapter.name].add(hits1, hitsk, batch["label"])
        done += 1
        context.progress(done, max(total, done))
    return _result(adapters, data, grids, config, tallies, notes)


def _split(rates, repeats, grids):
    """Per-variant rates -> (R, 1 + G): the unshuffled value leads every repeat's row."""
    return np.concatenate([np.full((repeats, 1), rates[0]), rates[1:].reshape(repeats, len(grids))], axis=1)


def _result(adapters, data, grids, config, tallies, notes):
    names = [a.name for a in adapters]
    labels = ["none"] + [f"{r}x{c}" for r, c in grids]
    cells = [1] + [r * c for r, c in grids]
    top1 = np.stack([_split(tallies[n].rates()[0], config.repeats, grids) for n in names])
    topk = np.stack([_split(tallies[n].rates()[1], config.repeats, grids) for n in names])
    per_class = []
    for n in names:
        rc = tallies[n].rates()[3]
        per_class.append(np.concatenate([rc[:1], rc[1:].reshape(config.repeats, len(grids), -1).mean(axis=0)]))
    arrays = {
        "grids": np.asarray(labels, dtype=str),
        "cells": np.asarray(cells),
        "top1": top1,
        "top5": topk,
        "top1_mean": top1.mean(axis=1),
        "top1_std": top1.std(axis=1),
        "top5_mean": topk.mean(axis=1),
        "top1_per_class": np.stack(per_class),
        "class_names": np.asarray(data.class_names, dtype=str),
    }
    curve = Curve(
        title="Patch shuffle: top-1 accuracy",
        x_label="shuffle grid (number of cells)",
        y_label="top-1 accuracy",
        x=cells,
        x_ticks=labels,
        series={n: arrays["top1_mean"][i].tolist() for i, n in enumerate(names)},
        errors={n: arrays["top1_std"][i].tolist() for i, n in enumerate(names)},
    )
    rows = [
        [
            n,
            labels[j],
            cells[j],
            float(arrays["top1_mean"][i, j]),
            float(arrays["top1_std"][i, j]),
            float(arrays["top5_mean"][i, j]),
        ]
        for i, n in enumerate(names)
        for j in range(len(labels))
    ]
    table = Table(title="Patch shuffle", columns=["model", "grid", "cells", "top-1", "top-1 std", "top-5"], rows=rows)
    summary = {}
    for i, n in enumerate(names):
        summary[f"top1_{labels[-1]}/{n}"] = float(arrays["top1_mean"][i, -1])
        summary[f"top1_none/{n}"] = float(arrays["top1_mean"][i, 0])
    return Result(
        experiment="shuffle",
        config={"grids_used": labels[1:]},
        models=names,
        arrays=arrays,
        curves=[curve],
        tables=[table],
        summary=summary,
        notes=notes,
    )


EXPERIMENT = Experiment(
    name="shuffle",
    description="Patch shuffle: accuracy vs shuffle grid size.",
    Config=Config,
    run=run,
    metrics=(
        Metric("top1_none", "top-1 accuracy of the unshuffled images"),
        Metric("top1_{grid}", "top-1 accuracy with the finest usable shuffle grid"),
    ),
    smoke=dict(grids=["2x2", "4x4"]),
)

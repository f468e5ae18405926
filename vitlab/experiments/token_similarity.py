"""Class token vs distillation (shape) token: cosine similarity per block, and head accuracy.

The paper reports a final-block similarity of about 0.35 / 0.68 for shape-distilled
DeiT-T / DeiT-S against about 0.96 / 0.94 for texture-distilled DeiT: a shape token that
learned something the class token did not stays far from it. Models without a distillation
token have nothing to compare; they are listed with a note and their one head's accuracy.
"""

import dataclasses

import numpy as np

from vitlab.experiments.base import Experiment, Metric
from vitlab.results.result import Curve, Result, Table

PAPER_REFERENCE = (
    "paper (Naseer et al. 2021): final-block class/shape token cosine similarity ~0.35 (DeiT-T) and "
    "~0.68 (DeiT-S) when shape-distilled, ~0.96 / ~0.94 when texture-distilled"
)


@dataclasses.dataclass
class Config:
    pass


def cosine(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1) + 1e-12)


class _Running:
    """Per-block sum and sum of squares of the per-image similarity, plus head hits."""

    def __init__(self, blocks):
        self.total = np.zeros(blocks)
        self.squares = np.zeros(blocks)
        self.count = 0
        self.hits = {"class": 0, "dist": 0, "average": 0}

    def mean_std(self):
        mean = self.total / max(self.count, 1)
        return mean, np.sqrt(np.maximum(self.squares / max(self.count, 1) - mean**2, 0.0))


def run(adapters, data, config, context):
    distilled = [a for a in adapters if a.has_dist_token]
    others = [a for a in adapters if not a.has_dist_token]
    stats = {a.name: _Running(a.num_blocks) for a in distilled}
    single_hits = {a.name: 0 for a in others}
    seen = 0
    for batch in data.batches():
        images, labels = batch["image"], batch["label"]
        for adapter in distilled:
            out = adapter.forward(images, tokens=True)
            running = stats[adapter.name]
            per_block = np.stack([cosine(np.asarray(t[:, 0]), np.asarray(t[:, 1])) for t in out["tokens"]], axis=1)
            running.total += per_block.sum(axis=0)
            running.squares += (per_block**2).sum(axis=0)
            running.count += len(labels)
            for head in running.hits:
                logits = np.asarray(adapter.select_head(out["heads"], head))
                running.hits[head] += int((logits.argmax(-1) == labels).sum())
        for adapter in others:
            single_hits[adapter.name] += int((np.asarray(adapter.logits(images)).argmax(-1) == labels).sum())
        seen += len(labels)
        context.progress(seen, data.num_examples or seen)
    return _result(adapters, distilled, others, stats, single_hits, max(seen, 1))


def _result(adapters, distilled, others, stats, single_hits, seen):
    curves, arrays, rows, summary = [], {}, [], {}
    notes = [PAPER_REFERENCE]
    if distilled:
        depth = max(a.num_blocks for a in distilled)
        series, errors = {}, {}
        for adapter in distilled:
            mean, std = stats[adapter.name].mean_std()
            series[adapter.name], errors[adapter.name] = mean.tolist(), std.tolist()
            arrays[f"{adapter.name}/similarity_mean"] = mean
            arrays[f"{adapter.name}/similarity_std"] = std
            accuracy = {h: hits / seen for h, hits in stats[adapter.name].hits.items()}
            arrays[f"{adapter.name}/accuracy"] = np.array([accuracy["class"], accuracy["dist"], accuracy["average"]])
            summary[f"final_similarity/{adapter.name}"] = float(mean[-1])
            rows.append(
                [
                    adapter.name,
                    float(mean[-1]),
                    float(std[-1]),
                    accuracy["class"],
                    accuracy["dist"],
                    accuracy["average"],
                ]
            )
        curves.append(
            Curve(
                title="class vs shape token: cosine similarity per block",
                x_label="block",
                y_label="cosine similarity (mean +/- std over images)",
                x=list(range(1, depth + 1)),
                series=series,
                errors=errors,
            )
        )
    for adapter in others:
        accuracy = single_hits[adapter.name] / seen
        rows.append([adapter.name, "-", "-", accuracy, "-", "-"])
        summary[f"accuracy/{adapter.name}"] = accuracy
        notes.append(f"{adapter.name}: no distillation (shape) token, no similarity to measure (skipped)")
    tables = [
        Table(
            title="class vs shape token",
            rows=rows,
            columns=["model", "final-block similarity", "std", "class head acc", "shape head acc", "average acc"],
        )
    ]
    if distilled:
        per_block = [
            [f"block {b + 1}", *[float(stats[a.name].mean_std()[0][b]) if b < a.num_blocks else "-" for a in distilled]]
            for b in range(max(a.num_blocks for a in distilled))
        ]
        tables.append(
            Table(
                title="cosine similarity per block (mean)",
                columns=["block", *[a.name for a in distilled]],
                rows=per_block,
            )
        )
    return Result(
        experiment="token-similarity",
        config={},
        models=[a.name for a in adapters],
        arrays=arrays,
        curves=curves,
        tables=tables,
        summary=summary,
        notes=notes,
    )


EXPERIMENT = Experiment(
    name="token-similarity",
    description="Cosine similarity of class and shape tokens per block.",
    Config=Config,
    run=run,
    metrics=(
        Metric("final_similarity", "cosine similarity of class and shape token after the last block", False),
        Metric("accuracy", "top-1 accuracy of a model without a shape token"),
    ),
    smoke=dict(),
)

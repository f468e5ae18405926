"""Per-block scores -> the curves, tables and arrays of a Result (the paper's figure:
top-1 against block, one line per model and token kind)."""

import dataclasses

import numpy as np

from vitlab.results import Curve, Table


@dataclasses.dataclass
class Score:
    """One feature set of one model, scored by one or more probes."""

    feature: str  # "block 3 class", "last 4 class concat"
    block: int | None  # 0-based block, None for concatenations
    kind: str
    dim: int
    metrics: dict  # probe name -> top-1 accuracy
    details: dict = dataclasses.field(default_factory=dict)  # e.g. {"C": 0.1}


def block_curves(scores, metric_titles, y_label="top-1 accuracy"):
    """One curve per probe metric: x = block (1-based), a series per (model, kind).

    Error bars come from details[f"{metric} ci95"] where a probe gives an interval.
    """
    depth = max((s.block + 1 for rows in scores.values() for s in rows if s.block is not None), default=0)
    x = list(range(1, depth + 1))
    curves = []
    for metric, title in metric_titles.items():
        series, errors = {}, {}
        for model, rows in scores.items():
            kinds = list(dict.fromkeys(s.kind for s in rows if s.block is not None and metric in s.metrics))
            for kind in kinds:
                values, spread = [None] * depth, [0.0] * depth
                for s in rows:
                    if s.block is not None and s.kind == kind and metric in s.metrics:
                        values[s.block] = s.metrics[metric]
                        spread[s.block] = s.details.get(f"{metric} ci95", 0.0)
                label = model if len(kinds) == 1 or kind in ("class", "pooled") else f"{model} {kind}"
                series[label] = values
                if any(f"{metric} ci95" in s.details for s in rows):
                    errors[label] = spread
        if series:
            curves.append(Curve(title=title, x_label="block", y_label=y_label, x=x, series=series, errors=errors))
    return curves


def model_tables(scores, metric_titles, detail_names=()):
    tables = []
    for model, rows in scores.items():
        columns = ["feature", "dim", *metric_titles.values(), *detail_names]
        table_rows = [
            [
                s.feature,
                s.dim,
                *[s.metrics.get(m, float("nan")) for m in metric_titles],
                *[s.details.get(d, "") for d in detail_names],
            ]
            for s in rows
        ]
        tables.append(Table(title=f"{model}", columns=columns, rows=table_rows))
    return tables


def score_arrays(scores, metric_names):
    """model/metric/kind -> accuracy per block (nan where not probed), and the concatenations."""
    arrays = {}
    for model, rows in scores.items():
        depth = max((s.block + 1 for s in rows if s.block is not None), default=0)
        for metric in metric_names:
            for kind in dict.fromkeys(s.kind for s in rows):
                values = np.full(depth, np.nan)
                for s in rows:
                    if s.block is not None and s.kind == kind and metric in s.metrics:
                        values[s.block] = s.metrics[metric]
                if depth and not np.all(np.isnan(values)):
                    arrays[f"{model}/{metric}/{kind}"] = values
            for s in rows:
                if s.block is None and metric in s.metrics:
                    arrays[f"{model}/{metric}/{s.feature.replace(' ', '_')}"] = np.array([s.metrics[metric]])
    return arrays


def headline(scores, metric):
    """Summary numbers: for each model the best block, the last block and the concatenations."""
    summary = {}
    for model, rows in scores.items():
        concat = [s for s in rows if s.block is None and metric in s.metrics]
        for s in concat:
            summary[f"{s.feature.replace(' ', '_')}_top1/{model}"] = s.metrics[metric]
        blocks = [s for s in rows if s.block is not None and metric in s.metrics]
        if blocks:
            best = max(blocks, key=lambda s: s.metrics[metric])
            summary[f"best_block_top1/{model}"] = best.metrics[metric]
            summary[f"best_block/{model}"] = best.block + 1
    return summary

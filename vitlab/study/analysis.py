"""The study's primary endpoint from its snapshot measurements: occlusion retention per cell,
the architecture x recipe interaction paired by seed, the paper's confounded comparison beside
it, and retention against clean accuracy along training (iso-accuracy).

Retention at a drop level is the accuracy kept above chance: (top-1 dropped - chance) /
(top-1 clean - chance), 1 when occlusion costs nothing, 0 when it leaves chance. Every number
here is read from CELL/snapshot_metrics.json (vitlab.study.snapshot_eval), so the analysis
needs no model and runs in a second.
"""

import math

import numpy as np

from vitlab.findings.stats import estimate

CHANCE = 0.1  # ten balanced classes
LEVELS = ("0.25", "0.50")
SETS = ("test", "stylized")
ACCURACY_GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
# Retention is left out (nan) below chance + MIN_MARGIN: on 1,000 images a top-1 has a standard
# error up to 0.016, so a smaller denominator makes the ratio mostly noise (a model at 0.109 on
# the stylized set "kept" 1.22 of its accuracy at 25% drop).
MIN_MARGIN = 0.1


def retention(clean, dropped, chance=CHANCE, margin=MIN_MARGIN):
    """Share of the clean accuracy above chance that survives the drop (nan within `margin` of chance)."""
    if clean - chance < margin - 1e-9:
        return math.nan
    return (dropped - chance) / (clean - chance)


def steps_of(key, steps_per_epoch=None):
    """Training steps behind a snapshot key: `epoch-NNN` (after N epochs) or `step-NNNNNNN`."""
    from vitlab.study import design

    kind, _, number = key.partition("-")
    return int(number) * ((steps_per_epoch or design.SCHEDULE.steps_per_epoch) if kind == "epoch" else 1)


def in_training_order(metrics):
    """Snapshot keys ordered by the steps behind them (recorded with each measurement; from the
    key and the study's schedule for older records)."""
    return sorted(metrics, key=lambda key: metrics[key].get("steps", steps_of(key)))


def final(metrics):
    """The last snapshot's measurement of a cell (its snapshot_metrics.json as a dict)."""
    return metrics[in_training_order(metrics)[-1]] if metrics else None


def cell_retention(metrics, level, split="test"):
    point = final(metrics)
    if point is None:
        return math.nan
    return retention(point[split]["0.00"], point[split][level])


def interaction(by_seed, level, split="test"):
    """{seed: {cell: metrics}} -> (interaction, paper's comparison, architecture under each recipe)
    as Estimates over the seeds that hold all four cells of the 2x2.

    interaction = (ViT - ResNet retention under `deit`) - (ViT - ResNet under `basic`);
    paper = ViT under `deit` - ResNet under `basic`, the comparison the paper made."""
    rows = {"interaction": [], "paper": [], "deit": [], "basic": []}
    for cells in by_seed.values():
        if not all(cells.get(c) for c in ("vit_deit", "resnet_deit", "vit_basic", "resnet_basic")):
            continue
        r = {
            c: cell_retention(cells[c], level, split) for c in ("vit_deit", "resnet_deit", "vit_basic", "resnet_basic")
        }
        rows["deit"].append(r["vit_deit"] - r["resnet_deit"])
        rows["basic"].append(r["vit_basic"] - r["resnet_basic"])
        rows["interaction"].append(rows["deit"][-1] - rows["basic"][-1])
        rows["paper"].append(r["vit_deit"] - r["resnet_basic"])
    return {key: estimate(values) for key, values in rows.items()}


def along_training(metrics, level, split="test"):
    """(clean accuracies, retentions) per snapshot, in epoch order."""
    clean, kept = [], []
    for key in in_training_order(metrics):
        point = metrics[key][split]
        clean.append(point["0.00"])
        kept.append(retention(point["0.00"], point[level]))
    return np.array(clean), np.array(kept)


def at_matched_accuracy(metrics, level, split="test", grid=ACCURACY_GRID):
    """Retention interpolated at each clean accuracy of `grid` the cell passed through while it
    trained (nan where it never got there): cells compared at equal clean accuracy, not equal
    training. Clean accuracy is made monotone (its running maximum) before interpolating."""
    clean, kept = along_training(metrics, level, split)
    out = {}
    for accuracy in grid:
        if not len(clean) or accuracy > clean.max() or accuracy < clean.min():
            out[accuracy] = math.nan
            continue
        running = np.maximum.accumulate(clean)
        order = np.argsort(running, kind="stable")
        out[accuracy] = float(np.interp(accuracy, running[order], kept[order]))
    return out

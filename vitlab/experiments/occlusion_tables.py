"""Turning the tallies of an occlusion sweep into a Result (arrays per mode,
accuracy-vs-information-loss curves with std over repeats, tables)."""

import numpy as np

from vitlab.results.result import Curve, Result, Table

X_LABELS = {
    "random": "information loss (fraction of patches dropped)",
    "mask_salient": "information loss (foreground patches first)",
    "mask_non_salient": "information loss (background patches first)",
    "salient": "lambda (attention mass of the dropped foreground)",
    "non_salient": "lambda (attention mass of the kept foreground)",
    "lesion": "fraction of tokens / cells dropped inside the network",
}


def _mode_arrays(mode, repeats, levels, rates_by_model):
    """Stack per-model rates of one mode into (M, R, L) arrays (R = 1 for saliency modes)."""
    top1, topk, dropped, per_class = [], [], [], []
    for rates, indices in rates_by_model:
        r1, rk, rd, rc = rates
        shape = (repeats, len(levels))
        top1.append(r1[indices].reshape(shape))
        topk.append(rk[indices].reshape(shape))
        dropped.append(rd[indices].reshape(shape))
        per_class.append(rc[indices].reshape(shape + rc.shape[1:]).mean(axis=0))
    top1, topk = np.stack(top1), np.stack(topk)
    return {
        f"{mode}/levels": np.asarray(levels, dtype="float32"),
        f"{mode}/top1": top1,
        f"{mode}/top5": topk,
        f"{mode}/top1_mean": top1.mean(axis=1),
        f"{mode}/top1_std": top1.std(axis=1),
        f"{mode}/top5_mean": topk.mean(axis=1),
        f"{mode}/top5_std": topk.std(axis=1),
        f"{mode}/pixels_dropped": np.stack(dropped),
        f"{mode}/top1_per_class": np.stack(per_class),
    }


def _curve_and_table(mode, names, arrays, title_suffix=""):
    levels = [round(float(v), 4) for v in arrays[f"{mode}/levels"]]
    mean, std = arrays[f"{mode}/top1_mean"], arrays[f"{mode}/top1_std"]
    curve = Curve(
        title=f"PatchDrop {mode}{title_suffix}: top-1 accuracy",
        x_label=X_LABELS[mode],
        y_label="top-1 accuracy",
        x=levels,
        series={n: mean[i].tolist() for i, n in enumerate(names)},
        errors={n: std[i].tolist() for i, n in enumerate(names)},
    )
    rows = []
    dropped = arrays.get(f"{mode}/pixels_dropped")
    for i, name in enumerate(names):
        for j, level in enumerate(levels):
            pixels = float(dropped[i, :, j].mean()) if dropped is not None else float("nan")
            rows.append(
                [name, level, pixels, float(mean[i, j]), float(std[i, j]), float(arrays[f"{mode}/top5_mean"][i, j])]
            )
    table = Table(
        title=f"PatchDrop {mode}{title_suffix}",
        columns=["model", "level", "pixels dropped", "top-1", "top-1 std", "top-5"],
        rows=rows,
    )
    return curve, table


def build_result(adapters, data, config, grid, variants, tallies, lesion_tallies, providers):
    names = [a.name for a in adapters]
    arrays = {"class_names": np.asarray(data.class_names, dtype=str)}
    curves, tables, notes = [], [], []
    for mode in [m for m in config.modes if m != "lesion"]:
        levels = config.lambdas if mode in ("salient", "non_salient") else config.levels
        repeats = 1 if mode in ("salient", "non_salient") else config.repeats
        per_model = []
        for adapter in adapters:
            indices = [i for i, v in enumerate(variants[adapter.name]) if v.mode == mode]
            per_model.append((tallies[adapter.name].rates(), indices))
        arrays.update(_mode_arrays(mode, repeats, levels, per_model))
        suffix = f" ({grid[0]}x{grid[1]} grid)" if mode in ("random", "mask_salient", "mask_non_salient") else ""
        curve, table = _curve_and_table(mode, names, arrays, suffix)
        curves.append(curve)
        tables.append(table)
    if providers:
        notes.append(
            "saliency: "
            + ", ".join(
                f"{n} <- {p.adapter.name} (block {config.saliency_block}, "
                f"head {config.saliency_head}, {config.saliency_token} token)"
                for n, p in providers.items()
            )
        )
        own = config.saliency_normalization == "own"
        notes.append(
            "saliency input normalised with "
            + (
                "the saliency model's own mean/std"
                if own
                else "each evaluated model's mean/std, as the official evaluate.py does (line 134)"
            )
        )
    if lesion_tallies:
        _add_lesion(adapters, config, lesion_tallies, arrays, curves, tables)
        notes.append(
            "lesion (official): int(rate x tokens) ViT tokens zeroed once at the block's input; ResNet "
            "Bernoulli cell mask at drop point block+1 (1: after the stem)"
            if config.lesion_variant == "official"
            else "lesion (key_mask): ViT tokens dropped at a block stop being attended (keys) from that "
            "block on; ResNet cells are zeroed after the stage."
        )
    if "random" in config.modes and any(config.grid_offset):
        notes.append(f"random grid shifted by {config.grid_offset} pixels; the strip before it is never dropped")
    return Result(
        experiment="occlusion",
        config={"grid": f"{grid[0]}x{grid[1]}"},
        models=names,
        arrays=arrays,
        curves=curves,
        tables=tables,
        summary=_summary(names, config, arrays),
        notes=notes,
    )


def _add_lesion(adapters, config, lesion_tallies, arrays, curves, tables):
    names, blocks, levels = [a.name for a in adapters], config.lesion_blocks, config.lesion_levels
    shape = (config.repeats, len(levels))
    top1 = np.stack([[lesion_tallies[(n, b)].rates()[0].reshape(shape) for b in blocks] for n in names])
    topk = np.stack([[lesion_tallies[(n, b)].rates()[1].reshape(shape) for b in blocks] for n in names])
    per_class = np.stack(
        [[lesion_tallies[(n, b)].rates()[3].reshape(shape + (-1,)).mean(axis=0) for b in blocks] for n in names]
    )
    arrays.update(
        {
            "lesion/blocks": np.asarray(blocks),
            "lesion/levels": np.asarray(levels, dtype="float32"),
            "lesion/top1": top1.transpose(0, 2, 1, 3),
            "lesion/top5": topk.transpose(0, 2, 1, 3),
            "lesion/top1_mean": top1.mean(axis=2),
            "lesion/top1_std": top1.std(axis=2),
            "lesion/top1_per_class": per_class,
        }
    )
    series = {
        f"{n} @ block {b}": top1[i, j].mean(axis=0).tolist() for i, n in enumerate(names) for j, b in enumerate(blocks)
    }
    errors = {
        f"{n} @ block {b}": top1[i, j].std(axis=0).tolist() for i, n in enumerate(names) for j, b in enumerate(blocks)
    }
    curves.append(
        Curve(
            title="Lesion: top-1 accuracy",
            x_label=X_LABELS["lesion"],
            y_label="top-1 accuracy",
            x=list(levels),
            series=series,
            errors=errors,
        )
    )
    rows = [
        [n, b, float(lv), float(top1[i, j, :, k].mean()), float(top1[i, j, :, k].std()), float(topk[i, j, :, k].mean())]
        for i, n in enumerate(names)
        for j, b in enumerate(blocks)
        for k, lv in enumerate(levels)
    ]
    tables.append(
        Table(
            title="Lesion (intermediate token / cell drop)",
            columns=["model", "block", "level", "top-1", "top-1 std", "top-5"],
            rows=rows,
        )
    )


def _summary(names, config, arrays):
    summary = {}
    for mode in [m for m in ("random", "mask_salient", "mask_non_salient") if m in config.modes]:
        levels = list(arrays[f"{mode}/levels"])
        pick = int(np.argmin(np.abs(np.asarray(levels) - 0.5)))
        for i, name in enumerate(names):
            summary[f"top1_{mode}_{levels[pick]:.2f}/{name}"] = float(arrays[f"{mode}/top1_mean"][i, pick])
    for mode in [m for m in ("salient", "non_salient") if m in config.modes]:
        levels = list(arrays[f"{mode}/levels"])
        pick = int(np.argmin(np.abs(np.asarray(levels) - 0.5)))
        for i, name in enumerate(names):
            summary[f"top1_{mode}_lambda{levels[pick]:.1f}/{name}"] = float(arrays[f"{mode}/top1_mean"][i, pick])
    return summary

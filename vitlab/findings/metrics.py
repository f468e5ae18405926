"""One seed's measurements, read out of its run's Results by step key.

Every function takes {step key: Result} and returns (scalars, curves): scalars are
"claim-area/quantity/model" -> float, curves are the same kind of key -> SeedCurve. A step
that is missing simply contributes nothing, so a partial run still aggregates.
"""

import dataclasses

import numpy as np


@dataclasses.dataclass
class SeedCurve:
    x: list  # numbers (plotted) ...
    y: np.ndarray
    ticks: list | None = None  # ... or labels shown at those numbers


def _index(result, model):
    return result.models.index(model)


MIN_ABOVE_CHANCE = 0.1  # a model within this of chance has learned too little to compare


def _chance(result):
    names = result.arrays.get("class_names")
    return 1.0 / len(names) if names is not None and len(names) else 0.1


def _relative(values, clean, chance):
    """Accuracy retained above chance: 1 = as clean, 0 = chance; nan for a model near chance."""
    values = np.asarray(values, dtype=float)
    if clean - chance < MIN_ABOVE_CHANCE:
        return np.full(len(values), np.nan)
    return (values - chance) / (clean - chance)


def _nearest(levels, target):
    return int(np.argmin(np.abs(np.asarray(levels, dtype=float) - target)))


def occlusion(results, key="occlusion"):
    scalars, curves = {}, {}
    result = results.get(key)
    if result is None:
        return scalars, curves
    for mode in ("random", "mask_salient", "mask_non_salient"):
        if f"{mode}/levels" not in result.arrays:
            continue
        levels = [float(v) for v in result.arrays[f"{mode}/levels"]]
        if 0.0 not in levels:
            continue
        for i, model in enumerate(result.models):
            top1 = np.asarray(result.arrays[f"{mode}/top1_mean"][i], dtype=float)
            relative = _relative(top1, top1[levels.index(0.0)], _chance(result))
            curves[f"occlusion/{mode}/{model}"] = SeedCurve(levels, top1)
            curves[f"occlusion/{mode}/relative/{model}"] = SeedCurve(levels, relative)
            half = _nearest(levels, 0.5)
            scalars[f"occlusion/{mode}/top1_50/{model}"] = float(top1[half])
            scalars[f"occlusion/{mode}/relative_50/{model}"] = float(relative[half])
            scalars[f"occlusion/{mode}/relative_mean/{model}"] = float(np.mean(relative[np.asarray(levels) > 0]))
            scalars[f"clean/{model}"] = float(top1[levels.index(0.0)])
    return scalars, curves


def correlation(results, key="correlation"):
    scalars, curves = {}, {}
    result = results.get(key)
    if result is None:
        return scalars, curves
    levels = [float(v) for v in result.arrays["levels"]]
    for model in result.models:
        values = np.asarray(result.arrays[f"{model}/correlation"], dtype=float)  # (levels, blocks)
        for li, level in enumerate(levels):
            tag = int(round(level * 100))
            depth = values.shape[1]
            curves[f"correlation/{tag}/{model}"] = SeedCurve([(b + 1) / depth for b in range(depth)], values[li])
            scalars[f"correlation/last_{tag}/{model}"] = float(values[li, -1])
    return scalars, curves


def shuffle(results, key="shuffle"):
    scalars, curves = {}, {}
    result = results.get(key)
    if result is None:
        return scalars, curves
    grids = [str(g) for g in result.arrays["grids"]]
    for i, model in enumerate(result.models):
        top1 = np.asarray(result.arrays["top1_mean"][i], dtype=float)
        relative = _relative(top1, top1[0], _chance(result))
        curves[f"shuffle/{model}"] = SeedCurve(list(range(len(grids))), top1, grids)
        curves[f"shuffle/relative/{model}"] = SeedCurve(list(range(len(grids))), relative, grids)
        for grid, value in zip(grids[1:], relative[1:]):
            scalars[f"shuffle/relative_{grid}/{model}"] = float(value)
        scalars[f"shuffle/relative_mean/{model}"] = float(np.mean(relative[1:]))
    return scalars, curves


def shape_bias(results, key="shape-bias"):
    result = results.get(key)
    if result is None:
        return {}, {}
    rows = list(result.config.get("rows", []))
    return {f"shape_bias/{row}": float(v) for row, v in zip(rows, result.arrays["shape_bias"])}, {}


def token_similarity(results, key="token-similarity"):
    scalars, curves = {}, {}
    result = results.get(key)
    if result is None:
        return scalars, curves
    for model in result.models:
        values = result.arrays.get(f"{model}/similarity_mean")
        if values is None:
            continue
        values = np.asarray(values, dtype=float)
        curves[f"token_similarity/{model}"] = SeedCurve(list(range(1, len(values) + 1)), values)
        scalars[f"token_similarity/final/{model}"] = float(values[-1])
    return scalars, curves


def segmentation(results, key="segmentation"):
    result = results.get(key)
    if result is None:
        return {}, {}
    scalars = {}
    for name, value in result.summary.items():  # jaccard_<token>/<model>
        token, model = name.split("/", 1)
        scalars[f"segmentation/{token.removeprefix('jaccard_')}/{model}"] = float(value)
    return scalars, {}


def corruption(results, key="corruption"):
    result = results.get(key)
    if result is None:
        return {}, {}
    scalars = {}
    for k, model in enumerate(result.models):
        for name in ("mce", "relative_mce", "mean_error", "clean_error"):
            if name in result.arrays:
                scalars[f"corruption/{name}/{model}"] = float(np.asarray(result.arrays[name])[k])
    return scalars, {}


def adversarial(results, key="adversarial"):
    scalars, curves = {}, {}
    result = results.get(key)
    if result is None:
        return scalars, curves
    accuracy = np.asarray(result.arrays["accuracy"], dtype=float)  # model x head x attack x epsilon
    epsilons = [float(e) * 255 for e in result.arrays["epsilons"]]
    attacks = list(result.config.get("attacks", ["fgsm", "pgd"]))
    for m, model in enumerate(result.models):
        for a, attack in enumerate(attacks):
            rows = [accuracy[m, h, a] for h in range(accuracy.shape[1]) if not np.isnan(accuracy[m, h, a]).all()]
            if not rows:
                continue
            values = rows[-1]  # the last head evaluated: 'average' for DeiTs, the only one otherwise
            curves[f"adversarial/{attack}/{model}"] = SeedCurve(epsilons, values)
            scalars[f"adversarial/{attack}/top1_max_eps/{model}"] = float(values[-1])
            retained = _relative(values, values[0], 0.1)  # the findings evaluate attacks on shapes: 10 classes
            scalars[f"adversarial/{attack}/relative_max_eps/{model}"] = float(retained[-1])
    return scalars, curves


def linear_probe(results, key="linear-probe"):
    scalars, curves = {}, {}
    result = results.get(key)
    if result is None:
        return scalars, curves
    for model in result.models:
        method = "logistic" if any(k.startswith(f"{model}/logistic/") for k in result.arrays) else "linear"
        main = next((kind for kind in ("class", "pooled") if f"{model}/{method}/{kind}" in result.arrays), None)
        if main is None:
            continue
        per_block = np.asarray(result.arrays[f"{model}/{method}/{main}"], dtype=float)
        curves[f"probe/{model}"] = SeedCurve([(b + 1) / len(per_block) for b in range(len(per_block))], per_block)
        scalars[f"probe/last_block/{model}"] = float(per_block[-1])
        scalars[f"probe/best_block/{model}"] = float(np.nanmax(per_block))
        last4 = [k for k in result.arrays if k.startswith(f"{model}/{method}/last_") and k.endswith("_concat")]
        if last4:
            scalars[f"probe/last4_concat/{model}"] = float(np.asarray(result.arrays[last4[0]]).ravel()[0])
    return scalars, curves


def training(info):
    """Clean validation accuracy and seconds per trained model, from run.json's `training`."""
    scalars = {}
    for name, entry in (info.get("training") or {}).items():
        for source, target in (("val_accuracy", "validation"), ("seconds", "train_seconds")):
            if isinstance(entry.get(source), (int, float)):
                scalars[f"training/{target}/{name}"] = float(entry[source])
    return scalars


EXTRACTORS = (occlusion, correlation, shuffle, shape_bias, token_similarity, segmentation, corruption, adversarial,
              linear_probe)


def measure(results, info=None):
    """(scalars, curves) of one seed's run: every extractor over its results, plus training."""
    scalars, curves = {}, {}
    for extractor in EXTRACTORS:
        more_scalars, more_curves = extractor(results)
        scalars.update(more_scalars)
        curves.update(more_curves)
    scalars.update(training(info or {}))
    return scalars, curves

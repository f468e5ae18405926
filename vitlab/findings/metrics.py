"""One seed's measurements, read out of its run's Results by step key.

Every function takes {step key: Result} and returns (scalars, curves): scalars are
"claim-area/quantity/model" -> float, curves are the same kind of key -> SeedCurve. A step
that is missing simply contributes nothing, so a partial run still aggregates. Scalars are
read by metric name from the Result's summary (vitlab.experiments.base.metric_values),
per-model arrays through base.model_array, so no experiment's array layout is written here.
"""

import dataclasses

import numpy as np

from vitlab.experiments.base import metric_names, metric_values, model_array


@dataclasses.dataclass
class SeedCurve:
    x: list  # numbers (plotted) ...
    y: np.ndarray
    ticks: list | None = None  # ... or labels shown at those numbers


def number(value):
    """A summary value as a float; a stored NaN comes back from JSON as None."""
    return float("nan") if value is None else float(value)


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
        for model in result.models:
            top1 = np.asarray(model_array(result, f"{mode}/top1_mean", model), dtype=float)
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
        values = np.asarray(model_array(result, "correlation", model), dtype=float)  # (levels, blocks)
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
    for model in result.models:
        top1 = np.asarray(model_array(result, "top1_mean", model), dtype=float)
        relative = _relative(top1, top1[0], _chance(result))
        curves[f"shuffle/{model}"] = SeedCurve(list(range(len(grids))), top1, grids)
        curves[f"shuffle/relative/{model}"] = SeedCurve(list(range(len(grids))), relative, grids)
        for grid, value in zip(grids[1:], relative[1:]):
            scalars[f"shuffle/relative_{grid}/{model}"] = number(value)
        scalars[f"shuffle/relative_mean/{model}"] = float(np.mean(relative[1:]))
    return scalars, curves


def shape_bias(results, key="shape-bias"):
    result = results.get(key)
    if result is None:
        return {}, {}
    return {f"shape_bias/{row}": float(v) for row, v in metric_values(result, "shape_bias").items()}, {}


def token_similarity(results, key="token-similarity"):
    scalars, curves = {}, {}
    result = results.get(key)
    if result is None:
        return scalars, curves
    for model in result.models:
        values = model_array(result, "similarity_mean", model)
        if values is not None:
            values = np.asarray(values, dtype=float)
            curves[f"token_similarity/{model}"] = SeedCurve(list(range(1, len(values) + 1)), values)
    for model, value in metric_values(result, "final_similarity").items():
        scalars[f"token_similarity/final/{model}"] = number(value)
    return scalars, curves


def segmentation(results, key="segmentation"):
    result = results.get(key)
    if result is None:
        return {}, {}
    scalars = {}
    for metric in [m for m in metric_names(result) if m.startswith("jaccard_")]:  # jaccard_<token>
        for model, value in metric_values(result, metric).items():
            scalars[f"segmentation/{metric.removeprefix('jaccard_')}/{model}"] = number(value)
    return scalars, {}


def corruption(results, key="corruption"):
    result = results.get(key)
    if result is None:
        return {}, {}
    scalars = {}
    for name, metric in (
        ("mce", "mCE"),
        ("relative_mce", "relative_mCE"),
        ("mean_error", "mean_error"),
        ("clean_error", "clean_error"),
    ):
        for model, value in metric_values(result, metric).items():
            scalars[f"corruption/{name}/{model}"] = number(value)
    if "errors" in result.arrays:  # per corruption, summed over severities: CE against any model
        for model in result.models:
            errors = np.asarray(model_array(result, "errors", model), dtype=float)  # corruption x severity
            for index, total in enumerate(errors.sum(axis=-1)):
                scalars[f"corruption/error_sum_{index}/{model}"] = float(total)
    return scalars, {}


def adversarial(results, key="adversarial"):
    scalars, curves = {}, {}
    result = results.get(key)
    if result is None:
        return scalars, curves
    epsilons = [float(e) * 255 for e in result.arrays["epsilons"]]
    attacks = list(result.config.get("attacks", ["fgsm", "pgd"]))
    for model in result.models:
        accuracy = np.asarray(model_array(result, "accuracy", model), dtype=float)  # head x attack x epsilon
        for a, attack in enumerate(attacks):
            rows = [accuracy[h, a] for h in range(accuracy.shape[0]) if not np.isnan(accuracy[h, a]).all()]
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
        main = next(
            (kind for kind in ("class", "pooled") if model_array(result, f"{method}/{kind}", model) is not None), None
        )
        if main is None:
            continue
        per_block = np.asarray(model_array(result, f"{method}/{main}", model), dtype=float)
        curves[f"probe/{model}"] = SeedCurve([(b + 1) / len(per_block) for b in range(len(per_block))], per_block)
        scalars[f"probe/last_block/{model}"] = float(per_block[-1])
        scalars[f"probe/best_block/{model}"] = float(np.nanmax(per_block))
        last4 = [k for k in result.arrays if k.startswith(f"{model}/{method}/last_") and k.endswith("_concat")]
        if last4:
            scalars[f"probe/last4_concat/{model}"] = float(np.asarray(result.arrays[last4[0]]).ravel()[0])
    return scalars, curves


def training(info):
    """Clean accuracy and training seconds per model: from run.json's `training` for models the
    run trained, from the zoo cards the study stored beside the run (`zoo_cards`) for zoo models."""
    scalars = {}
    for name, entry in (info.get("training") or {}).items():
        for source, target in (("val_accuracy", "validation"), ("seconds", "train_seconds")):
            if isinstance(entry.get(source), (int, float)):
                scalars[f"training/{target}/{name}"] = float(entry[source])
    for card in info.get("zoo_cards") or []:
        for source, target in (
            ("clean_accuracy", "validation"),
            ("training_seconds", "train_seconds"),
            ("training_cpu_seconds", "train_cpu_seconds"),
            ("training_seconds_steady", "train_steady_seconds"),
        ):
            if isinstance(card.get(source), (int, float)):
                scalars[f"training/{target}/{card['role']}"] = float(card[source])
    return scalars


EXTRACTORS = (
    occlusion,
    correlation,
    shuffle,
    shape_bias,
    token_similarity,
    segmentation,
    corruption,
    adversarial,
    linear_probe,
)


def measure(results, info=None):
    """(scalars, curves) of one seed's run: every extractor over its results, plus training."""
    scalars, curves = {}, {}
    for extractor in EXTRACTORS:
        more_scalars, more_curves = extractor(results)
        scalars.update(more_scalars)
        curves.update(more_curves)
    scalars.update(training(info or {}))
    return scalars, curves

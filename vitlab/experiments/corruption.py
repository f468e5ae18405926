"""Natural corruptions, the ImageNet-C protocol: top-1 error per (corruption, severity), CE, mCE.

Images come from the released ImageNet-C (`imagenet_c`: a folder root
<corruption>/<severity>/<class>/<file>, or "tfds" for tfds:imagenet2012_corrupted/<name>_<severity>),
read as Hendrycks' test.py reads them: CenterCrop(224) alone, no resize (the files were
resized and cropped once when the set was made); from a prepared set (`corruption_dir`); or,
by default, are corrupted on the fly from the run's dataset. The last two are vitlab's
corruptions (re-implemented filters, no JPEG round trip), not the released files: the result's
config, notes, curve titles and run.json say so, because their CE against AlexNet's errors
on the released files is not the paper's number. Each corrupted batch is made once and shown
to every model.

CE(c) = sum_s E(c, s) / sum_s E_base(c, s); mCE = mean CE over the 15 ImageNet-C
corruptions (the 4 extra ones are reported apart); relative CE subtracts clean errors.
The baseline is AlexNet's published errors whenever the data has ImageNet's 1000 classes
(Hendrycks & Dietterich; vitlab/protocol/corruption.py), otherwise a named model or, by
default, the first CNN of the run; its label is in the notes and the result's config. The
unnormalized mean error is always reported.
"""

import dataclasses

import numpy as np

from vitlab.experiments import heads
from vitlab.experiments.base import Experiment, Metric
from vitlab.perturb import corruptions as lib
from vitlab.perturb.compiled import compile_logits
from vitlab.results.result import Curve, Result, Table


@dataclasses.dataclass
class Config:
    corruptions: list[str] = dataclasses.field(default_factory=lambda: list(lib.ALL))
    severities: list[int] = dataclasses.field(default_factory=lambda: list(lib.SEVERITIES))
    corruption_dir: str | None = None  # a set from `vitlab data prepare corruptions`
    imagenet_c: str | None = None  # ImageNet-C folder root, or "tfds"
    baseline: str | None = None  # a model of the run, a model spec, "alexnet" or "none"; default: AlexNet's
    # published errors on 1000-class data, else the first CNN of the run (vitlab/protocol/corruption.py)
    head: str = "average"
    batch_size: int = 64

    def validate(self):
        self.corruptions = lib.check_corruptions(self.corruptions)
        self.severities = lib.check_severities(self.severities)
        heads.check_head(self.head)


def _correct(predict_fns, images, labels):
    return np.array([int((fn(images).argmax(-1) == labels).sum()) for fn in predict_fns])


def _batches(images, labels, size):
    for start in range(0, len(images), size):
        yield images[start : start + size], labels[start : start + size]


class _Counter:
    """Correct-prediction counts per model for the clean set and every (corruption, severity)."""

    def __init__(self, num_models, corruptions, severities):
        self.clean = np.zeros(num_models)
        self.clean_total = 0
        self.hits = np.zeros((num_models, len(corruptions), len(severities)))
        self.totals = np.zeros((len(corruptions), len(severities)))

    def errors(self):
        with np.errstate(invalid="ignore", divide="ignore"):
            return 1 - self.clean / max(self.clean_total, 1), 1 - self.hits / self.totals[None]


def _on_the_fly(fns, data, config, context, counter):
    total = data.num_examples or 0
    done = 0
    for batch in data.batches():
        images, labels = batch["image"], batch["label"]
        counter.clean += _correct(fns, images, labels)
        counter.clean_total += len(labels)
        for ci, name in enumerate(config.corruptions):
            for si, severity in enumerate(config.severities):
                corrupted = lib.corrupt_batch(images, name, severity, context.seed, batch["index"])
                counter.hits[:, ci, si] += _correct(fns, corrupted.astype("float32") / 255.0, labels)
                counter.totals[ci, si] += len(labels)
        done += len(labels)
        context.progress(done, max(total, done))


def _prepared(fns, config, context, counter):
    from vitlab.data.corruption_set import CorruptionSet

    stored = CorruptionSet(config.corruption_dir)
    for name in config.corruptions:  # refuse before any work, naming the first missing pair
        for severity in config.severities:
            if not stored.has(name, severity):
                stored.images(name, severity)
    labels = stored.clean["label"]
    for images, batch_labels in _batches(stored.clean["image"], labels, config.batch_size):
        counter.clean += _correct(fns, images.astype("float32") / 255.0, batch_labels)
    counter.clean_total = len(labels)
    pairs = [(ci, si) for ci in range(len(config.corruptions)) for si in range(len(config.severities))]
    for done, (ci, si) in enumerate(pairs, 1):
        all_images = stored.images(config.corruptions[ci], config.severities[si])
        for images, batch_labels in _batches(all_images, labels, config.batch_size):
            counter.hits[:, ci, si] += _correct(fns, images.astype("float32") / 255.0, batch_labels)
        counter.totals[ci, si] = len(labels)
        context.progress(done, len(pairs))
    return stored.manifest


def _imagenet_c(fns, data, config, context, counter):
    from vitlab import data as data_lib
    from vitlab.protocol import corruption as protocol

    for batch in data.batches():
        counter.clean += _correct(fns, batch["image"], batch["label"])
        counter.clean_total += len(batch["label"])
    pairs = [(ci, si) for ci in range(len(config.corruptions)) for si in range(len(config.severities))]
    for done, (ci, si) in enumerate(pairs, 1):
        name, severity = config.corruptions[ci], config.severities[si]
        if config.imagenet_c == "tfds":
            source, split = f"tfds:imagenet2012_corrupted/{name}_{severity}", "validation"
        else:
            source, split = f"{config.imagenet_c.rstrip('/')}/{name}/{severity}", data.split
        subset = data_lib.load(
            source,
            split=split,
            image_size=protocol.RELEASED_SIZE,
            batch_size=config.batch_size,
            limit=data.num_examples,
            seed=context.seed,
            resize="centre",
        )
        for batch in subset.batches():
            counter.hits[:, ci, si] += _correct(fns, batch["image"], batch["label"])
            counter.totals[ci, si] += len(batch["label"])
        context.progress(done, len(pairs))


def _resolve_baseline(adapters, config, num_classes):
    """(published?, baseline adapter index or None, extra adapter or None, label)."""
    from vitlab.protocol import corruption as protocol

    requested = config.baseline or ("alexnet" if config.imagenet_c else None)
    choice, label = protocol.mce_baseline(num_classes, requested, [(a.name, a.kind) for a in adapters])
    if choice == protocol.ALEXNET:
        return True, None, None, label
    if choice is None:
        return False, None, None, label
    names = [a.name for a in adapters]
    if choice in names:
        return False, names.index(choice), None, label
    from vitlab.models.adapter import resolve

    extra = resolve(choice, num_classes=num_classes)
    extra.name = f"baseline:{extra.name}"
    return False, len(adapters), extra, label


def summarize(errors, clean, base_errors, base_clean, names):
    """Per-model CE, relative CE, mCE, relative mCE and mean errors (common / extra)."""
    common = [i for i, n in enumerate(names) if n in lib.COMMON]
    extra = [i for i, n in enumerate(names) if n in lib.EXTRA]
    out = {
        "mean_error": np.array([e[common].mean() if common else np.nan for e in errors]),
        "mean_error_extra": np.array([e[extra].mean() if extra else np.nan for e in errors]),
    }
    if base_errors is not None:
        ces, rels = zip(*[lib.corruption_errors(e, base_errors, c, base_clean) for e, c in zip(errors, clean)])
        out["ce"], out["relative_ce"] = np.array(ces), np.array(rels)
        out["mce"] = np.array([lib.mean_corruption_error(ce, names) for ce in ces])
        out["relative_mce"] = np.array([lib.mean_corruption_error(rel, names) for rel in rels])
    return out


def run(adapters, data, config, context):
    published, base_index, extra, baseline_label = _resolve_baseline(adapters, config, data.num_classes)
    evaluated = list(adapters) + ([extra] if extra else [])
    fns = [compile_logits(heads.head_logits(a, config.head)) for a in evaluated]
    counter = _Counter(len(evaluated), config.corruptions, config.severities)
    from vitlab.protocol import corruption as protocol

    notes = []
    if config.corruption_dir:
        manifest = _prepared(fns, config, context, counter)
        source = protocol.IMAGES_PREPARED
        notes.append(
            f"images from the prepared set {config.corruption_dir} (dataset {manifest['dataset']}, split "
            f"{manifest['split']}, {manifest['num_images']} images); the run's dataset was not used"
        )
    elif config.imagenet_c:
        _imagenet_c(fns, data, config, context, counter)
        source = protocol.IMAGES_RELEASED
        notes.append(
            f"images from the released ImageNet-C ({config.imagenet_c}), centre-cropped to "
            f"{protocol.RELEASED_SIZE} px without a resize (Hendrycks' test.py); clean images from the "
            f"run's dataset with the model's evaluation crop"
        )
    else:
        if data.image_size and lib.needs_upscale(data.image_size, data.image_size):
            notes.append(
                f"{data.image_size}px images were resized up to {lib.MIN_SIZE}px for each corruption "
                f"and back (imagecorruptions refuses smaller images)"
            )
        _on_the_fly(fns, data, config, context, counter)
        source = protocol.IMAGES_ON_THE_FLY
    if source != protocol.IMAGES_RELEASED:
        notes.append(protocol.NOT_RELEASED_NOTE)
    context.record(corruption_images=source)
    clean, errors = counter.errors()
    base_errors = base_clean = None
    if published:
        base_errors = lib.alexnet_errors([n for n in config.corruptions if n in lib.COMMON], config.severities)
        rows = {n: i for i, n in enumerate(n for n in config.corruptions if n in lib.COMMON)}
        base_errors = np.array(
            [base_errors[rows[n]] if n in rows else [np.nan] * len(config.severities) for n in config.corruptions]
        )
        base_clean = protocol.ALEXNET_CLEAN_ERROR
    elif base_index is not None:
        base_errors, base_clean = errors[base_index], clean[base_index]
    notes.append(f"mCE baseline: {baseline_label}")
    if [n for n in config.corruptions if n in lib.COMMON] != list(lib.COMMON):
        notes.append("mCE is over the ImageNet-C corruptions evaluated here, not all 15")
    stats = summarize(errors, clean, base_errors, base_clean, config.corruptions)
    return _result(evaluated, config, clean, errors, stats, notes, baseline_label, source)


def _cell(value):
    """A table cell: a float, or '-' where the number is undefined (no baseline, zero denominator)."""
    return "-" if value is None or np.isnan(value) else float(value)


def _result(evaluated, config, clean, errors, stats, notes, baseline_label="", source=""):
    from vitlab.protocol import corruption as protocol

    names, severities = config.corruptions, config.severities
    which = protocol.IMAGES_LABELS.get(source, source)  # in every curve title: the frame's `curve` column
    models = [a.name for a in evaluated]
    arrays = {"errors": errors, "clean_error": clean, "severities": np.array(severities), **stats}
    curves = []
    for family in [*lib.FAMILIES, lib.EXTRA_FAMILY]:
        members = [i for i, n in enumerate(names) if lib.family_of(n) == family]
        if members:
            curves.append(
                Curve(
                    title=f"{family} corruptions ({which}): error vs severity",
                    x_label="severity",
                    y_label="top-1 error (mean over the family)",
                    x=list(severities),
                    x_ticks=[str(s) for s in severities],
                    series={m: errors[k][members].mean(axis=0).tolist() for k, m in enumerate(models)},
                )
            )
    if "ce" in stats:
        curves.append(
            Curve(
                title=f"corruption error (CE) per corruption ({which})",
                x_label="corruption",
                y_label="CE",
                x=list(range(len(names))),
                x_ticks=list(names),
                kind="bar",
                series={m: stats["ce"][k].tolist() for k, m in enumerate(models)},
            )
        )
    tables = [
        Table(
            title="summary",
            columns=["model", "clean error", "mean error (15)", "mCE", "relative mCE", "mean error (extra 4)"],
            rows=[
                [
                    m,
                    float(clean[k]),
                    float(stats["mean_error"][k]),
                    _cell(stats["mce"][k]) if "mce" in stats else "-",
                    _cell(stats["relative_mce"][k]) if "relative_mce" in stats else "-",
                    _cell(stats["mean_error_extra"][k]),
                ]
                for k, m in enumerate(models)
            ],
        )
    ]
    for k, model in enumerate(models):
        rows = []
        for ci, name in enumerate(names):
            ce = stats["ce"][k][ci] if "ce" in stats else float("nan")
            rel = stats["relative_ce"][k][ci] if "relative_ce" in stats else float("nan")
            rows.append(
                [
                    name,
                    lib.family_of(name),
                    *map(float, errors[k][ci]),
                    float(errors[k][ci].mean()),
                    _cell(ce),
                    _cell(rel),
                ]
            )
        tables.append(
            Table(
                title=f"CE table: {model}",
                rows=rows,
                columns=["corruption", "family", *[f"E s={s}" for s in severities], "mean E", "CE", "relative CE"],
            )
        )
    summary = {}
    for k, model in enumerate(models):
        if "mce" in stats:
            summary[f"mCE/{model}"] = float(stats["mce"][k])
            summary[f"relative_mCE/{model}"] = float(stats["relative_mce"][k])
        summary[f"mean_error/{model}"] = float(stats["mean_error"][k])
        summary[f"clean_error/{model}"] = float(clean[k])
    return Result(
        experiment="corruption",
        config={"models_evaluated": models, "mce_baseline": baseline_label, "corruption_images": source},
        models=models,
        arrays=arrays,
        curves=curves,
        tables=tables,
        summary=summary,
        notes=notes,
    )


EXPERIMENT = Experiment(
    name="corruption",
    description="Natural corruptions (ImageNet-C protocol): error, CE and mCE.",
    Config=Config,
    run=run,
    metrics=(
        Metric("mCE", "mean corruption error over the ImageNet-C corruptions evaluated", False),
        Metric("relative_mCE", "mean relative corruption error (clean error subtracted)", False),
        Metric("mean_error", "unnormalized mean top-1 error over corruptions and severities", False),
        Metric("clean_error", "top-1 error on the clean images", False),
    ),
    smoke=dict(corruptions=["gaussian_noise", "fog"], severities=[1], batch_size=16),
)

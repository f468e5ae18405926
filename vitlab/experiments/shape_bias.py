"""Shape vs texture bias on cue-conflict images (Geirhos et al. 2019), per model and head.

Over images whose shape and texture labels differ, shape bias = shape decisions /
(shape decisions + texture decisions); the fraction of decisions that are neither is
reported too. Data: `shapes:cue_conflict` (label = shape, label2 = texture), or Geirhos's
cue-conflict folder (`<shape>/<shape><n>-<texture><m>.png`, given as the dataset path or as
`cue_conflict_dir`) for ImageNet models, whose 1000 classes are aggregated into the 16
categories by averaging probabilities over each category's ImageNet indices
(imagenet_16_categories.json, the model-vs-human toolbox's mapping).
"""

import dataclasses
import json
import re
from pathlib import Path

import numpy as np

from vitlab.errors import UserError
from vitlab.experiments.base import Experiment, Metric
from vitlab.experiments.heads import check_heads, head_logits, heads_for
from vitlab.perturb.compiled import compile_logits
from vitlab.results.result import Curve, Result, Table

CATEGORY_FILE = Path(__file__).with_name("imagenet_16_categories.json")
CUE_CONFLICT_NAME = re.compile(r"^([a-z]+)(\d+)-([a-z]+)(\d+)\.png$")


class CueConflictError(UserError):
    pass


@dataclasses.dataclass
class Config:
    heads: list[str] = dataclasses.field(default_factory=lambda: ["class", "dist", "average"])
    cue_conflict_dir: str | None = None  # Geirhos's folder; default: the dataset's label/label2
    batch_size: int = 32

    def validate(self):
        self.heads = check_heads(self.heads)


def categories():
    """{category: [ImageNet indices]} in the toolbox's (alphabetical) order."""
    return json.loads(CATEGORY_FILE.read_text())["categories"]


def aggregate_16(probabilities):
    """(N, 1000) ImageNet probabilities -> (N, 16) category probabilities (mean over indices)."""
    probabilities = np.asarray(probabilities)
    return np.stack([probabilities[:, idx].mean(axis=1) for idx in categories().values()], axis=1)


def parse_cue_conflict_name(path):
    """(shape, texture) of a Geirhos cue-conflict file `<shape>/<shape><n>-<texture><m>.png`."""
    path = Path(path)
    match = CUE_CONFLICT_NAME.match(path.name)
    known = categories()
    if not match or match.group(1) not in known or match.group(3) not in known or path.parent.name != match.group(1):
        raise CueConflictError(
            f"{path}: not a cue-conflict file name; expected <shape>/<shape><n>-<texture><m>.png "
            f"with shape and texture among {', '.join(known)}"
        )
    return match.group(1), match.group(3)


def read_cue_conflict_folder(root, image_size, limit=None):
    """Images (N, S, S, 3) uint8, shape labels, texture labels (16-category indices).

    Every file name is checked before any image is read, so a bad name fails at once.
    """
    from PIL import Image

    root = Path(root)
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise CueConflictError(f"{root}: no cue-conflict images found")
    names = list(categories())
    labels = [parse_cue_conflict_name(path) for path in files][:limit]
    images = []
    for path in files[: len(labels)]:
        with Image.open(path) as image:
            images.append(np.asarray(image.convert("RGB").resize((image_size, image_size), Image.BILINEAR)))
    shapes = np.array([names.index(shape) for shape, _ in labels])
    textures = np.array([names.index(texture) for _, texture in labels])
    return np.stack(images), shapes, textures


def shape_bias_stats(decisions, shapes, textures, num_classes):
    """Geirhos's numbers from decisions; images whose shape equals their texture are left out."""
    decisions, shapes, textures = (np.asarray(a) for a in (decisions, shapes, textures))
    keep = shapes != textures
    decisions, shapes, textures = decisions[keep], shapes[keep], textures[keep]
    shape_hits, texture_hits = decisions == shapes, decisions == textures

    def bias(mask):
        s, t = shape_hits[mask].sum(), texture_hits[mask].sum()
        return float(s / (s + t)) if s + t else float("nan")

    count = max(len(decisions), 1)
    return {
        "shape_bias": bias(np.ones(len(decisions), bool)),
        "shape_fraction": float(shape_hits.sum() / count),
        "texture_fraction": float(texture_hits.sum() / count),
        "neither_fraction": float((~shape_hits & ~texture_hits).sum() / count),
        "count": int(keep.sum()),
        "per_class": np.array([bias(shapes == c) for c in range(num_classes)]),
    }


def _source(adapters, data, config):
    folder = config.cue_conflict_dir or (data.name if Path(str(data.name)).is_dir() else None)
    if folder:
        for adapter in adapters:
            if adapter.num_classes not in (16, 1000):
                raise CueConflictError(
                    f"model {adapter.name!r} has {adapter.num_classes} classes; the Geirhos "
                    f"cue-conflict set needs ImageNet-1k (1000-class) or 16-category models"
                )
        size = max(a.image_size for a in adapters)
        limit = data.num_examples if not config.cue_conflict_dir else None
        images, shapes, textures = read_cue_conflict_folder(folder, size, limit)
        return images, shapes, textures, list(categories()), True
    if not data.has_label2:
        raise CueConflictError(
            f"dataset {data.name!r} has no texture label (label2): use shapes:cue_conflict or "
            f"a Geirhos cue-conflict folder (cue_conflict_dir)"
        )
    columns = {"image": [], "label": [], "label2": []}
    for batch in data.batches():
        for key in columns:
            columns[key].append(batch[key])
    return (
        np.concatenate(columns["image"]),
        np.concatenate(columns["label"]),
        np.concatenate(columns["label2"]),
        list(data.class_names),
        False,
    )


def _as_float(images):
    return images.astype(np.float32) / 255.0 if images.dtype == np.uint8 else images


def run(adapters, data, config, context):
    images, shapes, textures, class_names, imagenet = _source(adapters, data, config)
    heads = list(dict.fromkeys(config.heads))
    stats, labels = {}, []
    for m, adapter in enumerate(adapters):
        for head in heads_for(adapter, heads):
            predict = compile_logits(head_logits(adapter, head))
            logits = np.concatenate(
                [
                    predict(_as_float(images[i : i + config.batch_size]))
                    for i in range(0, len(images), config.batch_size)
                ]
            )
            if imagenet and logits.shape[1] == 1000:
                shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
                logits = aggregate_16(shifted / shifted.sum(axis=1, keepdims=True))
            label = f"{adapter.name}/{head}" if adapter.has_dist_token else adapter.name
            stats[label] = shape_bias_stats(logits.argmax(-1), shapes, textures, len(class_names))
            labels.append((adapter.name, head if adapter.has_dist_token else "-", label))
        context.progress(m + 1, len(adapters))
    return _result(adapters, labels, stats, class_names)


def _cell(value):
    return "-" if np.isnan(value) else float(value)  # no shape or texture decision: bias undefined


def _result(adapters, labels, stats, class_names):
    order = [label for _, _, label in labels]
    curves = [
        Curve(
            title="shape bias per model and head",
            x_label="model / head",
            y_label="shape bias",
            x=list(range(len(order))),
            x_ticks=order,
            kind="bar",
            series={"shape bias": [stats[k]["shape_bias"] for k in order]},
        ),
        Curve(
            title="shape bias per class",
            x_label="shape class",
            y_label="shape bias",
            x=list(range(len(class_names))),
            x_ticks=list(class_names),
            kind="bar",
            series={k: [None if np.isnan(v) else float(v) for v in stats[k]["per_class"]] for k in order},
        ),
    ]
    rows = [
        [
            model,
            head,
            _cell(stats[k]["shape_bias"]),
            stats[k]["shape_fraction"],
            stats[k]["texture_fraction"],
            stats[k]["neither_fraction"],
            stats[k]["count"],
        ]
        for model, head, k in labels
    ]
    tables = [
        Table(
            title="shape bias",
            columns=["model", "head", "shape bias", "shape decisions", "texture decisions", "neither", "images"],
            rows=rows,
        ),
        Table(
            title="shape bias per class",
            columns=["class", *order],
            rows=[[name, *[_cell(stats[k]["per_class"][c]) for k in order]] for c, name in enumerate(class_names)],
        ),
    ]
    arrays = {
        "shape_bias": np.array([stats[k]["shape_bias"] for k in order]),
        "neither_fraction": np.array([stats[k]["neither_fraction"] for k in order]),
        "per_class": np.stack([stats[k]["per_class"] for k in order]),
    }
    summary = {f"shape_bias/{k}": stats[k]["shape_bias"] for k in order}
    notes = [
        f"rows of the arrays: {', '.join(order)}",
        "images whose shape and texture labels agree are left out (Geirhos et al.)",
    ]
    return Result(
        experiment="shape-bias",
        config={"rows": order, "class_names": list(class_names)},
        models=[a.name for a in adapters],
        arrays=arrays,
        curves=curves,
        tables=tables,
        summary=summary,
        notes=notes,
    )


EXPERIMENT = Experiment(
    name="shape-bias",
    description="Shape vs texture bias on cue-conflict images, per head.",
    Config=Config,
    run=run,
    metrics=(Metric("shape_bias", "shape decisions / (shape + texture decisions), Geirhos et al. 2019"),),
    smoke=dict(),
)

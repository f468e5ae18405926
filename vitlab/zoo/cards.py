"""A zoo model's card: what the file is, how it was made and how good it is, measured on its
role's test split (vitlab.zoo.catalog reads cards; this module writes their contents).
TensorFlow is imported inside the functions that load a model."""

import json
import time
from pathlib import Path

from vitlab.zoo import build_state, catalog

CARD_VERSION = 1


def measure(model, role, limit=None, batch_size=250):
    """Clean top-1 of a zoo model (a .keras path or the loaded model) on its role's test split
    ({'average', 'class'[, 'dist']}) and the number of images."""
    import numpy as np

    from vitlab import data as data_lib
    from vitlab import models
    from vitlab.models.adapter import ModelAdapter

    loaded = models.load(str(model)) if isinstance(model, (str, Path)) else model
    adapter = ModelAdapter(loaded, name=role)
    dataset = data_lib.load(
        catalog.describe(role)[1], split="test", image_size=adapter.image_size, batch_size=batch_size, limit=limit
    )
    heads = ("average", *adapter.head_names) if adapter.has_dist_token else ("average",)
    hits = {head: 0 for head in heads}
    count = 0
    for batch in dataset.pipeline:
        out = adapter.forward(batch["image"])
        labels = np.asarray(batch["label"])
        for head in heads:
            predicted = np.argmax(np.asarray(adapter.select_head(out["heads"], head)), axis=-1)
            hits[head] += int((predicted == labels).sum())
        count += len(labels)
    return {head: round(hits[head] / count, 4) for head in heads}, count


def card_for(role, seed, run, model_file, eval_limit=None, step_name=None, recipe=catalog.RECIPE, commits=None):
    """The card of one trained role: what it is, how it was made, how good it is (on the whole
    test split unless `eval_limit`; the first 500 images' figure is what tests re-measure).
    An extra (catalog.EXTRAS) was trained by step `step_name` of another recipe's run, by `commits`."""
    from vitlab import models
    from vitlab.training.trainer import steady_wall_seconds

    step_name = step_name or role
    commits = commits if commits is not None else build_state.training_commits(seed)
    info = json.loads((Path(run) / "run.json").read_text())
    events = _events(run)
    training = info.get("training", {}).get(step_name, {})
    step = next((s for s in info.get("config", {}).get("train", []) if s.get("name") == step_name), {})
    model = models.load(str(model_file))
    accuracy, count = measure(model, role, limit=eval_limit)  # loaded once for the card
    if eval_limit is not None and eval_limit <= 500:
        accuracy_500 = accuracy  # the same images
    else:
        accuracy_500, _ = measure(model, role, limit=500)
    return {
        "card_version": CARD_VERSION,
        "role": role,
        "description": catalog.describe(role)[0],
        "seed": int(seed),
        "architecture": training.get("model", step.get("model")),
        "parameters": models.parameter_count(model),
        "image_size": int(model.image_size),
        "recipe": recipe,
        "overrides": info.get("config", {}).get("overrides", []),
        "train_step": step,
        "trained_on": training.get("dataset"),
        "teacher": training.get("teacher") or None,
        "training_seconds": training.get("seconds"),
        "training_cpu_seconds": training_cpu_seconds(events, step_name),
        # what it takes on a quiet machine: training_seconds counts pauses and neighbours too
        "training_seconds_steady": steady_wall_seconds(events, f"train:{step_name}"),
        # the code that trained it: the build's first process, then any that resumed it
        "vitlab_commit": (commits or [build_state.vitlab_commit()])[0],
        "vitlab_commits_resumed": commits[1:],
        "published_by": build_state.vitlab_commit(),
        "built": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "eval_dataset": f"{catalog.describe(role)[1]}:test",
        "eval_images": count,
        "clean_accuracy": accuracy["average"],
        "clean_accuracy_heads": accuracy,
        "clean_accuracy_first_500": accuracy_500["average"] if count >= 500 else None,
        "file": Path(model_file).name,
        "sha256": catalog.sha256(model_file),
    }


def training_cpu_seconds(events, role):
    """The CPU-seconds the trainer logged for the role, resumes included (trainer.cumulative_cpu_seconds)."""
    from vitlab.training.trainer import cumulative_cpu_seconds

    rows = cumulative_cpu_seconds(events, f"train:{role}")
    return rows[-1][1] if rows else None


def _events(run):
    from vitlab.results import Run

    events, _ = Run(run).events()  # skips a line torn by a kill
    return events

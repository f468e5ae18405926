"""Publish a study cell's final model with its card: what the file is, how it was trained, how
good it is and whether it reached its target, from the cell's own records (no model is loaded).

A card names the cell and its design entry, the schedule and budget, the seed, the images seen,
the training CPU-seconds (the trainer's clock, carried over resumes), the validation top-1 (the
first 1,000 test images), the stylized top-1 and retention of its last snapshot, and the file's
sha256, as the zoo's cards do.
"""

import dataclasses
import json
import math
import shutil
from pathlib import Path

from vitlab import atomic
from vitlab.errors import UserError
from vitlab.study import design, runner
from vitlab.zoo.catalog import sha256

CARD_VERSION = 1


def _events(folder):
    events = []
    path = Path(folder) / "events.jsonl"
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def _number(value):
    return None if value is None or math.isnan(value) else round(float(value), 4)


def card(seed, name, schedule=design.SCHEDULE):
    """The card of a finished cell (a UserError when it has no final model)."""
    from vitlab.study import analysis
    from vitlab.zoo.build_state import vitlab_commit

    cell, folder, model = design.CELLS[name], runner.cell_dir(seed, name), runner.model_file(seed, name)
    if runner.status(seed, name) != "done" or not model.exists():
        raise UserError(f"study cell {name} (seed {seed}) has not finished training; nothing to publish")
    info = json.loads((folder / "run.json").read_text())
    training = (info.get("training") or {}).get(name, {})
    events = _events(folder)
    clocks = [e["cpu_s"] for e in events if isinstance(e.get("cpu_s"), (int, float))]
    metrics_file = folder / runner.METRICS
    metrics = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
    snapshot = analysis.final(metrics) or {}
    steps = schedule.epochs * cell.budget * schedule.steps_per_epoch
    clean = training.get("val_accuracy")
    target_split = "stylized" if cell.dataset.endswith(":stylized") else "test"
    reached = snapshot.get(target_split, {}).get("0.00") if target_split == "stylized" else clean
    entry = {
        "card_version": CARD_VERSION,
        "role": name,
        "seed": seed,
        "cell": dataclasses.asdict(cell),
        "architecture": cell.model,
        "image_size": 64,
        "recipe": f"study cell {name} (vitlab.study.design.recipe_text)",
        "schedule": {**dataclasses.asdict(schedule), "epochs": schedule.epochs * cell.budget},
        "trained_on": training.get("dataset"),
        "teacher": cell.teacher or None,
        "training_steps": steps,
        "images_seen": steps * schedule.batch_size,
        "training_cpu_seconds": round(max(clocks), 1) if clocks else None,
        "training_seconds": training.get("seconds"),
        "eval_dataset": f"{cell.dataset.split(':')[0]}:test",
        "eval_images": schedule.eval_limit,
        "clean_accuracy": clean,
        "stylized_accuracy": snapshot.get("stylized", {}).get("0.00"),
        "retention_50": _number(analysis.cell_retention(metrics, "0.50")) if metrics else None,
        "target": cell.target,
        "target_split": target_split,
        "target_reached": reached is not None and reached >= cell.target,
        "versions": info.get("versions"),
        "published_by": vitlab_commit(),
        "finished": info.get("finished"),
        "file": f"{name}.keras",
        "sha256": sha256(model),
    }
    return json.loads(json.dumps(entry))  # as it reads back from the file (tuples become lists)


def publish(seed, names, destination):
    """Copy each cell's final model to DESTINATION/CELL.keras beside its card CELL.json; the cards."""
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    cards = []
    for name in names:
        if name not in design.CELLS:
            raise UserError(f"unknown study cell {name!r}; cells: {', '.join(design.CELLS)}")
        entry = card(seed, name)
        target = destination / entry["file"]
        if not (target.exists() and sha256(target) == entry["sha256"]):
            shutil.copyfile(runner.model_file(seed, name), target)
        atomic.write_json(destination / f"{name}.json", entry, indent=1)
        cards.append(entry)
    return cards

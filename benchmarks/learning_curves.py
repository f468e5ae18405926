"""Learning curves of candidate study configurations: clean test accuracy against training
steps and against CPU-seconds, measured through vitlab's own recipe path.

Each candidate is one `vitlab recipe run` of a one-step recipe (written next to its run)
with validation every `--points`-th of the schedule on 1,000 `shapes` test images. The
trainer logs the process CPU-seconds with every metric (vitlab.training.trainer), so curves
from a busy machine still compare: CPU-seconds move much less with the neighbours than wall
time does. Runs live in ~/.cache/vitlab/curves/<candidate>; a finished candidate is read
back, an interrupted one resumes (`--resume` is the default behaviour of this script).

The budget line is issue 15's: 8 minutes on a day when vit_nano trains at 500 img/s, i.e.
240,000 vit_nano images; at the 300 images per CPU-second that bench_throughput measured for
vit_nano (benchmarks/results/bench_throughput.json) that is 800 CPU-seconds.

    .venv/bin/python benchmarks/learning_curves.py [--only NAME,NAME] [--plot-only]

Writes benchmarks/results/learning_curves.json and learning_curves.png.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
CACHE = Path(os.environ.get("VITLAB_CACHE") or Path.home() / ".cache" / "vitlab") / "curves"
BUDGET_CPU_S = 800.0

# name: (family, model, dataset, batch, total training images, learning rate, extra recipe lines)
# Image counts: each candidate's share of the budget at its own cost per image (ResNets cost
# about twice vit_nano per image in training, bench_throughput).
CANDIDATES = {
    "resnet_nano_b128": ("resnet", "resnet_nano_32", "shapes", 128, 120_000, 2e-3, ""),
    "resnet_nano_b64": ("resnet", "resnet_nano_32", "shapes", 64, 120_000, 1e-3, ""),
    "resnet_micro_b128": ("resnet", "resnet_micro_32", "shapes", 128, 60_000, 2e-3, ""),
    "vit_nano_b128": ("vit", "vit_nano_patch4_32", "shapes", 128, 240_000, 1e-3, ""),
    "vit_nano_b64": ("vit", "vit_nano_patch4_32", "shapes", 64, 240_000, 1e-3, ""),
    "vit_mini_b128": ("vit", "vit_mini_patch4_32", "shapes", 128, 240_000, 1e-3, ""),
}


def recipe_text(name, family, model, dataset, batch, images, lr, extra, points):
    steps = images // batch
    per_point = max(1, steps // points)
    return f"""# learning curve candidate {name} (benchmarks/learning_curves.py)
name = "curve-{name}"
seed = 0
strategy = "one_device"
log_every = 50

[data]
dataset = "{dataset},train_size={images}"
split = "train"
eval_split = "test"
eval_limit = 1000

[augment]
flip = true
label_smoothing = 0.1

[optim]
epochs = {points}
steps_per_epoch = {per_point}
batch_size = {batch}
learning_rate = {lr}
min_learning_rate = 1e-5
warmup_epochs = {max(1, points // 10)}
weight_decay = 0.05
clip_norm = 1.0

[[train]]
name = "{family}"
model = "{model}"
{extra}
"""


def run_candidate(name, points):
    family, model, dataset, batch, images, lr, extra = CANDIDATES[name]
    target = CACHE / name
    CACHE.mkdir(parents=True, exist_ok=True)
    recipe = CACHE / f"{name}.toml"
    recipe.write_text(recipe_text(name, family, model, dataset, batch, images, lr, extra, points))
    vitlab = [sys.executable, "-m", "vitlab.cli", "recipe", "run", "--quiet", "--runs", str(CACHE)]
    if (target / "run.json").exists():
        info = json.loads((target / "run.json").read_text())
        if info.get("status") != "done":
            subprocess.run([*vitlab, "--resume", str(target)], check=True)
    else:
        subprocess.run([*vitlab, str(recipe), "--out", str(target)], check=True)
    return read_curve(name, target)


def read_curve(name, target):
    family, model, dataset, batch, images, lr, extra = CANDIDATES[name]
    points = []
    for line in (target / "events.jsonl").read_text().splitlines():
        event = json.loads(line)
        if event.get("kind") == "metric" and event.get("name") == "val_accuracy":
            points.append({"steps": event["done"], "images": event["done"] * batch, "cpu_s": event.get("cpu_s"),
                           "time": event["time"], "val_accuracy": event["value"]})
    start = next(json.loads(line)["time"] for line in (target / "events.jsonl").read_text().splitlines())
    for point in points:
        point["wall_s"] = round(point.pop("time") - start, 1)
    return {"name": name, "family": family, "model": model, "dataset": dataset, "batch": batch,
            "learning_rate": lr, "images": images, "points": points}


def plot(curves, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (by_steps, by_cpu) = plt.subplots(1, 2, figsize=(11, 4.2))
    for curve in curves:
        xs = [p["steps"] for p in curve["points"]]
        ys = [p["val_accuracy"] for p in curve["points"]]
        by_steps.plot(xs, ys, marker="o", ms=3, label=curve["name"])
        by_cpu.plot([p["cpu_s"] for p in curve["points"]], ys, marker="o", ms=3, label=curve["name"])
    by_cpu.axvline(BUDGET_CPU_S, color="grey", ls="--", lw=1, label="budget (800 CPU-s)")
    for axis, label in ((by_steps, "training steps"), (by_cpu, "CPU-seconds of training")):
        axis.set_xlabel(label)
        axis.set_ylabel("clean top-1 (1,000 shapes test images)")
        axis.grid(alpha=0.3)
        axis.set_ylim(0, 1)
    by_cpu.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated candidate names (default: all)")
    parser.add_argument("--points", type=int, default=12, help="evaluations along each schedule")
    parser.add_argument("--plot-only", action="store_true", help="read finished runs, write JSON and plot")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(CANDIDATES)
    curves = []
    for name in CANDIDATES:
        target = CACHE / name
        if name in names and not args.plot_only:
            curves.append(run_candidate(name, args.points))
        elif (target / "events.jsonl").exists():
            curves.append(read_curve(name, target))
        if curves and curves[-1]["name"] == name:
            last = curves[-1]["points"][-1] if curves[-1]["points"] else {}
            print(f"{name}: {last}", flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "learning_curves.json").write_text(json.dumps({"budget_cpu_s": BUDGET_CPU_S, "curves": curves},
                                                             indent=1))
    plot(curves, RESULTS / "learning_curves.png")


if __name__ == "__main__":
    main()

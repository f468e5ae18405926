"""Screening before the learning curves: a few minutes of training per candidate configuration,
to choose which ones get a full curve (benchmarks/learning_curves.py) and the zoo.

Each candidate trains with Keras' own `train_on_batch` (no recipe, no checkpoints: the
cheapest honest loop) on the cached 240,000-image `shapes` train set, flip augmentation,
label smoothing 0.1, AdamW (wd 0.05, clip 1.0) with a 150-step warmup to a constant-ish
learning rate (cosine over `--horizon` steps), for `--budget` seconds of wall time; it
records (steps, images, CPU-seconds, wall seconds, top-1 on 1,000 test images) 8 times.
Compare candidates by CPU-seconds: on a shared machine they move far less than wall time.

    .venv/bin/python benchmarks/screen_configs.py [--only NAME,NAME] [--budget 240]

Writes benchmarks/results/screen_configs.json (one entry per candidate, kept across calls).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

RESULTS = Path(__file__).resolve().parent / "results"
# name: (registry model, overrides, learning rate, batch)
CANDIDATES = {
    "p4w96_lr1e3": ("vit_nano_patch4_32", {}, 1e-3, 128),
    "p4w96_lr3e3": ("vit_nano_patch4_32", {}, 3e-3, 128),
    "p4w96_b64_lr1e3": ("vit_nano_patch4_32", {}, 1e-3, 64),
    "p8w96_lr2e3": ("vit_nano_patch4_32", {"patch_size": 8}, 2e-3, 128),
    "p8w128_lr2e3": ("vit_nano_patch4_32", {"patch_size": 8, "hidden_dim": 128, "num_heads": 4}, 2e-3, 128),
    "resnano_lr2e3": ("resnet_nano_32", {}, 2e-3, 128),
}


def screen(name, budget, horizon):
    import keras
    import numpy as np

    from vitlab import data as data_lib
    from vitlab import models

    base, overrides, lr, batch = CANDIDATES[name]
    keras.utils.set_random_seed(0)
    train = data_lib.load("shapes,train_size=240000", split="train", image_size=32, batch_size=batch)
    test = data_lib.load("shapes", split="test", image_size=32, batch_size=500, limit=1000)
    x_test = np.concatenate([b["image"] for b in test.batches()])
    y_test = np.concatenate([b["label"] for b in test.batches()])
    model = models.create(base, **overrides)
    warmup = 150
    schedule = keras.optimizers.schedules.CosineDecay(
        lr * 0.01, horizon - warmup, alpha=0.01, warmup_target=lr, warmup_steps=warmup
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=0.05, global_clipnorm=1.0),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
        jit_compile=True,
    )
    rng = np.random.default_rng(0)
    started, cpu_started, step, last, points = time.time(), time.process_time(), 0, time.time(), []
    batches = iter(train.batches())
    while time.time() - started < budget:
        batch = next(batches, None)
        if batch is None:  # one pass done: start the next
            batches = iter(train.batches())
            continue
        images = batch["image"]
        flip = rng.random(len(images)) < 0.5
        images[flip] = images[flip, :, ::-1]
        model.train_on_batch(images, keras.utils.to_categorical(batch["label"], 10))
        step += 1
        if time.time() - last > budget / 8 or time.time() - started >= budget:
            accuracy = float((np.argmax(model.predict(x_test, batch_size=500, verbose=0), -1) == y_test).mean())
            last = time.time()
            points.append(
                {
                    "steps": step,
                    "images": step * batch_size_of(batch),
                    "cpu_s": round(time.process_time() - cpu_started, 1),
                    "wall_s": round(last - started, 1),
                    "val_accuracy": accuracy,
                }
            )
            print(name, points[-1], flush=True)
    return {
        "name": name,
        "model": base,
        "overrides": overrides,
        "learning_rate": lr,
        "batch": batch_size_of(batch),
        "budget_s": budget,
        "points": points,
    }


def batch_size_of(batch):
    return int(len(batch["label"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated candidate names (default: all)")
    parser.add_argument("--budget", type=float, default=240.0, help="wall seconds per candidate")
    parser.add_argument("--horizon", type=int, default=4000, help="cosine horizon in steps (>> the steps screened)")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(CANDIDATES)
    path = RESULTS / "screen_configs.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results["_measured"] = f"{time.strftime('%Y-%m-%d')}; compare with that day's bench_throughput figure"
    for name in names:
        results[name] = screen(name, args.budget, args.horizon)
        RESULTS.mkdir(exist_ok=True)
        path.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

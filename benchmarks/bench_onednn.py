"""oneDNN on or off, on vitlab's own training path: `vitlab recipe run` side by side.

TensorFlow enables its oneDNN kernels by itself only on CPUs with AVX-512 VNNI or AMX, so on
the AVX2 machine here vitlab trained without them until it set TF_ENABLE_ONEDNN_OPTS=1 by
default (vitlab/__init__.py). This runs the same short training recipe with the variable at 0
and at 1, alternating, and compares the trainer's own figures from events.jsonl: images per
wall-second and per CPU-second after the first logging interval (which holds the XLA compile).

    .venv/bin/python benchmarks/bench_onednn.py [--models vit_nano_patch4_32,resnet_nano_32] [--rounds 2]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

RECIPE = """
name = "bench-onednn"
seed = 0
log_every = {log_every}
[data]
dataset = "shapes"
eval_split = ""
[augment]
flip = true
label_smoothing = 0.1
[optim]
epochs = 1
steps_per_epoch = {steps}
batch_size = {batch}
learning_rate = 1e-3
warmup_epochs = 0.1
clip_norm = 1.0
[[train]]
name = "net"
model = "{model}"
"""


def steady_rate(events, batch):
    """(images per wall-s, images per CPU-s) between the first and the last logged step."""
    rows = [e for e in events if e.get("kind") == "progress" and isinstance(e.get("cpu_s"), (int, float))]
    if len(rows) < 2:
        raise RuntimeError("too few progress events to measure")
    first, last = rows[0], rows[-1]
    images = (last["done"] - first["done"]) * batch
    return images / (last["time"] - first["time"]), images / (last["cpu_s"] - first["cpu_s"])


def run_once(model, batch, steps, onednn, folder):
    recipe = Path(folder) / f"{model}.toml"
    recipe.write_text(RECIPE.format(model=model, batch=batch, steps=steps, log_every=max(steps // 6, 1)))
    out = Path(folder) / f"{model}-{onednn}-{time.time_ns()}"
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": str(onednn)}
    vitlab = str(Path(sys.executable).with_name("vitlab"))
    done = subprocess.run(
        [vitlab, "recipe", "run", str(recipe), "--out", str(out), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode:
        raise RuntimeError(f"{model} onednn={onednn} failed: {done.stderr[-2000:]}")
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines() if line.strip()]
    wall, cpu = steady_rate(events, batch)
    return {"onednn": onednn, "images_per_s": round(wall, 1), "images_per_cpu_s": round(cpu, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="vit_nano_patch4_32,resnet_nano_32")
    parser.add_argument("--batch", type=int, default=64, help="the zoo ViTs' batch (its ResNets use 128)")
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=2, help="off/on pairs per model, alternating")
    args = parser.parse_args()
    results, lines = {}, []
    with tempfile.TemporaryDirectory() as folder:
        for model in args.models.split(","):
            runs = []
            for _ in range(args.rounds):
                for onednn in (0, 1):
                    runs.append(run_once(model, args.batch, args.steps, onednn, folder))
                    print(model, runs[-1], flush=True)
            off = [r for r in runs if r["onednn"] == 0]
            on = [r for r in runs if r["onednn"] == 1]
            ratio = min(r["images_per_s"] for r in on) / max(r["images_per_s"] for r in off)
            ratio_cpu = min(r["images_per_cpu_s"] for r in on) / max(r["images_per_cpu_s"] for r in off)
            results[model] = {"runs": runs, "worst_on_over_best_off": round(ratio, 2), "per_cpu_s": round(ratio_cpu, 2)}
            lines.append(
                f"{model} b{args.batch}: oneDNN on trains at >= {ratio:.2f}x the images per second "
                f"({ratio_cpu:.2f}x per CPU-s) of off"
            )
    _common.write_result(
        "bench_onednn", {"batch": args.batch, "steps": args.steps, "models": results}, "; ".join(lines)
    )


if __name__ == "__main__":
    main()

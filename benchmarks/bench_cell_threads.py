"""How the study's cells share the cores: one training with every core's thread against as many
1-thread trainings side by side (`vitlab study train --jobs`), total training images per second.

For each of the study's two models, one worker (benchmarks/_vitlab_worker.py: the trainer's step,
batch 96 as the study's schedule) runs with TF_NUM_INTRAOP_THREADS = cores, and `cores` workers run
with one thread each; the two setups alternate rounds of the same number of steps and the figure
is the median of per-round ratios (side by side over alone). Random pixels: the model's step
only, no input pipeline (bench_throughput.py --pipeline times that).

    .venv/bin/python benchmarks/bench_cell_threads.py [--quick] [--models vit_nano_patch8_64,resnet_nano_64]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import write_result  # noqa: E402

BATCH = 96  # vitlab.study.design.SCHEDULE.batch_size


def start(name, threads):
    env = dict(os.environ, TF_NUM_INTRAOP_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    env.setdefault("TF_NUM_INTEROP_THREADS", "1")
    job = {"name": name, "batch": BATCH, "train_jit": None, "inference_xla": False, "precision": "float32"}
    worker = subprocess.Popen(
        [sys.executable, str(HERE / "_vitlab_worker.py"), json.dumps(job)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=HERE.parent,
    )
    while True:  # the ready line, after the first (compiling) step
        line = worker.stdout.readline()
        if not line:
            raise SystemExit(f"{name}: the worker stopped before it was ready")
        if line.startswith("{") and '"ready"' in line:
            return worker


def train_round(workers, steps):
    """Total images per second of `workers` each training `steps` steps at once."""
    for worker in workers:
        worker.stdin.write(json.dumps({"kind": "train", "steps": steps}) + "\n")
        worker.stdin.flush()
    began = time.perf_counter()
    for worker in workers:
        json.loads(worker.stdout.readline())
    return len(workers) * BATCH * steps / (time.perf_counter() - began)


def measure(name, cores, rounds, steps):
    alone = start(name, cores)
    beside = [start(name, 1) for _ in range(cores)]
    rates = {"alone": [], "side_by_side": []}
    try:
        for _ in range(rounds):
            rates["alone"].append(train_round([alone], steps))
            rates["side_by_side"].append(train_round(beside, steps))
    finally:
        for worker in [alone, *beside]:
            worker.kill()
    ratios = [b / a for a, b in zip(rates["alone"], rates["side_by_side"])]
    return {
        "model": name,
        "batch": BATCH,
        "cores": cores,
        **rates,
        "ratios": ratios,
        "ratio": statistics.median(ratios),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds of 20 steps (the make bench setting)")
    parser.add_argument("--models", default="vit_nano_patch8_64,resnet_nano_64")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    rounds, steps = (2, 20) if args.quick else (3, 40)
    rows = [measure(name, cores, rounds, steps) for name in args.models.split(",")]
    summary = ", ".join(f"{r['model']} {r['ratio']:.2f}x" for r in rows)
    write_result(
        "bench_cell_threads",
        {"rows": rows, "rounds": rounds, "steps": steps, "load_1min": os.getloadavg()[0]},
        f"{cores} 1-thread trainings side by side vs one {cores}-thread training, total images/s: {summary}",
    )


if __name__ == "__main__":
    main()

"""Scaling of an experiment step: time vs dataset size, time vs sweep length, peak memory.

The step is the occlusion sweep (random PatchDrop) on vit_nano_patch4_32 over a streaming
source (images made per batch from their index, nothing held in memory), so time should be
linear in images and in levels (no per-level setup cost), and peak memory flat in dataset
size. Every point runs in a fresh process (cold: import, build, compile) and is then
repeated in that process (warm); the fits use the warm runs. Plots go to
benchmarks/results/scaling.png.

    .venv/bin/python benchmarks/bench_scaling.py [--quick]
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

MODEL = "vit_nano_patch4_32"
BATCH = 64


def streaming_dataset(size, image_size=32, batch=BATCH):
    """`size` images generated per batch from their index: no dataset array in memory."""
    import tensorflow as tf

    from vitlab.data.dataset import Dataset

    def make(index):
        shape = (tf.shape(index)[0], image_size, image_size, 3)
        images = tf.random.stateless_uniform(shape, tf.stack([index[0], tf.constant(0, tf.int64)]))
        return {"image": images, "label": tf.cast(index % 10, tf.int32), "index": index}

    pipeline = tf.data.Dataset.range(size).batch(batch).map(make).prefetch(2)
    return Dataset("stream", "test", pipeline, 10, [str(i) for i in range(10)], image_size, num_examples=size)


def worker(job):
    _common.limit_threads(2)
    from vitlab import models
    from vitlab.experiments import occlusion
    from vitlab.experiments.context import Context
    from vitlab.models.adapter import ModelAdapter

    adapter = ModelAdapter(models.create(MODEL, num_classes=10))
    levels = [i / job["levels"] for i in range(job["levels"])]
    config = occlusion.Config(modes=["random"], levels=levels, repeats=1)
    times, cpu = [], []
    for _ in range(2):  # cold, then warm
        start, start_cpu = time.perf_counter(), time.process_time()
        occlusion.run([adapter], streaming_dataset(job["size"]), config, Context(seed=0))
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"cold_s": times[0], "warm_s": times[1], "warm_cpu_s": cpu[1], "peak_rss_mb": peak_mb}))


def point(size, levels):
    job = json.dumps({"size": size, "levels": levels})
    done = subprocess.run([sys.executable, __file__, "--worker", job], capture_output=True, text=True, timeout=900)
    if done.returncode:
        sys.stderr.write(done.stderr[-3000:])
        raise RuntimeError(f"scaling worker failed: size {size}, levels {levels}")
    return {"size": size, "levels": levels, **json.loads(done.stdout.strip().splitlines()[-1])}


def linear_fit(xs, ys):
    """Least squares y = a + b x; returns a, b and R^2."""
    import numpy as np

    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    b, a = np.polyfit(xs, ys, 1)
    residual = ys - (a + b * xs)
    total = ((ys - ys.mean()) ** 2).sum()
    return float(a), float(b), float(1 - (residual**2).sum() / total) if total else 1.0


def plot(by_size, by_levels, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    sizes = [p["size"] for p in by_size]
    axes[0].plot(sizes, [p["warm_s"] for p in by_size], "o-", label="warm")
    axes[0].plot(sizes, [p["cold_s"] for p in by_size], "s--", label="cold (with compile)")
    axes[0].set(xlabel="images", ylabel="seconds", title="time vs dataset size")
    levels = [p["levels"] for p in by_levels]
    axes[1].plot(levels, [p["warm_s"] for p in by_levels], "o-", label="warm")
    axes[1].plot(levels, [p["cold_s"] for p in by_levels], "s--", label="cold (with compile)")
    axes[1].set(xlabel="sweep levels", ylabel="seconds", title="time vs sweep length")
    axes[2].plot(sizes, [p["peak_rss_mb"] for p in by_size], "o-")
    axes[2].set(xlabel="images", ylabel="peak RSS (MB)", title="peak memory vs dataset size")
    axes[2].set_ylim(bottom=0)
    for axis in axes[:2]:
        axis.legend()
        axis.set_ylim(bottom=0)
    figure.suptitle(f"occlusion sweep (random PatchDrop), {MODEL}, batch {BATCH}, 2 threads")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(json.loads(args.worker))
    sizes = [256, 512, 1024] if args.quick else [256, 512, 1024, 2048, 4096]
    level_counts = [2, 4, 8] if args.quick else [2, 4, 8, 16]
    by_size = [point(size, 4) for size in sizes]
    level_size = sizes[-1]  # large enough that the per-level work, not fixed costs, dominates
    by_levels = [point(level_size, levels) for levels in level_counts]
    a_size, per_image, r2_size = linear_fit(sizes, [p["warm_s"] for p in by_size])
    a_level, per_level, r2_level = linear_fit(level_counts, [p["warm_s"] for p in by_levels])
    memory = [p["peak_rss_mb"] for p in by_size]
    memory_growth = (memory[-1] - memory[0]) / memory[0]
    _common.RESULTS.mkdir(parents=True, exist_ok=True)
    plot(by_size, by_levels, _common.RESULTS / "scaling.png")
    fits = {"per_image_ms": per_image * 1e3, "size_intercept_s": a_size, "size_r2": r2_size,
            "per_level_s": per_level, "level_intercept_s": a_level, "level_r2": r2_level,
            "level_intercept_over_level": a_level / per_level if per_level else None,
            "peak_memory_growth": memory_growth}
    summary = (f"time vs images R2 {r2_size:.3f} ({per_image * 1e3:.2f} ms/image); time vs levels R2 "
               f"{r2_level:.3f} ({per_level:.2f} s/level, intercept {a_level:.2f} s); peak memory "
               f"{memory[0]:.0f} -> {memory[-1]:.0f} MB over {sizes[0]}..{sizes[-1]} images ({memory_growth:+.1%})")
    table = ["| images | levels | cold s | warm s | peak RSS MB |", "|---|---|---|---|---|"]
    table += [f"| {p['size']} | {p['levels']} | {p['cold_s']:.2f} | {p['warm_s']:.2f} | {p['peak_rss_mb']:.0f} |"
              for p in by_size + by_levels]
    _common.write_result("bench_scaling", {"model": MODEL, "batch": BATCH, "step": "occlusion random",
                                           "by_size": by_size, "by_levels": by_levels, "fits": fits,
                                           "plot": "scaling.png", "table": "\n".join(table)}, summary)


if __name__ == "__main__":
    main()

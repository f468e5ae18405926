"""Scaling of an experiment step: time vs dataset size, time vs sweep length, peak memory.

The step is the occlusion sweep (random PatchDrop) on vit_nano_patch4_32 over a streaming
source (images made per batch from their index, nothing held in memory), so time should be
linear in images and in levels (no per-level setup cost), and peak memory flat in dataset
size. Timing runs in one process: a cold first run (imports settle, kernels load), then
REPEATS rounds over all points in a rotated order; each point is the median of its runs
(single timings on a shared machine vary by 1.5x) and fits use the medians, on wall and on
CPU seconds. Each run builds its experiment afresh (and traces its tf.functions), as a
separate `vitlab eval` would. Peak memory comes from a fresh process per size (one sweep,
then ru_maxrss), since in one process the peak only rises. Plots go to
benchmarks/results/scaling.png.

    .venv/bin/python benchmarks/bench_scaling.py [--quick]
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

MODEL = "vit_nano_patch4_32"
BATCH = 64
REPEATS = 3
LEVELS = 4  # sweep length of the dataset-size points
IMAGE_MB = 32 * 32 * 3 * 4 / 2**20  # one float32 image


def streaming_dataset(size, image_size=32, batch=BATCH):
    """`size` images generated per batch from their index: no dataset array in memory."""
    import tensorflow as tf

    from vitlab.data.dataset import Dataset

    def make(index):
        shape = (tf.shape(index)[0], image_size, image_size, 3)
        images = tf.random.stateless_uniform(shape, tf.stack([index[0], tf.constant(0, tf.int64)]))
        return {"image": images, "label": tf.cast(index % 10, tf.int32), "index": index}

    # tf.data autotuning off: its model thread wakes at 10 ms x (2^k - 1) and a pass that ends in
    # between is sometimes held until the next wake-up (a 3.8 s pass measured 5.13 s), which made
    # single timings land on 5.1 / 10.3 / 20.5 s; vitlab's own pipelines still have it (see report)
    options = tf.data.Options()
    options.autotune.enabled = False
    pipeline = tf.data.Dataset.range(size).batch(batch).map(make).prefetch(2).with_options(options)
    return Dataset("stream", "test", pipeline, 10, [str(i) for i in range(10)], image_size, num_examples=size)


def worker(job):
    _common.limit_threads(2)
    from vitlab import models
    from vitlab.experiments import occlusion
    from vitlab.experiments.run_context import Context
    from vitlab.models.adapter import ModelAdapter

    adapter = ModelAdapter(models.create(MODEL, num_classes=10))

    def sweep(size, levels):
        config = occlusion.Config(modes=["random"], levels=[i / levels for i in range(levels)], repeats=1)
        start, start_cpu = time.perf_counter(), time.process_time()
        occlusion.run([adapter], streaming_dataset(size), config, Context(seed=0))
        return time.perf_counter() - start, time.process_time() - start_cpu

    def peak_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    if "memory" in job:  # a fresh process per size: one sweep, then its peak
        sweep(job["memory"], LEVELS)
        return print(json.dumps({"size": job["memory"], "peak_rss_mb": peak_mb()}))
    points = [tuple(p) for p in job["points"]]
    cold_s = sweep(*points[0])[0]
    after_cold = peak_mb()
    wall, cpu = {p: [] for p in points}, {p: [] for p in points}
    for repeat in range(job["repeats"]):
        for point in points[repeat % len(points) :] + points[: repeat % len(points)]:
            seconds, cpu_seconds = sweep(*point)
            wall[point].append(seconds)
            cpu[point].append(cpu_seconds)
    print(
        json.dumps(
            {
                "cold_s": cold_s,
                "cold_point": points[0],
                "runs": 1 + job["repeats"] * len(points),
                "peak_after_cold_mb": after_cold,
                "peak_after_all_mb": peak_mb(),
                "points": [
                    {
                        "size": p[0],
                        "levels": p[1],
                        "warm_s": statistics.median(wall[p]),
                        "warm_runs_s": wall[p],
                        "warm_cpu_s": statistics.median(cpu[p]),
                    }
                    for p in points
                ],
            }
        )
    )


def start_worker(job):
    return subprocess.Popen(
        [sys.executable, __file__, "--worker", json.dumps(job)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def answer(process, what):
    out, err = process.communicate(timeout=900)
    if process.returncode:
        sys.stderr.write(err[-3000:])
        raise RuntimeError(f"scaling worker failed: {what}")
    return json.loads(out.strip().splitlines()[-1])


def measure(points, repeats, sizes):
    """Peak memory per size (fresh processes, side by side: memory does not mind sharing the cores),
    then every timing in one process, alone."""
    memory = [start_worker({"memory": size}) for size in sizes]
    peaks = {size: answer(process, f"memory {size}")["peak_rss_mb"] for size, process in zip(sizes, memory)}
    timing = answer(start_worker({"points": points, "repeats": repeats}), "timing")
    return timing, [{"size": size, "levels": LEVELS, "peak_rss_mb": peaks[size]} for size in sizes]


def linear_fit(xs, ys):
    """Least squares y = a + b x; returns a, b and R^2."""
    import numpy as np

    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    b, a = np.polyfit(xs, ys, 1)
    residual = ys - (a + b * xs)
    total = ((ys - ys.mean()) ** 2).sum()
    return float(a), float(b), float(1 - (residual**2).sum() / total) if total else 1.0


def plot(by_size, by_levels, by_memory, fits, cold, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    figure, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for axis, points, key, fit, label in (
        (axes[0], by_size, "size", "size", "images"),
        (axes[1], by_levels, "levels", "level", "sweep levels"),
    ):
        xs = np.array([p[key] for p in points], float)
        runs = [p["warm_runs_s"] for p in points]
        medians = np.array([p["warm_s"] for p in points])
        spread = np.array([[m - min(r) for m, r in zip(medians, runs)], [max(r) - m for m, r in zip(medians, runs)]])
        axis.errorbar(xs, medians, yerr=spread, fmt="o", capsize=3, label=f"warm, median of {REPEATS} (min-max)")
        line = np.linspace(0, xs.max(), 50)
        slope = fits["per_image_ms"] / 1e3 if fit == "size" else fits["per_level_s"]
        axis.plot(line, fits[f"{fit}_intercept_s"] + slope * line, "--", label=f"fit, R2 {fits[f'{fit}_r2']:.3f}")
        axis.set(xlabel=label, ylabel="seconds", xlim=(0, None), ylim=(0, None))
        axis.legend(fontsize=8)
    axes[0].set_title("time vs dataset size")
    axes[1].set_title(f"time vs sweep length ({by_levels[0]['size']} images)")
    sizes = np.array([p["size"] for p in by_memory], float)
    memory = np.array([p["peak_rss_mb"] for p in by_memory])
    axes[2].plot(sizes, memory, "o-", label="peak RSS (streaming)")
    axes[2].plot(sizes, memory[0] + (sizes - sizes[0]) * IMAGE_MB, ":", label="+ the images, if held")
    axes[2].set(xlabel="images", ylabel="MB", title="peak memory vs dataset size", ylim=(0, None))
    axes[2].legend(fontsize=8)
    figure.suptitle(
        f"occlusion sweep (random PatchDrop), {MODEL}, batch {BATCH}, 2 threads; cold first run {cold:.1f} s"
    )
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
    memory_sizes = [256, 1024, 4096] if args.quick else [256, 1024, 4096, 16384]  # one sweep each
    level_size = 1024  # large enough that the per-level work, not fixed costs, dominates
    points = list(dict.fromkeys([(size, LEVELS) for size in sizes] + [(level_size, n) for n in level_counts]))
    measured, by_memory = measure(points, REPEATS, memory_sizes)
    found = {(p["size"], p["levels"]): p for p in measured["points"]}
    by_size = [found[(size, LEVELS)] for size in sizes]
    by_levels = [found[(level_size, n)] for n in level_counts]
    a_size, per_image, r2_size = linear_fit(sizes, [p["warm_s"] for p in by_size])
    a_level, per_level, r2_level = linear_fit(level_counts, [p["warm_s"] for p in by_levels])
    r2_size_cpu = linear_fit(sizes, [p["warm_cpu_s"] for p in by_size])[2]
    r2_level_cpu = linear_fit(level_counts, [p["warm_cpu_s"] for p in by_levels])[2]
    memory = [p["peak_rss_mb"] for p in by_memory]
    memory_growth = (memory[-1] - memory[0]) / memory[0]
    held_mb = (memory_sizes[-1] - memory_sizes[0]) * IMAGE_MB
    fits = {
        "per_image_ms": per_image * 1e3,
        "size_intercept_s": a_size,
        "size_r2": r2_size,
        "size_r2_cpu": r2_size_cpu,
        "per_level_s": per_level,
        "level_intercept_s": a_level,
        "level_r2": r2_level,
        "level_r2_cpu": r2_level_cpu,
        "level_intercept_over_level": a_level / per_level if per_level else None,
        "peak_memory_growth": memory_growth,
        "peak_memory_growth_mb": memory[-1] - memory[0],
        "held_images_mb": held_mb,
    }
    _common.RESULTS.mkdir(parents=True, exist_ok=True)
    plot(by_size, by_levels, by_memory, fits, measured["cold_s"], _common.RESULTS / "scaling.png")
    summary = (
        f"median of {REPEATS} warm runs: time vs images R2 {r2_size:.3f} (CPU s {r2_size_cpu:.3f}; "
        f"{per_image * 1e3:.2f} ms/image); time vs levels R2 {r2_level:.3f} (CPU s {r2_level_cpu:.3f}; "
        f"{per_level:.2f} s/level, intercept {a_level:.2f} s = "
        f"{a_level / per_level:.1f} levels); peak memory {memory[0]:.0f} -> {memory[-1]:.0f} MB over "
        f"{memory_sizes[0]}..{memory_sizes[-1]} images ({memory[-1] - memory[0]:+.0f} MB; "
        f"holding them: +{held_mb:.0f} MB)"
    )
    table = ["| images | levels | warm s (median) | warm runs s | warm CPU s |", "|---|---|---|---|---|"]
    for p in measured["points"]:
        runs = " / ".join(f"{t:.2f}" for t in p["warm_runs_s"])
        table.append(f"| {p['size']} | {p['levels']} | {p['warm_s']:.2f} | {runs} | {p['warm_cpu_s']:.2f} |")
    table += [
        "",
        "| images | levels | peak RSS MB (fresh process, one sweep) | if the images were held |",
        "|---|---|---|---|",
    ]
    table += [
        f"| {p['size']} | {p['levels']} | {p['peak_rss_mb']:.0f} | +{(p['size'] - memory_sizes[0]) * IMAGE_MB:.0f} MB |"
        for p in by_memory
    ]
    cold_size, cold_levels = measured["cold_point"]
    notes = (
        f"One process; cold first run ({cold_size} images, {cold_levels} levels, with tracing) "
        f"{measured['cold_s']:.2f} s; peak RSS of that process {measured['peak_after_cold_mb']:.0f} MB after it,"
        f" {measured['peak_after_all_mb']:.0f} MB after all {measured['runs']} runs. Fits on CPU seconds: "
        f"R2 {r2_size_cpu:.3f} (images), {r2_level_cpu:.3f} (levels). Linear in levels means every level "
        "costs the same (no setup per level); the level fit's intercept is the level-independent work "
        "(data, bookkeeping), given in units of one level. The source runs with tf.data autotuning off: "
        "with it on, single runs often ended at 5.13, 10.27 or 20.50 s whatever their CPU time (10 ms x "
        "(2^k - 1), the autotuner's doubling wake-up period), which is what made the old fits noisy."
    )
    _common.write_result(
        "bench_scaling",
        {
            "model": MODEL,
            "batch": BATCH,
            "step": "occlusion random",
            "repeats": REPEATS,
            "cold_s": measured["cold_s"],
            "process_peak_mb": [measured["peak_after_cold_mb"], measured["peak_after_all_mb"]],
            "by_size": by_size,
            "by_levels": by_levels,
            "by_memory": by_memory,
            "fits": fits,
            "plot": "scaling.png",
            "notes": notes,
            "table": "\n".join(table),
        },
        summary,
    )


if __name__ == "__main__":
    main()

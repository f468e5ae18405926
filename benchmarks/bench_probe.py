"""Probe speed on synthetic features: logistic regression and k-NN (the target: 60,000 x 384 in
under a minute on 2 cores), and the official linear probes of one zoo model, all trained
together (features/batched_probes.py) against one Keras fit per probe (probes.linear_layer_probe,
the reference), on the same features in the same run; and the few-shot logistic head with its
thread limit set once for all episodes against once per episode.

Features: 10 class means plus Gaussian noise, so the probes have real work to do. The linear
probes take the shape of a zoo model's feature sets (`--probe-shape`): deit (deit_nano: 6
blocks x class/dist/patch_mean at width 96 plus the last-4 and all-6 class concatenations, 20
probes), vit (14 probes) or resnet (4 pooled stages of widths 64-512 and their concatenation, 5).
Writes benchmarks/results/bench_probe.json and prints one summary line.

    .venv/bin/python benchmarks/bench_probe.py [--rows 60000] [--dim 384] [--jobs 2] [--probe-shape deit]
    .venv/bin/python benchmarks/bench_probe.py --quick   # 20,000 training rows (make bench)
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import limit_threads, write_result  # noqa: E402

limit_threads(2)

import numpy as np  # noqa: E402

# (widths of the per-block parts, blocks, kinds): the zoo's architectures (vitlab/models/registry.py)
PROBE_SHAPES = {"deit": ([96] * 18, 6, 3), "vit": ([96] * 12, 6, 2), "resnet": ([64, 128, 256, 512], 4, 1)}


def synthetic(rows, dim, classes, seed=0, labels=None):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(classes, dim)).astype("float32")
    labels = rng.integers(0, classes, size=rows) if labels is None else labels
    return centers[labels] * 0.15 + rng.normal(size=(rows, dim)).astype("float32"), labels


def probe_sets(shape):
    """The experiment's feature sets for a shape: every part alone, then the main kind's last-4
    and all-blocks concatenations (vitlab/features/protocol.py feature_sets)."""
    widths, blocks, kinds = PROBE_SHAPES[shape]
    main = [block * kinds for block in range(blocks)]  # parts are block-major: (block, kind)
    sets = [(part,) for part in range(len(widths))] + [tuple(main[-4:])]
    return sets + ([tuple(main)] if blocks > 4 else [])


def linear_probes(args):
    """Batched and per-probe timings on the same features; their results must agree."""
    from vitlab.features import batched_probes, probes

    widths = PROBE_SHAPES[args.probe_shape][0]
    rows = args.probe_rows + args.test_rows
    labels = np.random.default_rng(1).integers(0, args.classes, size=rows)
    parts = [synthetic(rows, width, args.classes, seed=10 + i, labels=labels)[0] for i, width in enumerate(widths)]
    train, test = [x[: args.probe_rows] for x in parts], [x[args.probe_rows :] for x in parts]
    y_train, y_test = labels[: args.probe_rows], labels[args.probe_rows :]
    sets = probe_sets(args.probe_shape)
    batched_probes.initial_kernel(1, 1, 0)  # Keras imported and its backend up before either clock starts
    started = time.perf_counter()
    batched = batched_probes.linear_layer_probes(train, y_train, test, y_test, sets, args.classes, epochs=args.epochs)
    batched_s = time.perf_counter() - started
    started = time.perf_counter()
    reference = [
        probes.linear_layer_probe(
            np.concatenate([train[p] for p in s], axis=1),
            y_train,
            np.concatenate([test[p] for p in s], axis=1),
            y_test,
            args.classes,
            epochs=args.epochs,
        )
        for s in sets
    ]
    reference_s = time.perf_counter() - started
    gaps = [
        abs(a - b)
        for new, old in zip(batched, reference)
        for a, b in zip(new.detail["per epoch"], old.detail["per epoch"])
    ]
    return {
        "probe_shape": args.probe_shape,
        "probes": len(sets),
        "probe_rows": args.probe_rows,
        "epochs": args.epochs,
        "part_widths": widths,
        "linear_batched_s": round(batched_s, 2),
        "linear_reference_s": round(reference_s, 2),
        "linear_speedup": round(reference_s / batched_s, 1),
        "linear_max_top1_gap": max(gaps),
        "linear_best_top1": max(s.accuracy for s in batched),
        "linear_same_best_epochs": all(
            new.detail["best epoch"] == old.detail["best epoch"] for new, old in zip(batched, reference)
        ),
    }


def few_shot_logistic(args):
    """The few-shot logistic head on the same 5-way 5-shot episodes, its BLAS limit entered per
    episode (as the head did before) and once for all (fewshot.episode_accuracies). Run after the
    linear probes: TensorFlow is loaded, as in a run, and threadpoolctl scans every library."""
    from threadpoolctl import threadpool_limits

    from vitlab.features import few_shot as fewshot

    features, labels = synthetic(10000, 96, args.classes, seed=3)
    episodes = fewshot.draw_episodes(labels, 5, 5, 15, args.episodes)
    started = time.perf_counter()
    each = []
    for episode in episodes:
        with threadpool_limits(limits=1, user_api="blas"):
            each.append(fewshot.logistic_accuracy(features, episode))
    each_s = time.perf_counter() - started
    started = time.perf_counter()
    once = fewshot.episode_accuracies("logistic", features, episodes)
    once_s = time.perf_counter() - started
    return {
        "few_shot_episodes": args.episodes,
        "few_shot_ms_per_episode": round(once_s / args.episodes * 1e3, 2),
        "few_shot_reference_ms_per_episode": round(each_s / args.episodes * 1e3, 2),
        "few_shot_speedup": round(each_s / once_s, 1),
        "few_shot_same_accuracies": each == once,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=60000)
    parser.add_argument("--test-rows", type=int, default=10000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--probe-shape", choices=sorted(PROBE_SHAPES), default="deit")
    parser.add_argument("--probe-rows", type=int, default=60000, help="training rows of the linear probes")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--episodes", type=int, default=300, help="few-shot logistic episodes timed")
    parser.add_argument("--quick", action="store_true", help="20,000 training rows for the linear probes")
    args = parser.parse_args()
    if args.quick:
        args.probe_rows = 20000

    from vitlab.features import probes

    features, labels = synthetic(args.rows + args.test_rows, args.dim, args.classes)
    x_train, y_train = features[: args.rows], labels[: args.rows]
    x_test, y_test = features[args.rows :], labels[args.rows :]
    started = time.perf_counter()
    logistic = probes.logistic_probe(x_train, y_train, x_test, y_test, n_jobs=args.jobs)
    logistic_s = time.perf_counter() - started
    started = time.perf_counter()
    knn = probes.knn_probe(x_train, y_train, x_test, y_test, k=20)
    knn_s = time.perf_counter() - started
    linear = linear_probes(args)
    few_shot = few_shot_logistic(args)
    payload = {
        "rows": args.rows,
        "test_rows": args.test_rows,
        "dim": args.dim,
        "classes": args.classes,
        "n_jobs": args.jobs,
        "logistic_s": round(logistic_s, 2),
        "logistic_top1": logistic.accuracy,
        "logistic_C": logistic.detail["C"],
        "knn_s": round(knn_s, 2),
        "knn_top1": knn.accuracy,
        "limit_s": 60.0,
        **linear,
        **few_shot,
        "load_average_1min": os.getloadavg()[0],
    }
    verdict = "ok" if logistic_s < 60 else "SLOW"
    write_result(
        "bench_probe",
        payload,
        f"logistic probe {args.rows}x{args.dim} (C={logistic.detail['C']} by CV) {logistic_s:.1f}s, "
        f"top1 {logistic.accuracy:.3f} [{verdict}: limit 60s]; 20-NN {knn_s:.1f}s top1 {knn.accuracy:.3f}; "
        f"{linear['probes']} {args.probe_shape} linear probes x {args.probe_rows} rows x {args.epochs} epochs: "
        f"together {linear['linear_batched_s']:.1f}s vs one by one {linear['linear_reference_s']:.1f}s = "
        f"{linear['linear_speedup']:.1f}x (largest top-1 gap {linear['linear_max_top1_gap']:.4f}); "
        f"few-shot logistic head {few_shot['few_shot_ms_per_episode']:.1f} vs "
        f"{few_shot['few_shot_reference_ms_per_episode']:.1f} ms per episode",
    )


if __name__ == "__main__":
    main()

"""Linear-probe speed on synthetic features (the target: 60,000 x 384 in under a minute on 2 cores).

Features: 10 class means in 384-d plus Gaussian noise, so the probe has real work to do.
Writes benchmarks/results/bench_probe.json and prints one summary line.

    .venv/bin/python benchmarks/bench_probe.py [--rows 60000] [--dim 384] [--jobs 2]
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


def synthetic(rows, dim, classes, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(classes, dim)).astype("float32")
    labels = rng.integers(0, classes, size=rows)
    return centers[labels] * 0.15 + rng.normal(size=(rows, dim)).astype("float32"), labels


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=60000)
    parser.add_argument("--test-rows", type=int, default=10000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    from vitlab.features import probes

    features, labels = synthetic(args.rows + args.test_rows, args.dim, args.classes)
    x_train, y_train = features[:args.rows], labels[:args.rows]
    x_test, y_test = features[args.rows:], labels[args.rows:]
    started = time.perf_counter()
    logistic = probes.logistic_probe(x_train, y_train, x_test, y_test, n_jobs=args.jobs)
    logistic_s = time.perf_counter() - started
    started = time.perf_counter()
    knn = probes.knn_probe(x_train, y_train, x_test, y_test, k=20)
    knn_s = time.perf_counter() - started
    payload = {"rows": args.rows, "test_rows": args.test_rows, "dim": args.dim, "classes": args.classes,
               "n_jobs": args.jobs, "logistic_s": round(logistic_s, 2), "logistic_top1": logistic.accuracy,
               "logistic_C": logistic.detail["C"], "knn_s": round(knn_s, 2), "knn_top1": knn.accuracy,
               "limit_s": 60.0, "load_average_1min": os.getloadavg()[0]}
    verdict = "ok" if logistic_s < 60 else "SLOW"
    write_result("bench_probe", payload,
                 f"logistic probe {args.rows}x{args.dim} (C={logistic.detail['C']} by CV) {logistic_s:.1f}s, "
                 f"top1 {logistic.accuracy:.3f} [{verdict}: limit 60s]; 20-NN {knn_s:.1f}s top1 {knn.accuracy:.3f}")


if __name__ == "__main__":
    main()

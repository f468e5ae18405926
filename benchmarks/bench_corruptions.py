"""Corruption-set throughput: a pool of 2 worker processes vs the single-process loop.

Both sides corrupt the same images with the same (corruption, severity) pairs, measured in
the same run. "warm" excludes pool start-up and numba compilation (workers started and
glass_blur compiled first); "cold" is what `vitlab data prepare corruptions` pays end to
end. Target: warm speed-up >= 1.8x with 2 workers; on a machine shared with other jobs the
ratio says more about the neighbours than about the code, so the load average is recorded.

    .venv/bin/python benchmarks/bench_corruptions.py [--images 64] [--severity 3] [--workers 2]
"""

import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core per process, so 2 workers use 2 cores
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from _common import write_result  # noqa: E402


def main():
    from vitlab.data_prep import corruption_set as prep
    from vitlab.perturb.corruptions import ALL

    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--severity", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=16)
    args = parser.parse_args()
    images = (np.random.default_rng(0).random((args.images, args.size, args.size, 3)) * 255).astype(np.uint8)
    indices = np.arange(args.images)
    pairs = [(name, args.severity) for name in ALL]
    count = args.images * len(pairs)
    load_before = os.getloadavg()

    prep.warm_up()
    started = time.perf_counter()
    prep.run_chunks(images, indices, pairs, 0, workers=1, chunk_size=args.chunk)
    serial = time.perf_counter() - started

    started = time.perf_counter()
    prep.run_chunks(images, indices, pairs, 0, workers=args.workers, chunk_size=args.chunk)
    cold = time.perf_counter() - started

    with prep.open_pool(images, indices, 0, args.workers) as pool:
        pool.map(_warm, range(args.workers * 4), chunksize=1)
        started = time.perf_counter()
        prep.run_chunks(images, indices, pairs, 0, workers=args.workers, chunk_size=args.chunk, pool=pool)
        warm = time.perf_counter() - started

    rates = {"serial": count / serial, "pool_cold": count / cold, "pool_warm": count / warm}
    payload = {
        "images": args.images,
        "size": args.size,
        "severity": args.severity,
        "pairs": len(pairs),
        "workers": args.workers,
        "chunk": args.chunk,
        "corrupted_images_per_s": rates,
        "speedup_warm": rates["pool_warm"] / rates["serial"],
        "speedup_cold": rates["pool_cold"] / rates["serial"],
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "cpu_count": os.cpu_count(),
        "seconds": {"serial": serial, "pool_cold": cold, "pool_warm": warm},
    }
    summary = (
        f"{args.workers} workers vs loop: {payload['speedup_warm']:.2f}x warm, {payload['speedup_cold']:.2f}x "
        f"cold ({rates['serial']:.0f} -> {rates['pool_warm']:.0f} corrupted {args.size}px images/s; "
        f"load {load_before[0]:.1f})"
    )
    write_result("bench_corruptions", payload, summary)


def _warm(_):
    from vitlab.data_prep.corruption_set import warm_up

    time.sleep(0.2)  # keep each worker busy long enough that every worker gets a warm-up task
    return warm_up()


if __name__ == "__main__":
    main()

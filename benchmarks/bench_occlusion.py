"""Cost of a PatchDrop sweep per level against the bare compiled forward passes it needs.

For each mode the sweep runs V variants (levels x repeats) per batch; its baseline is V
bare forward passes of the same compiled model on the same images (plus one attention
pass per batch for the salient modes, which need it). ratio = sweep time / baseline time;
the target is <= 1.10. Writes benchmarks/results/occlusion-<model>-<time>.json.

  .venv/bin/python benchmarks/bench_occlusion.py --model vit_nano_patch4_32 --batches 4
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def timed(fn):
    """(wall seconds, CPU seconds of this process): CPU time is robust to other load on the host."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def device():
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return jax.devices()[0].platform
    import tensorflow as tf

    return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"


def bench_mode(adapter, mode, images, labels, indices, rounds=5, seed=0):
    import numpy as np
    from keras import ops

    from vitlab.experiments import occlusion
    from vitlab.experiments.occlusion_sweep import ModelSweep, PixelScores
    from vitlab.perturb.compiled import compile_fn

    config = occlusion.Config(modes=[mode], repeats=1)
    size = int(images.shape[1])
    providers = occlusion.saliency_sources([adapter], config) if mode != "random" else {}
    _, sources, variants = occlusion.plan([adapter], config, size, size, providers)
    scores_fn = PixelScores(sources, size, size, seed)
    sweep = ModelSweep(adapter, variants[adapter.name])
    saliency = list({p.adapter.name: p for p in providers.values()}.values())

    def run_sweep():
        masses = {p.adapter.name: p(images) for p in saliency}
        return sweep(images, labels, scores_fn(indices, None, masses))

    bare = compile_fn(lambda x: adapter.logits(x))  # graph mode on TensorFlow (no XLA), jax.jit on JAX
    x = ops.convert_to_tensor(images)
    count = len(variants[adapter.name])

    def run_baseline():
        for _ in range(count):
            ops.convert_to_numpy(bare(x))
        for provider in saliency:
            ops.convert_to_numpy(provider(images))

    run_baseline()  # compile both first
    run_sweep()
    baseline_times, sweep_times = [], []
    for _ in range(rounds):  # interleaved, so load from other processes hits both alike
        baseline_times.append(timed(run_baseline))
        sweep_times.append(timed(run_sweep))
    baseline_wall, baseline_cpu = np.median(baseline_times, axis=0)
    sweep_wall, sweep_cpu = np.median(sweep_times, axis=0)
    return {
        "mode": mode,
        "variants": count,
        "rounds": rounds,
        "baseline_wall_s": baseline_wall,
        "sweep_wall_s": sweep_wall,
        "baseline_cpu_s": baseline_cpu,
        "sweep_cpu_s": sweep_cpu,
        "bare_forward_s": baseline_wall / (count + len(saliency)),
        "sweep_per_level_s": sweep_wall / count,
        "ratio": sweep_wall / baseline_wall,
        "ratio_cpu_time": sweep_cpu / baseline_cpu,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="vit_nano_patch4_32")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--modes", default="random,salient")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()

    import keras
    import numpy as np

    from vitlab.experiments.runner import resolve_model

    adapter = resolve_model(args.model)
    size = adapter.image_size
    rng = np.random.default_rng(0)
    images = rng.random((args.batch_size, size, size, 3), dtype=np.float32)
    labels = rng.integers(0, adapter.num_classes, args.batch_size).astype("int32")
    indices = np.arange(args.batch_size, dtype="int64")
    modes = [m for m in args.modes.split(",") if m and (m == "random" or adapter.is_transformer)]
    results = [bench_mode(adapter, mode, images, labels, indices, args.rounds) for mode in modes]
    record = {
        "benchmark": "occlusion_sweep",
        "model": args.model,
        "batch_size": args.batch_size,
        "image_size": size,
        "device": device(),
        "host": platform.node(),
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "modes": results,
        "max_ratio": max(r["ratio"] for r in results),
        "max_ratio_cpu_time": max(r["ratio_cpu_time"] for r in results),
        "target_ratio": 1.10,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"occlusion-{args.model}.json"  # the latest run; history lives in git
    path.write_text(json.dumps(record, indent=2))
    parts = ", ".join(
        f"{r['mode']}: {r['sweep_per_level_s'] * 1e3:.1f} ms/level vs {r['bare_forward_s'] * 1e3:.1f} "
        f"ms/forward (ratio {r['ratio']:.3f}, CPU-time ratio {r['ratio_cpu_time']:.3f})"
        for r in results
    )
    print(f"occlusion sweep {args.model} b={args.batch_size} {record['device']}: {parts} -> {path}")


if __name__ == "__main__":
    main()

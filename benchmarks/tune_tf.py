"""Side-by-side trials of TensorFlow settings (threads, XLA flags, oneDNN) for one model.

Not part of `make bench` (no bench_ prefix): it answers "does this setting help?" for
the throughput tuning study. Each variant of bench_throughput.py (VARIANTS and TUNING) runs in its own
process; the variants run in rounds, in a rotated order, and each figure is the variant's
images/s over the baseline's in the same round, median over rounds, so slow drift in the
load of a shared machine cancels. Per CPU-second ratios are given too.

    .venv/bin/python benchmarks/tune_tf.py --model deit_tiny_patch16_224 \
        --baseline xla --variants xla_fast_math,xla_tf_threads [--rounds 2]
"""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
import bench_throughput  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="deit_tiny_patch16_224")
    parser.add_argument("--baseline", default="xla", help="the current default to compare against")
    parser.add_argument("--variants", required=True, help="comma-separated names from bench_throughput")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args(argv)
    batch = bench_throughput.CONFIGS.get(args.model, 32)
    names = [args.baseline] + [v for v in args.variants.split(",") if v != args.baseline]
    runs = {name: [] for name in names}
    for round_index in range(args.rounds):
        order = names[round_index % len(names) :] + names[: round_index % len(names)]
        for name in order:
            runs[name].append(bench_throughput.measure_vitlab(args.model, batch, name, args.warmup, args.steps))
            result = runs[name][-1]
            print(
                f"round {round_index + 1} {name}: train {result['train']['images_per_s']:.1f}, inference "
                f"{result['inference']['images_per_s']:.1f} img/s",
                flush=True,
            )
    ratios = {}
    for name in names[1:]:
        ratios[name] = {}
        for kind in ("train", "inference"):
            for key, label in (("images_per_s", kind), ("images_per_cpu_s", f"{kind}_cpu")):
                per_round = [ours[kind][key] / base[kind][key] for ours, base in zip(runs[name], runs[args.baseline])]
                ratios[name][label] = {"median": statistics.median(per_round), "rounds": per_round}
    summary = f"{args.model} vs {args.baseline}: " + "; ".join(
        f"{name} train {r['train']['median']:.2f}x, inference {r['inference']['median']:.2f}x "
        f"(per CPU-s {r['train_cpu']['median']:.2f}x / {r['inference_cpu']['median']:.2f}x)"
        for name, r in ratios.items()
    )
    _common.write_result(
        f"tune_tf-{args.model}-{'+'.join(names)}",
        {
            "model": args.model,
            "batch": batch,
            "baseline": args.baseline,
            "rounds": args.rounds,
            "runs": runs,
            "ratios": ratios,
            "settings": {n: {**bench_throughput.VARIANTS, **bench_throughput.TUNING}[n] for n in names},
        },
        summary,
    )


if __name__ == "__main__":
    main()

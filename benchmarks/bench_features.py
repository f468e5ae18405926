"""Feature extraction throughput against the bare forward pass of the same model (the target: >= 90%).

Baseline: the compiled forward pass (logits) over the same tf.data pipeline, compiled as
extraction is (XLA for transformers); a second baseline, the plain-graph forward pass, shows
what XLA buys (extraction ran as a plain graph before). Measured:
`vitlab.features.extract` end to end (all blocks, every token kind, HDF5 writes with lzf),
into a fresh cache directory each repeat. Best of --repeats, alternating, same process.
Writes benchmarks/results/bench_features.json and prints one summary line.

    .venv/bin/python benchmarks/bench_features.py [--models vit_nano_patch4_32,resnet_nano_32] [--images 2048]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import limit_threads, write_result  # noqa: E402

limit_threads(2)

import numpy as np  # noqa: E402


def bare_forward_rate(forward, data):
    started = time.perf_counter()
    count = 0
    for batch in data.pipeline:
        np.asarray(forward(batch["image"]))
        count += int(batch["image"].shape[0])
    return count / (time.perf_counter() - started)


def extract_rate(adapter, data, chunk_rows):
    from vitlab.features.extract import extract

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        features = extract(adapter, data, blocks="all", cache_dir=folder, chunk_rows=chunk_rows)
        elapsed = time.perf_counter() - started
        return features.rows_done / elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="vit_nano_patch4_32,deit_nano_distilled_patch4_32,resnet_nano_32")
    parser.add_argument("--images", type=int, default=2048)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--chunk-rows", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import keras

    from vitlab.data.dataset import from_arrays
    from vitlab.features.extract import forward_function
    from vitlab.models.adapter import adapt

    rng = np.random.default_rng(0)
    data = from_arrays(
        rng.random((args.images, 32, 32, 3), dtype=np.float32), np.arange(args.images) % 10, batch_size=args.batch_size
    )
    data.preprocessing = {"source": "benchmark"}  # a named source: no content hash, like real datasets
    rows = {}
    for name in args.models.split(","):
        keras.utils.set_random_seed(0)
        adapter = adapt(name)
        forward = forward_function(adapter)
        graph_forward = forward_function(adapter, jit_compile=False)
        bare_forward_rate(forward, data)  # trace + warm up every path (compiled functions are kept per model)
        bare_forward_rate(graph_forward, data)
        extract_rate(adapter, data, args.chunk_rows)
        bare, graph, extracted = [], [], []
        for _ in range(args.repeats):
            bare.append(bare_forward_rate(forward, data))
            graph.append(bare_forward_rate(graph_forward, data))
            extracted.append(extract_rate(adapter, data, args.chunk_rows))
        rows[name] = {
            "bare_forward_img_s": round(max(bare), 1),
            "graph_forward_img_s": round(max(graph), 1),
            "extract_img_s": round(max(extracted), 1),
            "xla": adapter.is_transformer,
            "ratio": round(max(extracted) / max(bare), 3),
            "ratio_vs_graph_forward": round(max(extracted) / max(graph), 3),
            "blocks": adapter.num_blocks,
        }
    worst = min(r["ratio"] for r in rows.values())
    verdict = "ok" if worst >= 0.9 else "BELOW 0.9"
    parts = ", ".join(
        f"{n} {r['ratio']:.2f} ({r['ratio_vs_graph_forward']:.2f}x a graph forward)" for n, r in rows.items()
    )
    write_result(
        "bench_features",
        {
            "images": args.images,
            "batch_size": args.batch_size,
            "chunk_rows": args.chunk_rows,
            "repeats": args.repeats,
            "models": rows,
        },
        f"extraction / bare forward throughput: {parts} [{verdict}: target >= 0.90]",
    )


if __name__ == "__main__":
    main()

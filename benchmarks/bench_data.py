"""Data benchmarks: shapes and objects64 generation speed (one core) and pipeline throughput.

Writes benchmarks/results/bench_data.json and prints a one-line summary. The baseline is
the same generator run one image at a time, measured in the same run.
    .venv/bin/python benchmarks/bench_data.py [--quick]
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402


def _rate(fn, count):
    started = time.perf_counter()
    fn()
    return count / (time.perf_counter() - started)


def generation(quick):
    from vitlab.data import shapes

    shapes.generate(64)  # warm-up
    out = {}
    for size, count in ((32, 2000 if quick else 10000), (64, 500 if quick else 2000), (224, 50 if quick else 200)):
        rate = _rate(lambda: shapes.generate(count, "cue_conflict", "test", size), count)
        out[f"images_per_s_{size}px"] = round(rate, 1)
    original = shapes._PIXELS_PER_CHUNK
    shapes._PIXELS_PER_CHUNK = 1  # one image per chunk: the per-image loop baseline
    try:
        count = 100 if quick else 300
        rate = _rate(lambda: shapes.generate(count, "cue_conflict", "test", 32), count)
        out["baseline_per_image_32px"] = round(rate, 1)
    finally:
        shapes._PIXELS_PER_CHUNK = original
    cpu_started = time.process_time()
    shapes.generate(2000, "cue_conflict", "test", 32)
    out["images_per_cpu_s_32px"] = round(2000 / (time.process_time() - cpu_started), 1)  # robust on a shared host
    out["speedup_vs_per_image"] = round(out["images_per_s_32px"] / out["baseline_per_image_32px"], 2)
    return out


def objects_generation(quick):
    """objects64 images/s, both layouts, 10,000 images (2,000 with --quick) after the photos load."""
    from vitlab.data import objects, photo_textures

    started = time.perf_counter()
    photo_textures.check_all()  # the one-off cost: reading and equalizing the photographs
    out = {"objects64_photo_load_s": round(time.perf_counter() - started, 2)}
    count = 2000 if quick else 10000
    for layout in objects.LAYOUTS:
        cpu_started = time.process_time()
        rate = _rate(lambda: objects.generate(count, "cue_conflict", "test", 64, layout=layout), count)
        out[f"objects64_images_per_s_{layout}"] = round(rate, 1)
        out[f"objects64_images_per_cpu_s_{layout}"] = round(count / (time.process_time() - cpu_started), 1)
    out["objects64_count"] = count
    return out


def pipelines(quick):
    from vitlab import data

    out = {}
    for name, size in (("shapes", 32), ("fashion_mnist", 32), ("shapes:cue_conflict", 224)):
        limit = 512 if size == 224 else (2000 if quick else 10000)
        dataset = data.load(
            name, split="test" if size == 224 else "train", image_size=size, batch_size=128, limit=limit, shuffle=True
        )
        for _ in dataset.batches():  # first pass: builds caches, warms tf.data
            break
        count = [0]

        def consume():
            for batch in dataset.batches():
                count[0] += len(batch["label"])

        out[f"pipeline_images_per_s_{name}_{size}px"] = round(_rate(consume, limit), 1)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        os.environ.setdefault("VITLAB_CACHE", cache)
        results = {
            "benchmark": "data",
            "host": platform.node(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            **generation(args.quick),
            **objects_generation(args.quick),
            **pipelines(args.quick),
        }
    path = pathlib.Path(__file__).parent / "results" / "bench_data.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"shapes 32px: {results['images_per_s_32px']:.0f} img/s on one core "
        f"({results['images_per_cpu_s_32px']:.0f} per CPU-second) "
        f"({results['speedup_vs_per_image']:.1f}x the per-image loop), "
        f"224px: {results['images_per_s_224px']:.0f} img/s; "
        f"pipeline shapes 32px {results['pipeline_images_per_s_shapes_32px']:.0f} img/s, "
        f"fashion_mnist {results['pipeline_images_per_s_fashion_mnist_32px']:.0f} img/s -> {path}"
    )
    print(
        f"objects64 64px, {results['objects64_count']} images on one core: "
        f"multi {results['objects64_images_per_s_multi']:.0f} img/s, "
        f"single {results['objects64_images_per_s_single']:.0f} img/s "
        f"({results['objects64_images_per_cpu_s_multi']:.0f} / {results['objects64_images_per_cpu_s_single']:.0f} "
        f"per CPU-second) "
        f"(after {results['objects64_photo_load_s']:.1f}s loading the photographs)"
    )


if __name__ == "__main__":
    main()

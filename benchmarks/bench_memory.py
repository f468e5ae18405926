"""Peak memory of an image-folder run on a dataset larger than the memory it is allowed.

A folder of JPEGs (one encoded image hard-linked N times: the disk holds one copy, the
decoder does the full work each time) goes through the real path: `vitlab.data.load` (the
Pillow decoder, resize and crop) and the model's forward pass, in a fresh process per
size, measured as ru_maxrss of that process. The decoded float32
dataset at 224x224 grows with N (2.4 GB at N=4000); if the pipeline streams, peak RSS
stays flat, so a set many times the machine's memory (ImageNet: 1.28 M images, 770 GB
decoded) runs in the same memory. Not a test: a measurement, written to
benchmarks/results/bench_memory.json.

    .venv/bin/python benchmarks/bench_memory.py [--quick] [--model ''] (data path alone)
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

IMAGE_SIZE = 224
BATCH = 32
MODEL = "resnet_test"

CHILD = """
import json, os, resource, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
from vitlab import data, models
folder, size = sys.argv[1], int(sys.argv[2])
model = models.create("{model}", num_classes=2, image_size={image_size}) if "{model}" else None
loaded = data.load(folder, split="test", image_size={image_size}, batch_size={batch})
started_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start, rows = time.time(), 0
for batch in loaded.batches():
    if model is not None:
        model(batch["image"], training=False)
    rows += len(batch["label"])
print(json.dumps({{"rows": rows, "seconds": round(time.time() - start, 2), "skipped": len(loaded.skipped_files),
                  "rss_before_mb": round(started_rss / 1024, 1),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}}))
"""


def make_folder(root, size):
    """Two classes of `size` images in all: hard links of two encoded 256x256 JPEGs."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (root / label).mkdir(parents=True)
        source = root / f"{label}.jpg"
        Image.fromarray(rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)).save(source, quality=90)
        for i in range(size // 2):
            os.link(source, root / label / f"{i:06d}.jpg")
        source.unlink()


def measure(size, model):
    with tempfile.TemporaryDirectory(prefix="vitlab-bench-memory-") as folder:
        make_folder(Path(folder) / "set", size)
        code = CHILD.format(model=model, image_size=IMAGE_SIZE, batch=BATCH)
        done = subprocess.run(
            [sys.executable, "-c", code, str(Path(folder) / "set"), str(size)],
            capture_output=True,
            text=True,
            check=True,
        )
    row = json.loads(done.stdout.strip().splitlines()[-1])
    row["images"] = size
    row["decoded_dataset_mb"] = round(size * IMAGE_SIZE * IMAGE_SIZE * 3 * 4 / 2**20, 1)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Two small sizes only.")
    parser.add_argument("--model", default=MODEL, help="Model for the forward pass; '' for the data path alone.")
    args = parser.parse_args()
    sizes = [256, 1024] if args.quick else [500, 2000, 4000]
    rows = []
    for size in sizes:
        rows.append(measure(size, args.model))
        print(json.dumps(rows[-1]), flush=True)
    growth = rows[-1]["peak_rss_mb"] - rows[0]["peak_rss_mb"]
    data_growth = rows[-1]["decoded_dataset_mb"] - rows[0]["decoded_dataset_mb"]
    summary = (
        f"peak RSS {rows[0]['peak_rss_mb']:.0f} MB at {rows[0]['images']} images, "
        f"{rows[-1]['peak_rss_mb']:.0f} MB at {rows[-1]['images']} images "
        f"(decoded data grew {data_growth:.0f} MB, RSS {growth:+.0f} MB)"
    )
    print(summary)
    _common.write_result(
        "bench_memory",
        {
            "model": args.model or None,
            "image_size": IMAGE_SIZE,
            "batch_size": BATCH,
            "rows": rows,
            "rss_growth_mb": round(growth, 1),
            "decoded_growth_mb": round(data_growth, 1),
        },
        summary,
    )


if __name__ == "__main__":
    main()

"""`make parity`: vitlab's imported models give timm's outputs, checked against timm itself.

For every registry name with a timm architecture: timm builds seeded random weights
(in benchmarks/.venv-timm, made on first use), saves them as .safetensors with reference
logits and per-block class tokens (per-stage maps for a ResNet); vitlab imports the file
(`vitlab.models.timm_convert`) and must match to 1e-4 (float32), on its fused attention
path and on the path that returns attention maps. Two extra rows import at another image
size and compare with timm's own position-embedding resampling.

    .venv/bin/python benchmarks/parity.py [--names a,b] [--batch 2]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import _common  # noqa: E402

_common.limit_threads(2)

import numpy as np  # noqa: E402

import _timm  # noqa: E402

TOLERANCE = 1e-4
RESIZED = {"deit_tiny_patch16_224@160": 160, "deit_tiny_distilled_patch16_224@288": 288}


def images(batch, size, seed, path):
    np.save(path, np.random.default_rng(seed).random((batch, size, size, 3), dtype=np.float32))
    return path


def check(label, batch, workdir):
    from vitlab import models
    from vitlab.models.timm_convert import import_checkpoint

    name, _, size = label.partition("@")
    spec = models.get_spec(name)
    model_mean, model_std = spec.kwargs["mean"], spec.kwargs["std"]
    job = {"timm_name": spec.timm_name, "seed": 0, "mean": model_mean, "std": model_std,
           "images": str(images(batch, spec.image_size, 1, workdir / "x.npy")),
           "weights": str(workdir / "w.safetensors"), "outputs": str(workdir / "ref.npz")}
    eval_size = int(size) if size else spec.image_size
    if size:
        job.update(eval_image_size=eval_size, eval_images=str(images(batch, eval_size, 2, workdir / "xe.npy")))
    start = time.perf_counter()
    _timm.run("parity", job, workdir / "job.json")
    reference = np.load(job["outputs"])
    model, notes = import_checkpoint(name, job["weights"], image_size=eval_size)
    x = np.load(job.get("eval_images", job["images"]))
    logits = np.asarray(model(x))
    if spec.family == "vit":
        fused = model.forward(x, return_tokens=True)
        features = np.stack([np.asarray(t[:, 0]) for t in fused["tokens"]])
        maps_logits = np.asarray(model.forward(x, return_attention=True)["logits"])
    else:
        stages = model.forward(x, return_stages=True)["stages"]
        features = np.concatenate([np.asarray(s).reshape(-1) for s in stages])
        maps_logits = logits
    row = {
        "name": label, "timm": spec.timm_name, "params": models.parameter_count(model),
        "timm_params": int(reference["params"]),
        "logits": float(np.abs(logits - reference["logits"]).max()),
        "maps_logits": float(np.abs(maps_logits - reference["logits"]).max()),
        "features": float(np.abs(features - reference["features"]).max()),
        "logit_scale": float(np.abs(reference["logits"]).max()),
        "seconds": time.perf_counter() - start, "notes": notes,
    }
    row["ok"] = (max(row["logits"], row["maps_logits"], row["features"]) <= TOLERANCE
                 and (size or row["params"] == row["timm_params"]))
    for path in workdir.iterdir():
        path.unlink()
    return row


def table(rows):
    lines = ["| model | params (vitlab / timm) | logits max|d| | maps-path logits | block tokens / stages | "
             "|logits| max | ok |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['params']:,} / {r['timm_params']:,} | {r['logits']:.2e} | "
                     f"{r['maps_logits']:.2e} | {r['features']:.2e} | {r['logit_scale']:.2f} | "
                     f"{'yes' if r['ok'] else 'NO'} |")
    return "\n".join(lines)


def main(argv=None):
    from vitlab import models

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", default=None, help="comma-separated subset (default: all timm names + resized rows)")
    parser.add_argument("--batch", type=int, default=2)
    args = parser.parse_args(argv)
    labels = args.names.split(",") if args.names else models.timm_models() + list(RESIZED)
    _timm.ensure_venv()
    rows = []
    with tempfile.TemporaryDirectory(prefix="vitlab-parity-") as tmp:
        for label in labels:
            rows.append(check(label, args.batch, Path(tmp)))
            r = rows[-1]
            print(f"{label}: logits {r['logits']:.2e}, tokens {r['features']:.2e} "
                  f"({r['seconds']:.0f} s){' ' + '; '.join(r['notes']) if r['notes'] else ''}", flush=True)
    print()
    print(table(rows))
    failed = [r["name"] for r in rows if not r["ok"]]
    summary = (f"{len(rows) - len(failed)}/{len(rows)} models match timm within {TOLERANCE:g}"
               + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    _common.write_result("parity", {"tolerance": TOLERANCE, "batch": args.batch, "rows": rows,
                                    "table": table(rows)}, summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

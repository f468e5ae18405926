"""`make parity`: vitlab's imported models give timm's outputs, checked against timm itself.

For every registry name with a timm architecture: timm builds seeded random weights
(in benchmarks/.venv-timm, made on first use), saves them as .safetensors with reference
logits and per-block class tokens (per-stage maps for a ResNet); vitlab imports the file
(`vitlab.models.timm_convert`) and must match to 1e-4 (float32), on its fused attention
path and on the path that returns attention maps. Two extra rows import at another image
size and compare with timm's own position-embedding resampling.

DINO ViT-S/16 (vit_small_patch16_224.dino, headless): its "logits" are the final-norm class
token, compared with timm's headless output; the last block's attention (the input of the
paper's saliency mask, vitlab/protocol/saliency.py) is compared too, and so is the mask of
head 1 at every lambda. A second row writes DINO's training-checkpoint layout (backbone.
prefix, projection-head keys beside it), which the import must unwrap.

    .venv/bin/python benchmarks/parity.py [--names a,b [--merge]] [--batch 2]
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

import _timm  # noqa: E402
import numpy as np  # noqa: E402

TOLERANCE = 1e-4
RESIZED = {"deit_tiny_patch16_224@160": 160, "deit_tiny_distilled_patch16_224@288": 288}
DINO = "vit_small_patch16_224_dino"
DINO_ROWS = (f"{DINO}#full",)  # the .dino row itself is a timm name; #full: DINO's training layout


def images(batch, size, seed, path):
    np.save(path, np.random.default_rng(seed).random((batch, size, size, 3), dtype=np.float32))
    return path


def check(label, batch, workdir):
    from vitlab import models
    from vitlab.models.timm_convert import import_checkpoint

    label_name, _, layout = label.partition("#")
    name, _, size = label_name.partition("@")
    spec = models.get_spec(name)
    model_mean, model_std = spec.kwargs["mean"], spec.kwargs["std"]
    job = {
        "timm_name": spec.timm_name,
        "seed": 0,
        "mean": model_mean,
        "std": model_std,
        "images": str(images(batch, spec.image_size, 1, workdir / "x.npy")),
        "weights": str(workdir / "w.safetensors"),
        "outputs": str(workdir / "ref.npz"),
    }
    if name == DINO:
        job.update(attention=True, dino_full=layout == "full")
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
        maps = model.forward(x, return_attention=True)
        maps_logits = np.asarray(maps["logits"] if "logits" in maps else maps["features"][:, 0])  # headless
    else:
        stages = model.forward(x, return_stages=True)["stages"]
        features = np.concatenate([np.asarray(s).reshape(-1) for s in stages])
        maps_logits = logits
    row = {
        "name": label,
        "timm": spec.timm_name,
        "params": models.parameter_count(model),
        "timm_params": int(reference["params"]),
        "logits": float(np.abs(logits - reference["logits"]).max()),
        "maps_logits": float(np.abs(maps_logits - reference["logits"]).max()),
        "features": float(np.abs(features - reference["features"]).max()),
        "logit_scale": float(np.abs(reference["logits"]).max()),
        "seconds": time.perf_counter() - start,
        "notes": notes,
    }
    if "attention" in reference:
        row.update(_attention_rows(model, x, reference["attention"]))
    row["ok"] = (
        max(row["logits"], row["maps_logits"], row["features"], row.get("attention", 0.0)) <= TOLERANCE
        and row.get("masks_equal", True)
        and (size or row["params"] == row["timm_params"])
    )
    for path in workdir.iterdir():
        path.unlink()
    return row


def _attention_rows(model, x, reference):
    """Last-block attention against timm's, and the DINO mask of head 1 at lambda 0.1..1.0."""
    from vitlab.protocol import saliency

    attention = np.asarray(model.forward(x, return_attention=True)["attention"][-1])
    prefix = model.num_prefix_tokens
    ours = attention[:, saliency.DINO_HEAD, 0, prefix:]
    theirs = reference[:, saliency.DINO_HEAD, 0, prefix:]
    masks_equal = all(
        np.array_equal(saliency.salient_mask(ours, m), saliency.salient_mask(theirs, m)) for m in saliency.PAPER_LAMBDAS
    )
    return {"attention": float(np.abs(attention - reference).max()), "masks_equal": bool(masks_equal)}


def table(rows):
    lines = [
        "| model | params (vitlab / timm) | logits max|d| | maps-path logits | block tokens / stages | "
        "|logits| max | ok |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['params']:,} / {r['timm_params']:,} | {r['logits']:.2e} | "
            f"{r['maps_logits']:.2e} | {r['features']:.2e} | {r['logit_scale']:.2f} | "
            f"{'yes' if r['ok'] else 'NO'} |"
        )
    return "\n".join(lines)


def main(argv=None):
    from vitlab import models

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", default=None, help="comma-separated subset (default: all timm names + resized rows)")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument(
        "--merge", action="store_true", help="keep the other rows of results/parity.json (re-check a few names only)"
    )
    args = parser.parse_args(argv)
    labels = args.names.split(",") if args.names else models.timm_models() + list(RESIZED) + list(DINO_ROWS)
    _timm.ensure_venv()
    rows = []
    with tempfile.TemporaryDirectory(prefix="vitlab-parity-") as tmp:
        for label in labels:
            rows.append(check(label, args.batch, Path(tmp)))
            r = rows[-1]
            attention = (
                (f", last-block attention {r['attention']:.2e}, DINO masks {'equal' if r['masks_equal'] else 'DIFFER'}")
                if "attention" in r
                else ""
            )
            print(
                f"{label}: logits {r['logits']:.2e}, tokens {r['features']:.2e}{attention} "
                f"({r['seconds']:.0f} s){' ' + '; '.join(r['notes']) if r['notes'] else ''}",
                flush=True,
            )
    if args.merge and (_common.RESULTS / "parity.json").exists():
        import json

        checked = {r["name"] for r in rows}
        kept = [
            r
            for r in json.loads((_common.RESULTS / "parity.json").read_text()).get("rows", [])
            if r["name"] not in checked
        ]
        rows = kept + rows
    print()
    print(table(rows))
    failed = [r["name"] for r in rows if not r["ok"]]
    summary = f"{len(rows) - len(failed)}/{len(rows)} models match timm within {TOLERANCE:g}" + (
        f"; FAILED: {', '.join(failed)}" if failed else ""
    )
    _common.write_result(
        "parity", {"tolerance": TOLERANCE, "batch": args.batch, "rows": rows, "table": table(rows)}, summary
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

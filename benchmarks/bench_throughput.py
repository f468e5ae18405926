"""Training and inference images/s: vitlab (Keras on TensorFlow) against timm (PyTorch).

Same architecture, batch, precision (float32) and threads (2) on both sides, measured in
the same run; timm runs in benchmarks/.venv-timm. Each vitlab variant (graph vs. XLA,
oneDNN on/off) runs in its own process, since TensorFlow fixes threads and oneDNN at start.
Also measures the input pipeline alone (it must outpace training by >= 3x).

    .venv/bin/python benchmarks/bench_throughput.py [--quick] [--models a,b] [--variants xla,graph]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

CONFIGS = {  # name: batch size (the recipes' batch for the 32x32 configs)
    "deit_tiny_patch16_224": 16,
    "vit_nano_patch4_32": 128,
    "resnet_nano_32": 128,
}
VARIANTS = {  # name: (jit_compile, oneDNN)
    "xla": (True, True),
    "graph": (False, True),
    "graph_no_onednn": (False, False),
}
def measure_vitlab(name, batch, variant, warmup, steps):
    """Runs in a fresh process (see worker): images/s for predict_on_batch and train_on_batch."""
    jit, onednn = VARIANTS[variant]
    job = {"name": name, "batch": batch, "jit": jit, "warmup": warmup, "steps": steps}
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "1" if onednn else "0", "KERAS_BACKEND": "tensorflow"}
    done = subprocess.run([sys.executable, __file__, "--worker", json.dumps(job)], env=env, capture_output=True,
                          text=True, timeout=1200)
    if done.returncode:
        sys.stderr.write(done.stderr[-3000:])
        raise RuntimeError(f"vitlab worker failed: {name} {variant}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def worker(job):
    _common.limit_threads(2)
    import keras
    import numpy as np

    from vitlab import models

    model = models.create(job["name"], num_classes=10)
    size, batch = model.image_size, job["batch"]
    rng = np.random.default_rng(0)
    x = rng.random((batch, size, size, 3), dtype=np.float32)
    y = rng.integers(0, 10, batch).astype("int32")
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=job["jit"])
    start = time.perf_counter()
    model.predict_on_batch(x)
    first_predict = time.perf_counter() - start
    inference = rate(lambda: model.predict_on_batch(x), batch, job["warmup"], job["steps"])
    start = time.perf_counter()
    model.train_on_batch(x, y)
    first_train = time.perf_counter() - start
    train = rate(lambda: model.train_on_batch(x, y), batch, job["warmup"], job["steps"])
    print(json.dumps({"params": models.parameter_count(model), "inference": inference, "train": train, "compile_s": {"predict": first_predict,
                                                                             "train": first_train}}))


def rate(step, batch, warmup, steps):
    import numpy as np

    for _ in range(warmup):
        step()
    times = []
    cpu = time.process_time()
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    cpu = time.process_time() - cpu
    return {"images_per_s": batch / float(np.median(times)), "median_step_s": float(np.median(times)),
            "images_per_cpu_s": batch * steps / cpu, "steps": steps}


def measure_timm(name, batch, warmup, steps, workdir):
    import _timm

    from vitlab import models

    spec = models.get_spec(name)
    kw = spec.kwargs
    job = {"timm_name": spec.timm_name or name, "num_classes": 10, "batch_size": batch,
           "image_size": spec.image_size, "warmup": warmup, "steps": steps, "outputs": str(workdir / "t.json")}
    if not spec.timm_name:  # a registry-only config: timm builds the same architecture from its kwargs
        job["timm_name"] = "vit" if spec.family == "vit" else "resnet"
        job["arch"] = ({"patch_size": kw["patch_size"], "embed_dim": kw["hidden_dim"], "depth": kw["depth"],
                        "num_heads": kw["num_heads"], "mlp_ratio": kw.get("mlp_ratio", 4.0),
                        "distilled": kw.get("distilled", False)} if spec.family == "vit" else
                       {"layers": list(kw["stage_depths"]), "base_width": kw["base_width"],
                        "stem": kw.get("stem", "imagenet")})
    _timm.run("throughput", job, workdir / "job.json")
    return json.loads(Path(job["outputs"]).read_text())


def measure_pipeline(name, batch, batches):
    """The training input pipeline alone (shapes:train at the model's size, shuffled, repeated)."""
    _common.limit_threads(2)
    from vitlab import data, models

    size = models.get_spec(name).image_size
    dataset = data.load("shapes:train", image_size=size, batch_size=batch, shuffle=True, repeat=True)
    iterator = dataset.batches()
    next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return {"images_per_s": batch * batches / (time.perf_counter() - start), "dataset": "shapes:train"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (the make bench setting)")
    parser.add_argument("--models", default=",".join(CONFIGS))
    parser.add_argument("--variants", default=None, help="default xla,graph,graph_no_onednn (--quick: xla,graph)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(json.loads(args.worker))
    warmup, steps = (2, 5) if args.quick else (3, 15)
    args.variants = args.variants or ("xla,graph" if args.quick else ",".join(VARIANTS))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            batch = CONFIGS.get(name, 32)
            timm = measure_timm(name, batch, warmup, steps, Path(tmp))
            pipeline = measure_pipeline(name, batch, 10 if args.quick else 30)
            for variant in args.variants.split(","):
                ours = measure_vitlab(name, batch, variant, warmup, steps)
                row = {"model": name, "batch": batch, "variant": variant, "vitlab": ours, "timm": timm,
                       "pipeline": pipeline,
                       "train_ratio": ours["train"]["images_per_s"] / timm["train"]["images_per_s"],
                       "inference_ratio": ours["inference"]["images_per_s"] / timm["inference"]["images_per_s"],
                       "pipeline_over_train": pipeline["images_per_s"] / ours["train"]["images_per_s"],
                       # per CPU-second: robust to other load on a shared machine
                       "train_ratio_cpu": ours["train"]["images_per_cpu_s"] / timm["train"]["images_per_cpu_s"],
                       "inference_ratio_cpu": (ours["inference"]["images_per_cpu_s"]
                                               / timm["inference"]["images_per_cpu_s"])}
                if ours["params"] != timm["params"]:
                    raise RuntimeError(f"{name}: not the same architecture ({ours['params']} vs {timm['params']} params)")
                rows.append(row)
                print(f"{name} b{batch} {variant}: train {ours['train']['images_per_s']:.1f} vs timm "
                      f"{timm['train']['images_per_s']:.1f} img/s ({row['train_ratio']:.2f}x), inference "
                      f"{ours['inference']['images_per_s']:.1f} vs {timm['inference']['images_per_s']:.1f} "
                      f"({row['inference_ratio']:.2f}x); per CPU-s train {row['train_ratio_cpu']:.2f}x, inference "
                      f"{row['inference_ratio_cpu']:.2f}x; pipeline {pipeline['images_per_s']:.0f} img/s "
                      f"({row['pipeline_over_train']:.1f}x train)", flush=True)
    best = {}
    for row in rows:
        if row["model"] not in best or row["train_ratio"] > best[row["model"]]["train_ratio"]:
            best[row["model"]] = row
    summary = "; ".join(f"{m}: train {r['train_ratio']:.2f}x, inference {r['inference_ratio']:.2f}x timm ({r['variant']})"
                        for m, r in best.items())
    table = ["| model | batch | variant | train img/s (timm) | ratio | inference img/s (timm) | ratio | "
             "ratios per CPU-s (train / inf.) | pipeline / train |", "|---|---|---|---|---|---|---|---|---|"]
    table += [f"| {r['model']} | {r['batch']} | {r['variant']} | {r['vitlab']['train']['images_per_s']:.1f} "
              f"({r['timm']['train']['images_per_s']:.1f}) | {r['train_ratio']:.2f}x | "
              f"{r['vitlab']['inference']['images_per_s']:.1f} ({r['timm']['inference']['images_per_s']:.1f}) | "
              f"{r['inference_ratio']:.2f}x | {r['train_ratio_cpu']:.2f}x / {r['inference_ratio_cpu']:.2f}x | "
              f"{r['pipeline_over_train']:.0f}x |" for r in rows]
    _common.write_result("bench_throughput", {"threads": 2, "precision": "float32", "rows": rows,
                                              "figure": "images/s, vitlab / timm", "baseline": "timm on PyTorch",
                                              "table": "\n".join(table)},
                         summary)


if __name__ == "__main__":
    main()

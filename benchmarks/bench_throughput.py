"""Training and inference images/s: vitlab (Keras) against timm (PyTorch).

Same architecture, batch, precision (float32) and threads (2) on both sides, measured in
the same run; timm runs in benchmarks/.venv-timm. Each vitlab variant runs in its own
process, since TensorFlow fixes threads and oneDNN at start: xla / graph (TensorFlow with
or without jit_compile), graph_no_onednn, and jax (Keras on JAX on CPU, always jitted).
The headline is vitlab's own default paths: training as the trainer compiles the model
(vitlab.training.trainer.use_xla: XLA for ViTs, graph for ResNets), inference as the
experiments run it (tf.function graphs, no XLA). Also measures the input pipeline alone
(it must outpace training by >= 3x). TUNING variants (thread, XLA and oneDNN settings)
run only when named in --variants.

    .venv/bin/python benchmarks/bench_throughput.py [--quick] [--models a,b] [--variants xla,graph,jax]
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
VARIANTS = {  # name: how the worker runs (Keras backend, jit_compile, extra environment)
    "xla": {"jit": True},
    "graph": {"jit": False},
    "graph_no_onednn": {"jit": False, "env": {"TF_ENABLE_ONEDNN_OPTS": "0"}},
    "jax": {"backend": "jax", "jit": True, "env": {"JAX_PLATFORMS": "cpu"}},
}
TUNING = {  # TensorFlow settings tried on deit_tiny; not in the default set
    # TensorFlow's own thread defaults (intra = inter = cores), what vitlab runs with, vs. inter_op 1 here
    "xla_tf_threads": {"jit": True, "env": {"TF_NUM_INTRAOP_THREADS": "0", "TF_NUM_INTEROP_THREADS": "0"}},
    "graph_tf_threads": {"jit": False, "env": {"TF_NUM_INTRAOP_THREADS": "0", "TF_NUM_INTEROP_THREADS": "0"}},
    "xla_fast_math": {"jit": True, "env": {"XLA_FLAGS": "--xla_cpu_enable_fast_math=true"}},
    "xla_onednn": {"jit": True, "env": {"XLA_FLAGS": "--xla_cpu_use_onednn=true"}},
    "xla_xnnpack": {"jit": True, "env": {"XLA_FLAGS": "--xla_cpu_use_xnnpack=true"}},
    "xla_vector512": {"jit": True, "env": {"XLA_FLAGS": "--xla_cpu_prefer_vector_width=512"}},
    "xla_no_onednn": {"jit": True, "env": {"TF_ENABLE_ONEDNN_OPTS": "0"}},
}
EXPERIMENTS_DEFAULT = "graph"  # what the experiments and feature extraction run (tf.function)


def measure_vitlab(name, batch, variant, warmup, steps):
    """Runs in a fresh process (see worker): images/s for predict_on_batch and train_on_batch."""
    spec = {**VARIANTS, **TUNING}[variant]
    job = {"name": name, "batch": batch, "jit": spec["jit"], "warmup": warmup, "steps": steps}
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "1", "KERAS_BACKEND": spec.get("backend", "tensorflow"),
           **spec.get("env", {})}
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
    trainer_xla = None
    if keras.backend.backend() == "tensorflow":  # the choice vitlab's trainer makes for one replica
        from types import SimpleNamespace

        from vitlab.training.trainer import use_xla

        trainer_xla = bool(use_xla(model, SimpleNamespace(num_replicas_in_sync=1)))
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
    print(json.dumps({"params": models.parameter_count(model), "inference": inference, "train": train,
                      "compile_s": {"predict": first_predict, "train": first_train}, "trainer_xla": trainer_xla,
                      "backend": keras.backend.backend()}))


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
    parser.add_argument("--variants", default=None,
                        help=f"default {','.join(VARIANTS)} (--quick: xla,graph,jax); also: {','.join(TUNING)}")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(json.loads(args.worker))
    warmup, steps = (2, 5) if args.quick else (3, 15)
    args.variants = args.variants or ("xla,graph,jax" if args.quick else ",".join(VARIANTS))
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
    summary, table, notes = report(rows)
    _common.write_result("bench_throughput", {"threads": 2, "precision": "float32", "rows": rows,
                                              "figure": "images/s, vitlab / timm", "baseline": "timm on PyTorch",
                                              "headline": headline(rows), "notes": notes, "table": table},
                         summary)


def trainer_variant(rows, model):
    """The variant vitlab's trainer compiles `model` with (xla or graph), as its worker reported."""
    flags = [r["vitlab"]["trainer_xla"] for r in rows
             if r["model"] == model and r["vitlab"].get("trainer_xla") is not None]
    return None if not flags else ("xla" if flags[0] else "graph")


def headline(rows):
    """Per model: the train ratio of the trainer's variant and the inference ratio of the graph variant."""
    out = {}
    for model in dict.fromkeys(r["model"] for r in rows):
        by_variant = {r["variant"]: r for r in rows if r["model"] == model}
        train_variant = trainer_variant(rows, model)
        train, inference = by_variant.get(train_variant), by_variant.get(EXPERIMENTS_DEFAULT)
        out[model] = {"train_variant": train_variant, "inference_variant": EXPERIMENTS_DEFAULT,
                      "train_ratio": train and train["train_ratio"],
                      "inference_ratio": inference and inference["inference_ratio"]}
    return out


def report(rows):
    """One-line summary (vitlab's default paths), the markdown table (every variant) and notes."""
    heads = headline(rows)

    def ratio(value):
        return "n/a" if value is None else f"{value:.2f}x"

    summary = "vitlab default paths vs timm: " + "; ".join(
        f"{m}: train {ratio(h['train_ratio'])} ({h['train_variant'] or 'not run'}), "
        f"inference {ratio(h['inference_ratio'])} ({h['inference_variant']})" for m, h in heads.items())
    table = ["| model | batch | variant | vitlab default | train img/s (timm) | ratio | inference img/s (timm) | "
             "ratio | ratios per CPU-s (train / inf.) | pipeline / train |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        h = heads[r["model"]]
        default = [k for k, v in (("train", h["train_variant"]), ("inference", h["inference_variant"]))
                   if v == r["variant"]]
        table.append(f"| {r['model']} | {r['batch']} | {r['variant']} | {' + '.join(default) or '-'} | "
                     f"{r['vitlab']['train']['images_per_s']:.1f} ({r['timm']['train']['images_per_s']:.1f}) | "
                     f"{r['train_ratio']:.2f}x | {r['vitlab']['inference']['images_per_s']:.1f} "
                     f"({r['timm']['inference']['images_per_s']:.1f}) | {r['inference_ratio']:.2f}x | "
                     f"{r['train_ratio_cpu']:.2f}x / {r['inference_ratio_cpu']:.2f}x | {r['pipeline_over_train']:.0f}x |")
    notes = ["Ratios are vitlab images/s over timm images/s (median step, 2 threads, float32), timm measured in "
             "the same run. The summary line is vitlab's default paths: *train* is the variant the trainer "
             "compiles with (vitlab.training.trainer.use_xla: `xla` = Keras on TensorFlow with jit_compile=True, "
             "for ViTs on one replica; `graph` = tf.function without XLA, for ResNets); *inference* is `graph`, "
             "the tf.function path of the experiments and feature extraction (no XLA). The `vitlab default` "
             "column marks those rows. Other rows are alternatives: `graph_no_onednn` (TF_ENABLE_ONEDNN_OPTS=0) "
             "and `jax` (KERAS_BACKEND=jax on CPU, always jitted)."]
    for r in rows:
        if r["variant"] != "jax":
            continue
        h = heads[r["model"]]
        for kind in ("train", "inference"):
            default = h[f"{kind}_ratio"]
            if default is not None:
                verdict = "faster than" if r[f"{kind}_ratio"] > default * 1.05 else (
                    "slower than" if r[f"{kind}_ratio"] < default / 1.05 else "within 5% of")
                notes.append(f"{r['model']} {kind} on JAX: {r[f'{kind}_ratio']:.2f}x timm, {verdict} "
                             f"vitlab's default ({default:.2f}x, {h[f'{kind}_variant']}).")
    return summary, "\n".join(table), "\n".join(f"- {n}" if i else n for i, n in enumerate(notes))


if __name__ == "__main__":
    main()

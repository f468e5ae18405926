"""Training and inference throughput: vitlab (Keras) against timm (PyTorch), side by side.

Same architecture, batch, precision (float32) and threads (2) on both sides. Each side is one
long-lived process per model (TensorFlow fixes threads and oneDNN at start; timm runs in
benchmarks/.venv-timm); after both are warm the parent asks them for rounds in turn,
alternating which goes first, so load from other work on a shared machine falls on both
alike. A ratio is vitlab over timm within one round; the figure is the median over rounds,
per wall-clock second and per CPU-second (the process's CPU time: robust to other load).

vitlab runs its own paths (benchmarks/_vitlab_worker.py): training is the trainer's step
(vitlab.training.trainer.TrainingModel with AdamW, compiled as plan.train_step compiles it:
trainer.use_xla picks XLA for the 64-px nano ViT, graphs for DeiT at 224 and for ResNets),
inference the experiments' compiled forward (vitlab.perturb.compiled.compile_logits: a
tf.function graph). timm runs timm's train.py
step (AdamW from create_optimizer_v2, cross-entropy) and an eval forward under no_grad.
Other vitlab settings (VARIANTS) join the same rounds when named in --variants.

    .venv/bin/python benchmarks/bench_throughput.py [--quick] [--models a,b] [--variants default,train_graph]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _common  # noqa: E402

CONFIGS = {  # the default models: name -> batch size
    "deit_tiny_patch16_224": 32,
    "deit_small_patch16_224": 32,
    "vit_nano_patch8_64": 64,  # the study's models (objects64), at their recipes' batch
    "resnet_nano_64": 64,
}
# Other models' batch (32 for the rest): the 32-px ones at their recipes' 128, which keeps
# `--quick --models vit_nano_patch4_32 --variants xla` the day's machine-speed figure it has
# been (README, CHANGELOG: vitlab's training images/s, wall-clock).
OTHER_BATCHES = {"vit_nano_patch4_32": 128, "resnet_nano_32": 128}


def batch_of(name):
    return CONFIGS.get(name) or OTHER_BATCHES.get(name, 32)


VARIANTS = {  # name: how a vitlab worker runs (Keras backend, compilation, precision, extra environment)
    "default": {},  # the trainer's step and the experiments' forward, as vitlab runs them
    "train_graph": {"train_jit": False},  # training without XLA
    "train_xla": {"train_jit": True},
    "xla": {"train_jit": True},  # the earlier names of the same two
    "graph": {"train_jit": False},
    "inference_xla": {"inference_xla": True},  # compile_logits(xla=True), as feature extraction compiles ViTs
    "mixed_bfloat16": {"precision": "mixed_bfloat16"},  # the recipes' precision option; not timm's float32
    "no_onednn": {"env": {"TF_ENABLE_ONEDNN_OPTS": "0"}},
    "jax": {"backend": "jax", "env": {"JAX_PLATFORMS": "cpu"}},
}
TUNING = {  # TensorFlow settings for benchmarks/tune_tf.py (measure_vitlab); not in --variants' default
    # TensorFlow's own thread defaults (intra = inter = cores), what vitlab runs with, vs. inter_op 1 here
    "xla_tf_threads": {"train_jit": True, "env": {"TF_NUM_INTRAOP_THREADS": "0", "TF_NUM_INTEROP_THREADS": "0"}},
    "graph_tf_threads": {"train_jit": False, "env": {"TF_NUM_INTRAOP_THREADS": "0", "TF_NUM_INTEROP_THREADS": "0"}},
    "xla_fast_math": {"train_jit": True, "env": {"XLA_FLAGS": "--xla_cpu_enable_fast_math=true"}},
    "xla_onednn": {"train_jit": True, "env": {"XLA_FLAGS": "--xla_cpu_use_onednn=true"}},
    "xla_xnnpack": {"train_jit": True, "env": {"XLA_FLAGS": "--xla_cpu_use_xnnpack=true"}},
    "xla_vector512": {"train_jit": True, "env": {"XLA_FLAGS": "--xla_cpu_prefer_vector_width=512"}},
    "xla_no_onednn": {"train_jit": True, "env": {"TF_ENABLE_ONEDNN_OPTS": "0"}},
}
KINDS = ("train", "inference")
# PyTorch's OpenMP threads spin at each barrier by default; when other work shares the cores, a
# descheduled thread stalls the rest: on a 2-core machine at load 7, vit_nano_patch8_64 trained at
# 30-43 images per CPU-s with the default policy and 208-211 with OMP_WAIT_POLICY=PASSIVE,
# alternating in one run (inference 116-259 vs 707-786). Passive is timm's better setting there;
# "default" (torch's own) can be named with --timm-wait on a quiet machine.
TIMM_WAIT = "passive"


class Side:
    """One worker process answering one JSON line per request (see `serve`)."""

    def __init__(self, name, process, log):
        self.name, self.process, self.log = name, process, Path(log)  # log: its stderr (a pipe could fill up)
        self.ready = None

    def ask(self, request=None):
        if request is not None:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=30)
            raise RuntimeError(
                f"{self.name} worker ended (exit {self.process.returncode}):\n"
                f"{self.log.read_text(errors='replace')[-3000:]}"
            )
        return json.loads(line)

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_vitlab(name, batch, variant, workdir):
    spec = {**VARIANTS, **TUNING}[variant]
    job = {
        "name": name,
        "batch": batch,
        "train_jit": spec.get("train_jit"),
        "inference_xla": spec.get("inference_xla", False),
        "precision": spec.get("precision", "float32"),
    }
    env = {
        **os.environ,
        "TF_ENABLE_ONEDNN_OPTS": "1",
        "KERAS_BACKEND": spec.get("backend", "tensorflow"),
        **spec.get("env", {}),
    }
    log = Path(workdir) / f"{name}-{variant}.log"
    with open(log, "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(HERE / "_vitlab_worker.py"), json.dumps(job)],
            env=env,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    return Side(f"vitlab {variant}", process, log)


def measure_vitlab(name, batch, variant, warmup, steps):
    """One vitlab worker alone, for benchmarks/tune_tf.py: {"train"|"inference": {"images_per_s", ...}}."""
    with tempfile.TemporaryDirectory() as tmp:
        side = start_vitlab(name, batch, variant, tmp)
        try:
            side.ready = side.ask()
            out = {"params": side.ready["params"]}
            for kind in KINDS:
                if warmup:
                    side.ask({"kind": kind, "steps": warmup})
                out[kind] = side.ask({"kind": kind, "steps": steps})
        finally:
            side.close()
    return out


def timm_job(name, batch):
    """The job for timm_reference.py serve: timm's own model, or timm's classes built to the registry's sizes."""
    from vitlab import models

    spec = models.get_spec(name)
    kw = spec.kwargs
    job = {"timm_name": spec.timm_name or name, "num_classes": 10, "batch_size": batch, "image_size": spec.image_size}
    if not spec.timm_name:
        job["timm_name"] = "vit" if spec.family == "vit" else "resnet"
        if spec.family == "vit":
            job["arch"] = {
                "patch_size": kw["patch_size"],
                "embed_dim": kw["hidden_dim"],
                "depth": kw["depth"],
                "num_heads": kw["num_heads"],
                "mlp_ratio": kw.get("mlp_ratio", 4.0),
                "distilled": kw.get("distilled", False),
            }
            if kw.get("global_pool") == "avg":
                job["arch"].update(class_token=False, global_pool="avg", fc_norm=False)
            if kw.get("pos_embed") is False:
                job["arch"]["pos_embed"] = "none"
        else:
            job["arch"] = {
                "layers": list(kw["stage_depths"]),
                "base_width": kw["base_width"],
                "stem": kw.get("stem", "imagenet"),
                "patch_size": kw.get("patch_size"),
                "stage_strides": list(kw.get("stage_strides") or ()),
            }
    return job


def start_timm(name, batch, workdir, wait=TIMM_WAIT):
    """timm's worker; `wait` is OpenMP's wait policy for PyTorch's threads (see TIMM_WAIT)."""
    import _timm

    log = Path(workdir) / f"{name}-timm-{wait}.log"
    env = {"OMP_WAIT_POLICY": wait.upper()} if wait != "default" else {}
    with open(log, "w") as stderr:
        process = _timm.start(
            "serve", timm_job(name, batch), Path(workdir) / f"{name}-{wait}.json", stderr=stderr, env=env
        )
    side = Side("timm", process, log)
    side.wait = wait
    return side


# --- the parent ----------------------------------------------------------------------------
def steps_per_round(sides, kind, seconds):
    """Steps that make a round about `seconds` long on the slowest side (one warm-up step each)."""
    slowest = max(side.ask({"kind": kind, "steps": 1})["step_s"][0] for side in sides)
    return max(1, min(20, round(seconds / slowest)))


def start_sides(name, batch, variants, workdir, timm_wait=TIMM_WAIT):
    """timm's worker and one vitlab worker per variant; they build and compile as soon as started."""
    return [start_timm(name, batch, workdir, timm_wait)] + [start_vitlab(name, batch, v, workdir) for v in variants]


def measure_model(name, batch, variants, rounds, seconds, sides):
    """Alternating rounds of every side; per variant and kind the median of per-round ratios."""
    timm_wait = sides[0].wait
    try:
        for side in sides:
            side.ready = side.ready or side.ask()
        timm, ours = sides[0], sides[1:]
        load = [os.getloadavg()[0]]
        rounds_of = {side.name: {kind: [] for kind in KINDS} for side in sides}
        for kind in KINDS:
            steps = steps_per_round(sides, kind, seconds)
            for index in range(rounds):
                order = sides if index % 2 == 0 else sides[::-1]
                for side in order:
                    rounds_of[side.name][kind].append(side.ask({"kind": kind, "steps": steps}))
                load.append(os.getloadavg()[0])
    finally:
        for side in sides:
            side.close()
    rows = []
    for variant, side in zip(variants, ours):
        if side.ready["params"] != timm.ready["params"]:
            raise RuntimeError(
                f"{name}: not the same architecture ({side.ready['params']} vs {timm.ready['params']} params)"
            )
        row = {
            "model": name,
            "batch": batch,
            "variant": variant,
            "params": side.ready["params"],
            "train_xla": side.ready["train_xla"],
            "compile_s": side.ready["compile_s"],
            "backend": side.ready["backend"],
            "load_1min": [round(v, 2) for v in load],
            "timm_versions": {k: timm.ready[k] for k in ("torch", "timm", "threads")},
            "timm_wait": timm_wait,
        }
        for kind in KINDS:
            mine, theirs = rounds_of[side.name][kind], rounds_of[timm.name][kind]
            for unit in ("images_per_s", "images_per_cpu_s"):
                ratios = [a[unit] / b[unit] for a, b in zip(mine, theirs)]
                suffix = "" if unit == "images_per_s" else "_cpu"
                row[f"{kind}_ratio{suffix}"] = statistics.median(ratios)
                row[f"{kind}_ratios{suffix}"] = [round(r, 3) for r in ratios]
                row[f"{kind}_vitlab{suffix}"] = statistics.median(r[unit] for r in mine)
                row[f"{kind}_timm{suffix}"] = statistics.median(r[unit] for r in theirs)
        rows.append(row)
        print(
            f"{name} b{batch} {variant}: vitlab trains {row['train_vitlab']:.1f} img/s; train {row['train_ratio_cpu']:.2f}x per CPU-s "
            f"({row['train_vitlab_cpu']:.1f} vs timm {row['train_timm_cpu']:.1f}), {row['train_ratio']:.2f}x wall; "
            f"inference {row['inference_ratio_cpu']:.2f}x per CPU-s ({row['inference_vitlab_cpu']:.1f} vs "
            f"{row['inference_timm_cpu']:.1f}), {row['inference_ratio']:.2f}x wall; load {max(load):.1f}",
            flush=True,
        )
    return rows


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
    return batch * batches / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds (the make bench setting)")
    parser.add_argument("--models", default=",".join(CONFIGS))
    parser.add_argument("--variants", default="default", help=f"vitlab settings, of {', '.join(VARIANTS)}")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per kind (default 3, --quick 3)")
    parser.add_argument("--pipeline", action="store_true", help="also time the input pipeline against training")
    parser.add_argument(
        "--timm-wait",
        default=TIMM_WAIT,
        choices=("passive", "active", "default"),
        help="OpenMP wait policy of timm's PyTorch threads (default passive: see TIMM_WAIT)",
    )
    args = parser.parse_args(argv)
    variants = args.variants.split(",")
    unknown = [v for v in variants if v not in {**VARIANTS, **TUNING}]
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; known: {', '.join([*VARIANTS, *TUNING])}")
    rounds = args.rounds or 3
    seconds = 1.0 if args.quick else 6.0
    rows = []
    names = args.models.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        # every model's workers start at once: their builds and compiles (XLA's is mostly one
        # thread) overlap; measuring, one model at a time, begins when all of them are ready
        started = {name: start_sides(name, batch_of(name), variants, tmp, args.timm_wait) for name in names}
        try:
            for side in (side for sides in started.values() for side in sides):
                side.ready = side.ask()
            for name in names:
                batch = batch_of(name)
                model_rows = measure_model(name, batch, variants, rounds, seconds, started.pop(name))
                if args.pipeline:
                    pipeline = measure_pipeline(name, batch, 10 if args.quick else 30)
                    for row in model_rows:
                        row["pipeline_images_per_s"] = pipeline
                        row["pipeline_over_train"] = pipeline / row["train_vitlab"]
                rows += model_rows
        finally:
            for sides in started.values():  # not measured: a failure stopped the run
                for side in sides:
                    side.close()
    summary, table = report(rows)
    _common.write_result(
        "bench_throughput",
        {
            "threads": 2,
            "precision": "float32",
            "rounds": rounds,
            "rows": rows,
            "figure": "images per CPU-second, vitlab / timm (median of rounds)",
            "baseline": "timm on PyTorch, alternating rounds",
            "notes": NOTES,
            "table": table,
        },
        summary,
    )


NOTES = (
    "Ratios are vitlab over timm within each round (the two sides alternate, the order flipping every "
    "round), the median over rounds; per CPU-second counts each process's own CPU time, so it holds under "
    "other load, per wall-clock second is how long a batch takes. vitlab trains with the trainer's step "
    "(AdamW; XLA for ViTs of up to 128 tokens, graphs for DeiT at 224 and ResNets) and infers with the "
    "experiments' compiled forward (a tf.function graph); timm trains with AdamW and infers under no_grad, "
    "its OpenMP threads waiting passively (OMP_WAIT_POLICY=PASSIVE, its faster setting on a loaded machine). "
    "2 threads, float32 both."
)


def report(rows):
    """One-line summary of the default variant and the markdown table of every row."""
    default = [r for r in rows if r["variant"] == "default"] or rows
    summary = "vitlab / timm per CPU-s (wall): " + "; ".join(
        f"{r['model']} train {r['train_ratio_cpu']:.2f}x ({r['train_ratio']:.2f}x), inference "
        f"{r['inference_ratio_cpu']:.2f}x ({r['inference_ratio']:.2f}x)"
        for r in default
    )
    table = [
        "| model | batch | variant | train img/CPU-s vitlab (timm) | ratio | wall ratio | "
        "inference img/CPU-s vitlab (timm) | ratio | wall ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        table.append(
            f"| {r['model']} | {r['batch']} | {r['variant']}{' (XLA)' if r['train_xla'] else ''} | "
            f"{r['train_vitlab_cpu']:.1f} ({r['train_timm_cpu']:.1f}) | {r['train_ratio_cpu']:.2f}x | "
            f"{r['train_ratio']:.2f}x | {r['inference_vitlab_cpu']:.1f} ({r['inference_timm_cpu']:.1f}) | "
            f"{r['inference_ratio_cpu']:.2f}x | {r['inference_ratio']:.2f}x |"
        )
    return summary, "\n".join(table)


if __name__ == "__main__":
    main()

"""The vitlab side of bench_throughput.py: one model's training step and forward, served in rounds.

Started by bench_throughput.py with a JSON job (model, batch, compilation, precision); builds
the trainer's step (vitlab.training.trainer.TrainingModel and its AdamW, compiled as
plan.train_step compiles it unless the job says otherwise) and the experiments' compiled
forward (vitlab.perturb.compiled.compile_logits), runs each once, prints a ready line, then
answers each stdin line {"kind": "train"|"inference", "steps": n} with that round's figures:
the protocol benchmarks/timm_reference.py `serve` speaks for timm.

    .venv/bin/python benchmarks/_vitlab_worker.py '{"name": "vit_test", "batch": 8, ...}'
"""

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402


def worker(job):
    """Builds vitlab's training step and forward for one model, then serves rounds."""
    _common.limit_threads(2)
    from types import SimpleNamespace

    import keras
    import numpy as np

    from vitlab import models
    from vitlab.perturb import compiled
    from vitlab.training import trainer
    from vitlab.training.recipe_sections import OptimSection

    keras.utils.set_random_seed(0)
    keras.mixed_precision.set_global_policy(job["precision"])
    model = models.create(job["name"], num_classes=10)
    jit = job["train_jit"]
    if jit is None:  # the choice plan.train_step makes on one replica
        jit = bool(trainer.use_xla(model, SimpleNamespace(num_replicas_in_sync=1)))
    training = trainer.TrainingModel(model)
    training.compile(optimizer=trainer.optimizer(OptimSection(), steps_per_epoch=100), jit_compile=jit)
    forward = compiled.compile_logits(lambda images: model(images, training=False), xla=job["inference_xla"])
    size, batch = model.image_size, job["batch"]
    rng = np.random.default_rng(0)
    x = rng.random((batch, size, size, 3), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch)]  # the trainer's targets are one-hot or soft
    steps = {"train": lambda: training.train_on_batch(x, y), "inference": lambda: forward(x)}
    compile_s = {}
    for kind, step in steps.items():
        start = time.perf_counter()
        step()
        compile_s[kind] = time.perf_counter() - start
    serve(
        steps,
        batch,
        {
            "params": models.parameter_count(model),
            "train_xla": jit,
            "compile_s": compile_s,
            "backend": keras.backend.backend(),
        },
    )


def serve(steps, batch, ready):
    """The protocol timm_reference.py serve speaks too: a ready line, then one line per request."""
    print(json.dumps({"ready": True, **ready}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        step = steps[request["kind"]]
        times = []
        cpu = time.process_time()
        for _ in range(request["steps"]):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        cpu = time.process_time() - cpu
        print(
            json.dumps(
                {
                    "images_per_s": batch / statistics.median(times),
                    "images_per_cpu_s": batch * request["steps"] / cpu,
                    "step_s": times,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    worker(json.loads(sys.argv[1]))

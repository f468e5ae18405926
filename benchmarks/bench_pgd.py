"""Cost of a PGD step against one forward + backward pass, and of a PGD-10 attack.

The step (gradient, sign, projection) is one tf.function, so a step should cost one
forward+backward pass and an 8/255 PGD-10 evaluation about 11 passes (10 gradients and the
final forward). Both sides are compiled and timed in the same run, after a warm-up.

    .venv/bin/python benchmarks/bench_pgd.py [--model deit_nano_distilled_patch4_32] [--batch 32]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import argparse  # noqa: E402
import time  # noqa: E402

from _common import limit_threads, write_result  # noqa: E402


def _interleaved_best(fns, repeats):
    """Best time of each function, calls interleaved so that a busy neighbour hits all alike."""
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for index, fn in enumerate(fns):
            started = time.perf_counter()
            fn()
            best[index] = min(best[index], time.perf_counter() - started)
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="deit_nano_distilled_patch4_32")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=12)
    args = parser.parse_args()
    limit_threads(2)
    import numpy as np
    import tensorflow as tf

    from vitlab.experiments.corruption import head_logits
    from vitlab.experiments.runner import resolve_model
    from vitlab.perturb import adversarial as lib

    adapter = resolve_model(args.model, num_classes=10)
    logits_fn = head_logits(adapter, "average")
    images = np.random.default_rng(0).random((args.batch, adapter.image_size, adapter.image_size, 3), dtype=np.float32)
    labels = np.arange(args.batch, dtype=np.int32) % 10

    @tf.function(reduce_retracing=True)
    def forward_backward(x, y):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = lib._loss(logits_fn, x, y)
        return tape.gradient(loss, x)

    predict = lib.compile_logits(logits_fn)
    step = lib.compile_step(logits_fn, "linf")
    eps = np.float32(8 / 255)
    x, y = tf.constant(images), tf.constant(labels)

    def one_grad():
        forward_backward(x, y).numpy()

    def one_step():
        np.asarray(step(x, x, y, eps, np.float32(2 / 255), np.float32(1.0)))

    def pgd10():
        adv = lib.pgd(step, images, labels, float(eps), "linf", steps=10, noise=np.zeros_like(images))
        predict(adv)

    def ten_grads_and_forward():  # the ideal PGD-10 evaluation: 10 gradients + 1 forward, no attack code
        for _ in range(10):
            forward_backward(x, y).numpy()
        predict(images)

    for fn in (one_grad, one_step, pgd10, lambda: predict(images)):
        fn()  # trace and warm up
    grad_s, step_s, forward_s = _interleaved_best([one_grad, one_step, lambda: predict(images)], args.repeats)
    ideal_s, pgd_s = _interleaved_best([ten_grads_and_forward, pgd10], max(3, args.repeats // 2))
    payload = {
        "model": args.model,
        "batch": args.batch,
        "threads": 2,
        "seconds": {
            "forward_backward": grad_s,
            "pgd_step": step_s,
            "forward": forward_s,
            "pgd10_attack": pgd_s,
            "ten_forward_backward_plus_forward": ideal_s,
        },
        "step_over_forward_backward": step_s / grad_s,
        "pgd10_in_forward_backward_passes": pgd_s / grad_s,
        "pgd10_over_ideal_11_passes": pgd_s / ideal_s,
        "loadavg": os.getloadavg(),
    }
    summary = (
        f"{args.model} batch {args.batch}: PGD step = {step_s / grad_s:.2f}x one forward+backward "
        f"({1000 * step_s:.1f} vs {1000 * grad_s:.1f} ms); PGD-10 + eval = {pgd_s / ideal_s:.2f}x the time of "
        f"10 forward+backward + 1 forward passes"
    )
    write_result("bench_pgd", payload, summary)


if __name__ == "__main__":
    main()

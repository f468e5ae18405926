"""DeiT-S/16 at 224 on a GPU: Keras on JAX (bf16) against timm on PyTorch (bf16), and the
PatchDrop sweep per level against a forward pass, in one run.

Both sides keep the data resident on the device and time steady-state steps; training is
AdamW with cross-entropy. Keras runs its JAX backend two ways: `train_on_batch` (the
stock trainer) and a jitted stateless step (`stateless_call` + `optimizer.stateless_apply`,
buffers donated). timm runs eager and, where asked, torch.compile'd. Model FLOP
utilization (MFU) = analytic model FLOPs x images/s / the device's dense bf16 peak.
The occlusion part runs benchmarks/bench_occlusion.py's measurement on the same model
(jax.jit'ed sweep, random and salient modes): cost per level over a jitted forward pass.

On the device machine (JAX, torch, timm; no TensorFlow; carry a keras wheel and its
missing deps, e.g. keras, namex, optree, as in the device README):
    python3 benchmarks/gpu_deit.py --out-dir $OUT
CPU smoke test (tiny sizes, here; timm is skipped when the given python lacks it):
    .venv/bin/python benchmarks/gpu_deit.py --cpu-smoke [--timm-python benchmarks/.venv-timm/bin/python]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ["KERAS_BACKEND"] = "jax"
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # vitlab from the tree (not installed there)

PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L4": 121e12}  # dense, per GPU


def vit_flops(image_size, patch, dim, depth, classes, prefix=1, mlp_ratio=4.0):
    """Forward FLOPs per image (2 per multiply-add): patch embed, blocks, head."""
    tokens = (image_size // patch) ** 2 + prefix
    embed = 2 * (image_size // patch) ** 2 * 3 * patch * patch * dim
    per_block = 2 * tokens * dim * dim * (4 + 2 * mlp_ratio) + 4 * tokens * tokens * dim
    return embed + depth * per_block + 2 * dim * classes * prefix


def peak_flops(device_kind):
    return next((peak for key, peak in PEAK_BF16.items() if key in device_kind), None)


def timed(step, warmup, steps, sync):
    for _ in range(warmup):
        sync(step())
    start = time.perf_counter()
    for _ in range(steps):
        out = step()
    sync(out)
    return (time.perf_counter() - start) / steps


def keras_side(args):
    import jax
    import keras
    import numpy as np

    from vitlab import models

    keras.mixed_precision.set_global_policy(args.policy)
    model = models.create(args.model, num_classes=1000)
    optimizer = keras.optimizers.AdamW(1e-3, weight_decay=0.05)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=optimizer, loss=loss_fn, jit_compile=True)
    size = model.image_size
    rng = np.random.default_rng(0)
    x = jax.device_put(rng.random((args.batch, size, size, 3), dtype=np.float32))
    y = jax.device_put(rng.integers(0, 1000, args.batch).astype("int32"))
    sync = lambda out: jax.block_until_ready(out)  # noqa: E731
    result = {"device": jax.devices()[0].device_kind, "jax": jax.__version__, "keras": keras.__version__}
    result["inference_s"] = timed(lambda: model.predict_on_batch(x), args.warmup, args.steps, sync)
    result["train_on_batch_s"] = timed(lambda: model.train_on_batch(x, y), args.warmup, args.steps, sync)

    optimizer.build(model.trainable_variables)

    def train_step(state, images, labels):
        trainable, non_trainable, opt_vars = state

        def loss_of(trainable_values):
            logits, new_non_trainable = model.stateless_call(trainable_values, non_trainable, images, training=True)
            return loss_fn(labels, logits), new_non_trainable

        (loss, non_trainable), grads = jax.value_and_grad(loss_of, has_aux=True)(trainable)
        trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
        return loss, (trainable, non_trainable, opt_vars)

    step = jax.jit(train_step, donate_argnums=0)
    state = (
        [v.value for v in model.trainable_variables],
        [v.value for v in model.non_trainable_variables],
        [v.value for v in optimizer.variables],
    )
    holder = {"state": state}

    def run_step():
        loss, holder["state"] = step(holder["state"], x, y)
        return loss

    result["train_stateless_s"] = timed(run_step, args.warmup, args.steps, sync)
    return result


def occlusion_side(args):
    """Sweep seconds per level vs a bare jitted forward pass, per mode (bench_occlusion.bench_mode)."""
    import jax
    import numpy as np
    from bench_occlusion import bench_mode

    from vitlab import models
    from vitlab.models.adapter import ModelAdapter

    adapter = ModelAdapter(models.create(args.model, num_classes=1000), name=args.model)
    size = adapter.image_size
    batch = args.occlusion_batch
    rng = np.random.default_rng(0)
    images = rng.random((batch, size, size, 3), dtype=np.float32)
    labels = rng.integers(0, 1000, batch).astype("int32")
    modes = [
        bench_mode(adapter, mode, images, labels, np.arange(batch), rounds=args.occlusion_rounds)
        for mode in ("random", "salient")
    ]
    return {"device": jax.devices()[0].device_kind, "batch": batch, "modes": modes}


def timm_available(python):
    return subprocess.run([python, "-c", "import timm, torch"], capture_output=True).returncode == 0


def timm_side(args):
    import timm
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    model = timm.create_model(args.timm_name, pretrained=False, **args.timm_kwargs).to(device)
    size = args.image_size
    x = torch.rand(args.batch, 3, size, size, device=device)
    y = torch.randint(0, 1000, (args.batch,), device=device)
    sync = (lambda _: torch.cuda.synchronize()) if device == "cuda" else (lambda _: None)
    autocast = lambda: torch.autocast(device, dtype=torch.bfloat16)  # noqa: E731
    result = {
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "torch": torch.__version__,
        "timm": timm.__version__,
    }
    variants = {"eager": model}
    if args.torch_compile:
        variants["compiled"] = torch.compile(model)
    for label, net in variants.items():
        net.eval()
        with torch.no_grad(), autocast():
            result[f"inference_{label}_s"] = timed(lambda: net(x), args.warmup, args.steps, sync)
        net.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)

        def train_step():
            optimizer.zero_grad(set_to_none=True)
            with autocast():
                loss = torch.nn.functional.cross_entropy(net(x), y)
            loss.backward()
            optimizer.step()
            return loss

        result[f"train_{label}_s"] = timed(train_step, args.warmup, args.steps, sync)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--policy", default="mixed_bfloat16")
    parser.add_argument(
        "--tiny",
        "--cpu-smoke",
        dest="tiny",
        action="store_true",
        help="CPU smoke test: 2-block ViT at 32px, batch 8 (timm skipped if not installed)",
    )
    parser.add_argument("--occlusion-batch", type=int, default=64)
    parser.add_argument("--occlusion-rounds", type=int, default=3)
    parser.add_argument("--no-torch-compile", dest="torch_compile", action="store_false")
    parser.add_argument("--timm-python", default=sys.executable, help="python with torch + timm")
    parser.add_argument("--side", choices=["both", "keras", "timm"], default="both")
    parser.add_argument("--out-dir", default=None, help="also copy the JSON here (e.g. $OUT)")
    args = parser.parse_args(argv)
    if args.tiny:
        args.model, args.batch, args.steps, args.warmup, args.torch_compile = "vit_test", 8, 2, 1, False
        args.occlusion_batch, args.occlusion_rounds = 8, 1
    else:
        args.model = "deit_small_patch16_224"
    if args.side == "timm":
        config = json.loads(os.environ["GPU_DEIT_TIMM"])
        vars(args).update(config)
        print("TIMM " + json.dumps(timm_side(args)))
        return
    from vitlab import models

    kw = models.get_spec(args.model).kwargs
    timm_config = {
        "timm_name": "vit_small_patch16_224" if not args.tiny else "vit_tiny_patch16_224",
        "timm_kwargs": {"num_classes": 1000}
        if not args.tiny
        else {
            "img_size": 32,
            "patch_size": kw["patch_size"],
            "embed_dim": kw["hidden_dim"],
            "depth": kw["depth"],
            "num_heads": kw["num_heads"],
            "mlp_ratio": kw["mlp_ratio"],
            "num_classes": 1000,
        },
        "image_size": kw["image_size"],
        "batch": args.batch,
        "steps": args.steps,
        "warmup": args.warmup,
        "torch_compile": args.torch_compile,
    }
    if not args.tiny:  # DeiT-S/16 is timm's vit_small_patch16_224 architecture with ImageNet stats
        timm_config["timm_name"] = "deit_small_patch16_224"
    ours = keras_side(args)
    ours["occlusion"] = occlusion_side(args)
    theirs = None
    if args.side == "both" and args.tiny and not timm_available(args.timm_python):
        print(f"timm side skipped: {args.timm_python} has no torch/timm (smoke test)")
    elif args.side == "both":
        done = subprocess.run(
            [args.timm_python, __file__, "--side", "timm"],
            capture_output=True,
            text=True,
            env={**os.environ, "GPU_DEIT_TIMM": json.dumps(timm_config)},
        )
        if done.returncode:
            sys.stderr.write(done.stderr[-3000:])
            raise RuntimeError("timm side failed")
        theirs = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("TIMM "))[5:])
    report(args, kw, ours, theirs)


def report(args, kw, ours, theirs):
    import _common

    flops = vit_flops(
        kw["image_size"], kw["patch_size"], kw["hidden_dim"], kw["depth"], 1000, mlp_ratio=kw.get("mlp_ratio", 4.0)
    )
    peak = peak_flops(ours["device"])
    rates = {f"keras_{k[:-2]}": args.batch / v for k, v in ours.items() if k.endswith("_s")}
    occlusion = {
        m["mode"]: {
            "sweep_per_level_s": m["sweep_per_level_s"],
            "bare_forward_s": m["bare_forward_s"],
            "ratio": m["ratio"],
        }
        for m in ours["occlusion"]["modes"]
    }
    if theirs:
        rates.update({f"timm_{k[:-2]}": args.batch / v for k, v in theirs.items() if k.endswith("_s")})
    mfu = {k: rate * flops * (3 if "train" in k else 1) / peak for k, rate in rates.items()} if peak else {}
    best_keras = max(v for k, v in rates.items() if k.startswith("keras_train"))
    best_timm = max((v for k, v in rates.items() if k.startswith("timm_train")), default=None)
    ratio = best_keras / best_timm if best_timm else None
    summary = (
        f"{args.model} b{args.batch} {args.policy} on {ours['device']}: keras train {best_keras:.0f} img/s"
        + (f", timm {best_timm:.0f} img/s ({ratio:.2f}x)" if ratio else "")
        + (f", MFU {max(v for k, v in mfu.items() if k.startswith('keras_train')):.1%}" if mfu else "")
        + "; occlusion per level / forward: "
        + ", ".join(f"{mode} {o['ratio']:.2f}" for mode, o in occlusion.items())
    )
    lines = ["| path | images/s | MFU |", "|---|---|---|"]
    lines += [f"| {k} | {v:.1f} | {mfu[k]:.1%} |" if k in mfu else f"| {k} | {v:.1f} | - |" for k, v in rates.items()]
    name = "gpu_deit" + ("_tiny" if args.tiny else "")
    path = _common.write_result(
        name,
        {
            "model": args.model,
            "batch": args.batch,
            "policy": args.policy,
            "flops_per_image_forward": flops,
            "peak_flops": peak,
            "keras": ours,
            "timm": theirs,
            "images_per_s": rates,
            "mfu": mfu,
            "train_ratio": ratio,
            "occlusion": occlusion,
            "table": "\n".join(lines),
        },
        summary,
    )
    print("\n".join(lines))
    if args.out_dir:
        Path(args.out_dir, path.name).write_text(path.read_text())


if __name__ == "__main__":
    main()

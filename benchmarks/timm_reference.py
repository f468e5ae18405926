"""The timm side of `make parity` and the throughput benchmark; runs in benchmarks/.venv-timm.

Imports only torch, timm, numpy and safetensors (vitlab is not installed there). Called by
benchmarks/_timm.py with a JSON job file; writes its answers next to it.

    parity JOB.json      seeded weights -> OUT.safetensors, reference outputs -> OUT.npz
    serve JOB.json       train/inference rounds for bench_throughput, over stdin/stdout
"""

import json
import sys
import time

import numpy as np
import timm
import torch


def seeded_model(timm_name, seed, calibration=None):
    """timm's random init, perturbed so that no weight is trivial (ones, zeros, zero-init BN).

    BatchNorm running statistics are set from a calibration batch so activations stay in a
    sane range through deep networks (as trained statistics would).
    """
    torch.manual_seed(seed)
    model = timm.create_model(timm_name, pretrained=False)
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for parameter in model.parameters():
            scale = 0.1 if parameter.ndim == 1 else 0.02
            parameter.add_(torch.randn(parameter.shape, generator=generator) * scale)
        if calibration is not None:
            batch_norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
            for module in batch_norms:
                module.reset_running_stats()
                module.momentum = None  # cumulative average over the calibration batch
            if batch_norms:
                model.train()
                model(calibration)
    return model.eval()


def normalized(images, mean, std):
    x = (torch.from_numpy(images) - torch.tensor(mean)) / torch.tensor(std)
    return x.permute(0, 3, 1, 2).contiguous()


def parity(job):
    """Reference logits and per-block class tokens (per-stage maps for a ResNet)."""
    from safetensors.torch import save_file

    torch.set_num_threads(job.get("threads", 2))
    images = np.load(job["images"])
    x = normalized(images, job["mean"], job["std"])
    model = seeded_model(job["timm_name"], job["seed"], calibration=x)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    if job.get("dino_full"):  # DINO's training-checkpoint layout: backbone. prefix + projection head
        generator = torch.Generator().manual_seed(7)
        state = {f"backbone.{k}": v for k, v in state.items()}
        state.update(
            {
                "head.mlp.0.weight": torch.randn(2048, model.embed_dim, generator=generator),
                "head.last_layer.weight_g": torch.ones(65536, 1),
            }
        )
    save_file(state, job["weights"])
    if job.get("eval_image_size"):  # timm's own route for weights trained at another size
        resized = timm.create_model(job["timm_name"], pretrained=False, img_size=job["eval_image_size"])
        from timm.models.vision_transformer import checkpoint_filter_fn

        resized.load_state_dict(checkpoint_filter_fn(model.state_dict(), resized))
        model = resized.eval()
        x = normalized(np.load(job["eval_images"]), job["mean"], job["std"])
    captured = []
    is_vit = hasattr(model, "blocks")
    hooked = model.blocks if is_vit else [model.layer1, model.layer2, model.layer3, model.layer4]
    for module in hooked:
        module.register_forward_hook(lambda _m, _i, out: captured.append(out.detach()))
    attention = []
    if job.get("attention"):  # the last block's softmax attention: the input of attn_drop
        last = model.blocks[-1].attn
        last.fused_attn = False
        last.attn_drop.register_forward_hook(lambda _m, inputs, _o: attention.append(inputs[0].detach()))
    with torch.no_grad():
        logits = model(x)
    if is_vit:
        features = np.stack([t[:, 0].numpy() for t in captured])
    else:
        features = np.concatenate([t.permute(0, 2, 3, 1).reshape(-1).numpy() for t in captured])
    params = sum(p.numel() for p in model.parameters())
    extra = {"attention": attention[0].numpy()} if attention else {}
    np.savez(job["outputs"], logits=logits.numpy(), features=features, params=params, **extra)


def serve(job):
    """The timm side of bench_throughput's alternating rounds, one JSON line per request.

    Builds the model, an AdamW step as timm's train.py makes it (create_optimizer_v2, weight
    decay off for biases and norms) and a no-grad eval forward, prints {"ready": ...}, then
    answers each stdin line {"kind": "train"|"inference", "steps": n} with that round's figures.
    """
    from timm.optim import create_optimizer_v2

    torch.set_num_threads(job.get("threads", 2))
    torch.manual_seed(0)
    model = build(job)
    batch, size = job["batch_size"], job["image_size"]
    x = torch.rand(batch, 3, size, size)
    y = torch.randint(0, job["num_classes"], (batch,))
    optimizer = create_optimizer_v2(model, "adamw", lr=1e-3, weight_decay=0.05)
    loss_fn = torch.nn.CrossEntropyLoss()

    def train_step():
        model.train()
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        optimizer.step()

    def inference_step():
        model.eval()
        with torch.no_grad():
            model(x)

    steps = {"train": train_step, "inference": inference_step}
    started = time.perf_counter()
    for step in steps.values():
        step()
    _reply(
        {
            "ready": True,
            "params": sum(p.numel() for p in model.parameters()),
            "torch": torch.__version__,
            "timm": timm.__version__,
            "threads": torch.get_num_threads(),
            "start_s": time.perf_counter() - started,
        }
    )
    for line in sys.stdin:
        request = json.loads(line)
        _reply(_round(steps[request["kind"]], batch, request["steps"]))


def _round(step, batch, steps):
    """One warm-up step, then `steps` timed ones: wall seconds per step and CPU seconds in all."""
    step()
    times = []
    cpu = time.process_time()
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    cpu = time.process_time() - cpu
    return {"images_per_s": batch / float(np.median(times)), "images_per_cpu_s": batch * steps / cpu, "step_s": times}


def _reply(payload):
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def build(job):
    """A timm name, or timm's classes with explicit arguments for configs timm has no name for."""
    if "arch" not in job:
        return timm.create_model(job["timm_name"], pretrained=False, num_classes=job["num_classes"])
    arch, size = dict(job["arch"]), job["image_size"]
    if job["timm_name"] == "vit":
        from timm.models.deit import VisionTransformerDistilled
        from timm.models.vision_transformer import VisionTransformer

        cls = VisionTransformerDistilled if arch.pop("distilled") else VisionTransformer
        return cls(img_size=size, num_classes=job["num_classes"], **arch)
    from timm.models.resnet import Bottleneck, ResNet

    width = arch["base_width"]
    # timm's plain stem fixes 64 channels; a deep stem of half width makes it start layer1 at
    # `width` (timm/models/resnet.py, ResNet.__init__: inplanes = stem_width * 2 if deep_stem)
    plain = arch["stem"] == "imagenet"
    if plain and width != 64:
        raise ValueError(f"timm's 7x7 stem has 64 channels, not {width}")
    model = ResNet(
        Bottleneck,
        arch["layers"],
        num_classes=job["num_classes"],
        stem_width=64 if plain else width // 2,
        stem_type="" if plain else "deep",
        channels=tuple(width * 2**i for i in range(len(arch["layers"]))),
    )
    # timm's ResNet has no single-convolution stem but 7x7/2 (+ max-pool); vitlab's others are
    # one convolution without max-pool (vitlab/models/resnet.py _STEM_CONV), so timm's stem
    # modules are swapped for that one; blocks, stages and head stay timm's
    stems = {"cifar": (3, 1, 1), "stride2": (3, 2, 1), "patchify": (arch.get("patch_size"), arch.get("patch_size"), 0)}
    if arch["stem"] in stems:
        kernel, stride, padding = stems[arch["stem"]]
        model.conv1 = torch.nn.Conv2d(3, width, kernel, stride, padding, bias=False)
        model.bn1 = torch.nn.BatchNorm2d(width)
        model.maxpool = torch.nn.Identity()
    elif not plain:
        raise ValueError(f"no timm counterpart for stem {arch['stem']!r}")
    if any(stride != (1 if i == 0 else 2) for i, stride in enumerate(arch.get("stage_strides") or ())):
        raise ValueError("timm's ResNet strides its stages 1, 2, 2, 2 only")
    return model


if __name__ == "__main__":
    command, job_file = sys.argv[1], sys.argv[2]
    with open(job_file) as handle:
        {"parity": parity, "serve": serve}[command](json.load(handle))

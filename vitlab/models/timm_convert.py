"""timm's state_dict layout <-> vitlab models (the one place that knows timm's key names).

DINO's released backbones (dino_deitsmall16_pretrain.pth: facebookresearch/dino
vision_transformer.py) use timm's ViT keys without a head, as does timm's
vit_small_patch16_224.dino; DINO's full training checkpoints are unwrapped (teacher, backbone.).

timm's vision_transformer / deit keys (`blocks.3.attn.qkv.weight`, `dist_token`,
`head_dist.bias`, ...) and resnet keys (`layer2.0.downsample.1.running_var`, ...) map one
to one onto vitlab's Keras variables. PyTorch stores a convolution as (out, in, kh, kw)
and a linear layer as (out, in); Keras as (kh, kw, in, out) and (in, out). The fused qkv
projection has the same row order (q, k, v; heads inside each) in both.

Pure numpy + Keras: reading a .pth needs torch, and only then is it imported.
"""

import numpy as np

from vitlab.errors import UserError

# How a timm tensor becomes a Keras variable (and back).
_TO_KERAS = {
    "conv": lambda a: a.transpose(2, 3, 1, 0),
    "linear": lambda a: a.T,
    "same": lambda a: a,
}
_TO_TIMM = {
    "conv": lambda a: a.transpose(3, 2, 0, 1),
    "linear": lambda a: a.T,
    "same": lambda a: a,
}
_IGNORED_SUFFIXES = ("num_batches_tracked",)  # a PyTorch BatchNorm counter, not a weight
_WRAPPER_KEYS = ("model", "state_dict", "model_ema", "module", "teacher")  # teacher: DINO's full checkpoint
_SHOWN_KEYS = 8


class CheckpointError(UserError):
    """A checkpoint that cannot be read or does not fit the model."""


# --- reading ----------------------------------------------------------------------
def read_checkpoint(path) -> dict:
    """A flat {timm key: numpy array} from .safetensors, .npz or (with torch) .pth/.pt/.bin."""
    path = str(path)
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    try:
        if suffix == "safetensors":
            from safetensors.numpy import load_file

            state = load_file(path)
        elif suffix == "npz":
            with np.load(path, allow_pickle=False) as archive:
                state = {key: archive[key] for key in archive.files}
        elif suffix in ("pth", "pt", "bin"):
            state = _read_torch(path)
        else:
            raise CheckpointError(f"{path}: unknown checkpoint format .{suffix} (expected .safetensors, .npz or .pth)")
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except UserError:
        raise
    except Exception as error:  # each reader has its own error types (SafetensorError, zipfile, pickle)
        raise CheckpointError(f"{path}: cannot read checkpoint ({error})") from None
    return unwrap_state(state)


def _read_torch(path):
    try:
        import torch
    except ImportError:
        raise CheckpointError(
            f"{path}: reading .pth needs PyTorch; convert it to .safetensors or .npz "
            "(e.g. safetensors.torch.save_file) or install torch"
        ) from None
    import argparse

    # weights_only: nothing in the file is executed. Training checkpoints (DeiT's) also
    # hold their argparse.Namespace of hyperparameters, a plain data class, allowed here.
    with torch.serialization.safe_globals([argparse.Namespace]):
        state = torch.load(path, map_location="cpu", weights_only=True)
    return _tensors_to_numpy(state)


def _tensors_to_numpy(tree):
    if isinstance(tree, dict):
        return {key: _tensors_to_numpy(value) for key, value in tree.items()}
    if hasattr(tree, "detach"):
        return tree.detach().float().numpy() if tree.is_floating_point() else tree.detach().numpy()
    return tree


def unwrap_state(state) -> dict:
    """Finds the weights in a training checkpoint: {"model": {...}, "optimizer": ...},
    "model."/"module." key prefixes (flattened nesting, DataParallel) are removed."""
    while isinstance(state, dict):
        wrapper = next((key for key in _WRAPPER_KEYS if isinstance(state.get(key), dict)), None)
        if wrapper is None:
            break
        state = state[wrapper]
    arrays = {key: np.asarray(value) for key, value in state.items() if hasattr(value, "shape")}
    for prefix in ("model.", "module."):
        if arrays and all(key.startswith(prefix) for key in arrays):
            arrays = {key[len(prefix) :]: value for key, value in arrays.items()}
    if any(key.startswith("backbone.") for key in arrays):
        # DINO's training checkpoint: the ViT under backbone., its projection head (head.mlp.*,
        # head.last_layer.*) beside it; the backbone alone is what dino_deitsmall16_pretrain.pth holds
        arrays = {key[len("backbone.") :]: value for key, value in arrays.items() if key.startswith("backbone.")}
    return arrays


# --- the layout ---------------------------------------------------------------------
def _dense(prefix, layer):
    pairs = {f"{prefix}.weight": (layer.kernel, "linear")}
    if layer.use_bias:
        pairs[f"{prefix}.bias"] = (layer.bias, "same")
    return pairs


def _conv(prefix, layer):
    pairs = {f"{prefix}.weight": (layer.kernel, "conv")}
    if layer.use_bias:
        pairs[f"{prefix}.bias"] = (layer.bias, "same")
    return pairs


def _layer_norm(prefix, layer):
    return {f"{prefix}.weight": (layer.gamma, "same"), f"{prefix}.bias": (layer.beta, "same")}


def _batch_norm(prefix, layer):
    return {
        f"{prefix}.weight": (layer.gamma, "same"),
        f"{prefix}.bias": (layer.beta, "same"),
        f"{prefix}.running_mean": (layer.moving_mean, "same"),
        f"{prefix}.running_var": (layer.moving_variance, "same"),
    }


def vit_layout(model) -> dict:
    """{timm key: (Keras variable, transform)} for a VisionTransformer."""
    pairs = {"cls_token": (model.cls_token, "same")}
    if model.dist_token is not None:
        pairs["dist_token"] = (model.dist_token, "same")
    if model.pos_embed is not None:
        pairs["pos_embed"] = (model.pos_embed, "same")
    pairs.update(_conv("patch_embed.proj", model.patch_embed.proj))
    for index, block in enumerate(model.blocks):
        prefix = f"blocks.{index}"
        pairs.update(_layer_norm(f"{prefix}.norm1", block.norm1))
        pairs.update(_dense(f"{prefix}.attn.qkv", block.attn.qkv))
        pairs.update(_dense(f"{prefix}.attn.proj", block.attn.proj))
        pairs.update(_layer_norm(f"{prefix}.norm2", block.norm2))
        pairs.update(_dense(f"{prefix}.mlp.fc1", block.fc1))
        pairs.update(_dense(f"{prefix}.mlp.fc2", block.fc2))
    pairs.update(_layer_norm("norm", model.norm))
    if model.head is not None:
        pairs.update(_dense("head", model.head))
    if model.head_dist is not None:
        pairs.update(_dense("head_dist", model.head_dist))
    return pairs


def resnet_layout(model) -> dict:
    """{timm key: (Keras variable, transform)} for a ResNet."""
    pairs = {**_conv("conv1", model.conv1), **_batch_norm("bn1", model.bn1)}
    seen = {}
    for block, stage in zip(model.blocks, model.block_stage):
        index = seen.get(stage, 0)
        seen[stage] = index + 1
        prefix = f"layer{stage + 1}.{index}"
        for part in ("1", "2", "3"):
            pairs.update(_conv(f"{prefix}.conv{part}", getattr(block, f"conv{part}")))
            pairs.update(_batch_norm(f"{prefix}.bn{part}", getattr(block, f"bn{part}")))
        if block.downsample:
            pairs.update(_conv(f"{prefix}.downsample.0", block.down_conv))
            pairs.update(_batch_norm(f"{prefix}.downsample.1", block.down_bn))
    if model.fc is not None:
        pairs.update(_dense("fc", model.fc))
    return pairs


def layout(model) -> dict:
    from vitlab.models.resnet import ResNet
    from vitlab.models.vit import VisionTransformer

    if isinstance(model, VisionTransformer):
        return vit_layout(model)
    if isinstance(model, ResNet):
        return resnet_layout(model)
    raise CheckpointError(f"model {getattr(model, 'name', model)!r} has no timm layout (ViT/DeiT or ResNet only)")


def head_keys(family) -> tuple:
    return ("head.", "head_dist.") if family == "vit" else ("fc.",)


def checkpoint_num_classes(state, family) -> int:
    """Classes of the checkpoint's head; 0 for a headless one (DINO, timm num_classes=0)."""
    key = "head.weight" if family == "vit" else "fc.weight"
    return int(state[key].shape[0]) if key in state else 0


# --- loading and exporting ---------------------------------------------------------------
def _show(keys):
    keys = sorted(keys)
    more = f" (+{len(keys) - _SHOWN_KEYS} more)" if len(keys) > _SHOWN_KEYS else ""
    return ", ".join(keys[:_SHOWN_KEYS]) + more


def load_timm_state(model, state, source="checkpoint", skip_head=False) -> list[str]:
    """Assigns a timm-layout state dict to `model`; returns notes on what was adapted.

    Every mismatch (missing keys, extra keys, wrong shapes) is collected and reported in
    one CheckpointError. A position table for another grid size is resampled (bicubic).
    skip_head: the checkpoint's classifier is not loaded (a new head, or none).
    """
    pairs = layout(model)
    family = "vit" if "cls_token" in pairs else "resnet"
    state = {key: value for key, value in state.items() if not key.endswith(_IGNORED_SUFFIXES)}
    if skip_head:
        prefixes = head_keys(family)
        state = {key: value for key, value in state.items() if not key.startswith(prefixes)}
        pairs = {key: pair for key, pair in pairs.items() if not key.startswith(prefixes)}
    notes = []
    if "pos_embed" in pairs and "pos_embed" in state:
        state = dict(state)
        state["pos_embed"], note = _fit_pos_embed(model, np.asarray(state["pos_embed"]))
        notes += [note] if note else []
    missing = [key for key in pairs if key not in state]
    extra = [key for key in state if key not in pairs]
    wrong = [
        f"{key} {tuple(state[key].shape)} != {tuple(_TO_TIMM[kind](np.zeros(var.shape)).shape)}"
        for key, (var, kind) in pairs.items()
        if key in state and tuple(_TO_KERAS[kind](np.asarray(state[key])).shape) != tuple(var.shape)
    ]
    problems = []
    if missing:
        problems.append(f"missing keys: {_show(missing)}")
    if extra:
        problems.append(f"unexpected keys: {_show(extra)}")
    if wrong:
        problems.append(f"wrong shapes: {_show(wrong)}")
    if problems:
        hint = ""
        if family == "vit" and ("dist_token" in missing or "dist_token" in extra):
            hint = " (distilled vs. plain DeiT: pick the *_distilled_* name that fits the checkpoint)"
        raise CheckpointError(f"{source} does not fit {model.name}: " + "; ".join(problems) + hint)
    for key, (variable, kind) in pairs.items():
        variable.assign(_TO_KERAS[kind](np.asarray(state[key])).astype(variable.dtype))
    return notes


def _fit_pos_embed(model, pos_embed):
    from vitlab.models.vit import resample_pos_embed

    want = tuple(model.pos_embed.shape)
    if pos_embed.shape == want or pos_embed.ndim != 3 or pos_embed.shape[2] != want[2]:
        return pos_embed, None
    patches = pos_embed.shape[1] - model.num_prefix_tokens
    old_grid = int(round(patches**0.5))
    if patches <= 0 or old_grid * old_grid != patches:
        return pos_embed, None  # reported as a wrong shape
    resized = resample_pos_embed(pos_embed, model.num_prefix_tokens, model.grid_size)
    return resized, f"position embedding resampled from {old_grid}x{old_grid} to {model.grid_size}x{model.grid_size}"


def export_timm_state(model) -> dict:
    """The model's weights as a timm-layout {key: float32 numpy array}."""
    import keras

    return {
        key: np.ascontiguousarray(_TO_TIMM[kind](keras.ops.convert_to_numpy(variable)))
        for key, (variable, kind) in layout(model).items()
    }


def import_checkpoint(
    name, path, num_classes=None, image_size=None, mean=None, std=None, crop_pct=None, interpolation=None
):
    """Builds registry model `name` shaped for the checkpoint and loads it; returns (model, notes).

    name: an architecture, or ARCHITECTURE.TAG for a timm tag vitlab knows (the model then
    stores that checkpoint's mean, std, crop_pct and interpolation; explicit arguments win).
    num_classes: None takes the checkpoint's (0 when headless); 0 drops its head; another
    number gives a new, randomly initialized head of that size (for fine-tuning).
    """
    from vitlab import models
    from vitlab.models import preprocessing

    try:
        preprocessing.check(crop_pct, interpolation)
    except ValueError as error:
        raise CheckpointError(str(error)) from None
    state = read_checkpoint(path)
    spec = models.get_spec(name)
    found = checkpoint_num_classes(state, spec.family)
    classes = found if num_classes is None else int(num_classes)
    if classes < 0:
        raise CheckpointError(f"--num-classes must be >= 0, got {classes}")
    fresh_head = found != classes
    model = models.create(
        name,
        num_classes=classes,
        image_size=image_size,
        mean=tuple(mean) if mean else None,
        std=tuple(std) if std else None,
        crop_pct=crop_pct,
        interpolation=interpolation,
    )
    notes = load_timm_state(model, state, source=str(path), skip_head=fresh_head)
    if fresh_head and classes:
        notes.append(f"new head with {classes} classes (checkpoint head: {found or 'none'})")
    elif fresh_head:
        notes.append(f"checkpoint head ({found} classes) dropped: model returns features")
    if model.crop_pct is None:
        notes.append(NO_CROP_NOTE)
    return model, notes


NO_CROP_NOTE = (
    "no evaluation crop known for this checkpoint: it is fed the paper's 256/224 bilinear (name "
    "ARCHITECTURE.TAG of a known timm tag, or import it from the Hugging Face cache)"
)

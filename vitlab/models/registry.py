"""One registry, one factory: a name maps to that variant's arguments.

The timm names build timm's architectures exactly (parameter counts equal timm's). A name
may carry timm's weights tag (`resnet50.tv_in1k`): the tag picks that checkpoint's
preprocessing (`PRETRAINED`: mean, std, crop_pct, interpolation, from timm's pretrained_cfg),
which the built model stores in its config, so an imported checkpoint is fed the way it was
trained; a bare architecture name takes timm's default tag for it. The small variants are for
CPU work (32x32 images, patch 4) and for tests; they store no crop (the paper's 256/224
bilinear is used, and a run says so).
"""

import dataclasses

from vitlab.errors import UserError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INCEPTION_MEAN = (0.5, 0.5, 0.5)
INCEPTION_STD = (0.5, 0.5, 0.5)


@dataclasses.dataclass(frozen=True)
class Pretrained:
    """The fields of timm's pretrained_cfg for one weights tag that decide what the model is fed."""

    tag: str  # "resnet50.tv_in1k"
    crop_pct: float
    interpolation: str
    mean: tuple
    std: tuple
    source: str  # where timm defines it (huggingface/pytorch-image-models, timm/models/...)


# timm's pretrained_cfg per tag (huggingface/pytorch-image-models at aa4b585). Only the tags
# the paper's models use and timm's default tag of each registered architecture are listed.
_DEIT = "timm/models/deit.py _cfg lines 141-150 (crop 0.9, bicubic, ImageNet mean/std)"
_VIT = "timm/models/vision_transformer.py _cfg lines 1799-1811 (crop 0.9, bicubic, Inception mean/std)"
PRETRAINED = {
    p.tag: p
    for p in [
        *[
            Pretrained(f"deit_{s}{d}_patch16_224.fb_in1k", 0.9, "bicubic", IMAGENET_MEAN, IMAGENET_STD, _DEIT)
            for s in ("tiny", "small", "base")
            for d in ("", "_distilled")
        ],
        *[
            Pretrained(f"vit_{s}_patch16_224.augreg_in21k_ft_in1k", 0.9, "bicubic", INCEPTION_MEAN, INCEPTION_STD, _VIT)
            for s in ("tiny", "small", "base", "large")
        ],
        Pretrained("vit_base_patch16_224.augreg2_in21k_ft_in1k", 0.9, "bicubic", INCEPTION_MEAN, INCEPTION_STD, _VIT),
        Pretrained("vit_base_patch16_224.orig_in21k_ft_in1k", 0.9, "bicubic", INCEPTION_MEAN, INCEPTION_STD, _VIT),
        Pretrained(
            "vit_small_patch16_224.dino",
            0.9,
            "bicubic",
            IMAGENET_MEAN,
            IMAGENET_STD,
            "timm/models/vision_transformer.py line 1982-1985 (_cfg with ImageNet mean/std, headless)",
        ),
        Pretrained(
            "resnet50.tv_in1k",
            0.875,
            "bilinear",
            IMAGENET_MEAN,
            IMAGENET_STD,
            "timm/models/resnet.py _cfg lines 795-805 (crop 0.875, bilinear), entry line 1021",
        ),
        Pretrained(
            "resnet50.a1_in1k",
            0.95,
            "bicubic",
            IMAGENET_MEAN,
            IMAGENET_STD,
            "timm/models/resnet.py _rcfg lines 821-826 (crop 0.95, bicubic), entry line 906",
        ),
        Pretrained(
            "resnet26.bt_in1k",
            0.875,
            "bicubic",
            IMAGENET_MEAN,
            IMAGENET_STD,
            "timm/models/resnet.py _ttcfg lines 813-818 (crop 0.875, bicubic), entry line 894",
        ),
    ]
}


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str  # "vit" or "resnet"
    kwargs: dict
    description: str
    crop_pct: float | None = None  # None: the variant has no pretrained weights and stores no crop
    interpolation: str | None = None
    timm_name: str | None = None  # set when the architecture equals a timm model
    weights: str | None = None  # the timm tag whose preprocessing the name carries (PRETRAINED)

    @property
    def image_size(self):
        return self.kwargs.get("image_size", 224)


_REGISTRY: dict[str, ModelSpec] = {}


def register(name, family, description, timm_name=None, weights=None, **kwargs):
    """One variant; `weights` names its default timm tag, whose preprocessing it carries."""
    spec = ModelSpec(name, family, kwargs, description, timm_name=timm_name)
    _REGISTRY[name] = with_weights(spec, weights) if weights else spec


def with_weights(spec, tag):
    """The spec as that timm tag's checkpoint is fed: its mean, std, crop_pct and interpolation."""
    cfg = PRETRAINED[tag]
    return dataclasses.replace(
        spec,
        kwargs={**spec.kwargs, "mean": cfg.mean, "std": cfg.std},
        crop_pct=cfg.crop_pct,
        interpolation=cfg.interpolation,
        weights=tag,
    )


_VIT_SIZES = {
    "tiny": dict(hidden_dim=192, depth=12, num_heads=3),
    "small": dict(hidden_dim=384, depth=12, num_heads=6),
    "base": dict(hidden_dim=768, depth=12, num_heads=12),
    "large": dict(hidden_dim=1024, depth=24, num_heads=16),
}

for _size in ("tiny", "small", "base"):
    register(
        f"deit_{_size}_patch16_224",
        "vit",
        f"DeiT-{_size[0].upper()}/16 at 224 (timm)",
        timm_name=f"deit_{_size}_patch16_224",
        weights=f"deit_{_size}_patch16_224.fb_in1k",
        patch_size=16,
        image_size=224,
        **_VIT_SIZES[_size],
    )
    register(
        f"deit_{_size}_distilled_patch16_224",
        "vit",
        f"DeiT-{_size[0].upper()}/16 with distillation (shape) token at 224 (timm)",
        timm_name=f"deit_{_size}_distilled_patch16_224",
        weights=f"deit_{_size}_distilled_patch16_224.fb_in1k",
        patch_size=16,
        image_size=224,
        distilled=True,
        **_VIT_SIZES[_size],
    )
for _size in ("tiny", "small", "base", "large"):
    # timm's default tag: augreg2 for B/16 (the first vit_base_patch16_224 entry), augreg for the others
    _tag = "augreg2_in21k_ft_in1k" if _size == "base" else "augreg_in21k_ft_in1k"
    register(
        f"vit_{_size}_patch16_224",
        "vit",
        f"ViT-{_size[0].upper()}/16 at 224, augreg weights' layout (timm)",
        timm_name=f"vit_{_size}_patch16_224",
        weights=f"vit_{_size}_patch16_224.{_tag}",
        patch_size=16,
        image_size=224,
        **_VIT_SIZES[_size],
    )
# timm's default resnet50 weights are a1_in1k; the paper's baseline is torchvision's (resnet50.tv_in1k)
register(
    "resnet50",
    "resnet",
    "ResNet-50, bottleneck (timm / torchvision layout)",
    timm_name="resnet50",
    weights="resnet50.a1_in1k",
    stage_depths=(3, 4, 6, 3),
    base_width=64,
    image_size=224,
)
register(
    "resnet26",
    "resnet",
    "ResNet-26, bottleneck (timm layout)",
    timm_name="resnet26",
    weights="resnet26.bt_in1k",
    stage_depths=(2, 2, 2, 2),
    base_width=64,
    image_size=224,
)

# DINO ViT-S/16 (self-supervised, headless): the saliency model of the paper's salient PatchDrop
# (vitlab/protocol/saliency.py). timm's vit_small_patch16_224.dino: ImageNet mean/std, crop 0.9.
register(
    "vit_small_patch16_224_dino",
    "vit",
    "DINO ViT-S/16, headless (dino_deitsmall16_pretrain.pth / timm .dino)",
    timm_name="vit_small_patch16_224.dino",
    weights="vit_small_patch16_224.dino",
    patch_size=16,
    image_size=224,
    num_classes=0,
    **_VIT_SIZES["small"],
)

# Small-image variants for CPU work: 32x32 inputs, 8x8 patch grid.
_SMALL = dict(image_size=32, patch_size=4, num_classes=10, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
register(
    "vit_nano_patch4_32",
    "vit",
    "ViT for 32x32 images: 6 blocks, width 96, 3 heads",
    hidden_dim=96,
    depth=6,
    num_heads=3,
    mlp_ratio=2.0,
    **_SMALL,
)
register(
    "vit_nano_nopos_patch4_32",
    "vit",
    "vit_nano_patch4_32 without positional embedding",
    hidden_dim=96,
    depth=6,
    num_heads=3,
    mlp_ratio=2.0,
    pos_embed=False,
    **_SMALL,
)
register(
    "deit_nano_distilled_patch4_32",
    "vit",
    "DeiT for 32x32 with a distillation (shape) token",
    hidden_dim=96,
    depth=6,
    num_heads=3,
    mlp_ratio=2.0,
    distilled=True,
    **_SMALL,
)
register(
    "vit_mini_patch4_32",
    "vit",
    "ViT for 32x32 images: 4 blocks, width 128, 4 heads (about vit_nano's cost)",
    hidden_dim=128,
    depth=4,
    num_heads=4,
    mlp_ratio=2.0,
    **_SMALL,
)
register(
    "vit_micro_patch4_32",
    "vit",
    "ViT for 32x32 images: 8 blocks, width 192, 3 heads",
    hidden_dim=192,
    depth=8,
    num_heads=3,
    mlp_ratio=2.0,
    **_SMALL,
)
register(
    "deit_micro_distilled_patch4_32",
    "vit",
    "vit_micro_patch4_32 with a distillation (shape) token",
    hidden_dim=192,
    depth=8,
    num_heads=3,
    mlp_ratio=2.0,
    distilled=True,
    **_SMALL,
)
register(
    "resnet_nano_32",
    "resnet",
    "Bottleneck ResNet for 32x32: 3x3 stem, blocks (1,1,1,1), width 16",
    stage_depths=(1, 1, 1, 1),
    base_width=16,
    stem="cifar",
    image_size=32,
    num_classes=10,
    mean=(0.5, 0.5, 0.5),
    std=(0.25, 0.25, 0.25),
)
register(
    "resnet_micro_32",
    "resnet",
    "Bottleneck ResNet for 32x32: 3x3 stem, blocks (2,2,2,2), width 32",
    stage_depths=(2, 2, 2, 2),
    base_width=32,
    stem="cifar",
    image_size=32,
    num_classes=10,
    mean=(0.5, 0.5, 0.5),
    std=(0.25, 0.25, 0.25),
)

# The study's 64x64 variants (data: objects64): the nano widths and depths, an 8x8 patch grid
# (64 tokens, the grid objects64's occlusion figures are measured on).
_NANO64 = dict(
    image_size=64,
    patch_size=8,
    num_classes=10,
    mean=(0.5, 0.5, 0.5),
    std=(0.25, 0.25, 0.25),
    hidden_dim=96,
    depth=6,
    num_heads=3,
    mlp_ratio=2.0,
)
register("vit_nano_patch8_64", "vit", "vit_nano_patch4_32's ViT for 64x64 images, patch 8 (8x8 grid)", **_NANO64)
register(
    "vit_nano_nopos_patch8_64", "vit", "vit_nano_patch8_64 without positional embedding", pos_embed=False, **_NANO64
)
register(
    "deit_nano_distilled_patch8_64",
    "vit",
    "vit_nano_patch8_64 with a distillation (shape) token",
    distilled=True,
    **_NANO64,
)
register(
    "vit_nano_gap_patch8_64",
    "vit",
    "vit_nano_patch8_64 without class token, head on the mean patch token",
    global_pool="avg",
    **_NANO64,
)
_RESNET_NANO64 = dict(
    stage_depths=(1, 1, 1, 1),
    base_width=16,
    image_size=64,
    num_classes=10,
    mean=(0.5, 0.5, 0.5),
    std=(0.25, 0.25, 0.25),
)
register(
    "resnet_nano_64",
    "resnet",
    "resnet_nano_32 for 64x64 images: a 3x3/2 stem, then the same stages at 32x32",
    stem="stride2",
    **_RESNET_NANO64,
)
register(
    "resnet_nano_patchify8_64",
    "resnet",
    "resnet_nano_64 with an 8x8/8 patchify stem: a ViT's tokenization, "
    "no attention; every stage keeps the 8x8 token grid (stride 1), as ConvMixer does",
    stem="patchify",
    patch_size=8,
    stage_strides=(1, 1, 1, 1),
    **_RESNET_NANO64,
)

# Test-size variants: build and run in milliseconds.
register(
    "vit_test",
    "vit",
    "2-block ViT for tests (32x32, patch 8, width 32)",
    hidden_dim=32,
    depth=2,
    num_heads=2,
    mlp_ratio=2.0,
    **{**_SMALL, "patch_size": 8},
)
register(
    "deit_test_distilled",
    "vit",
    "2-block DeiT with distillation token for tests",
    hidden_dim=32,
    depth=2,
    num_heads=2,
    mlp_ratio=2.0,
    distilled=True,
    **{**_SMALL, "patch_size": 8},
)
register(
    "resnet_test",
    "resnet",
    "1-block-per-stage ResNet for tests (32x32, width 8)",
    stage_depths=(1, 1, 1, 1),
    base_width=8,
    stem="cifar",
    image_size=32,
    num_classes=10,
    mean=(0.5, 0.5, 0.5),
    std=(0.25, 0.25, 0.25),
)


class UnknownModelError(UserError):
    pass


def list_models():
    return sorted(_REGISTRY)


def timm_models():
    return [name for name in list_models() if _REGISTRY[name].timm_name]


def get_spec(name) -> ModelSpec:
    """The spec of a registered name, or of `ARCHITECTURE.TAG` for a timm tag in PRETRAINED
    (the architecture fed as that checkpoint is)."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    architecture, dot, tag = str(name).partition(".")
    if dot and architecture in _REGISTRY:
        if name in PRETRAINED:
            return dataclasses.replace(with_weights(_REGISTRY[architecture], name), name=name)
        known = sorted(t for t in PRETRAINED if t.startswith(architecture + "."))
        raise UnknownModelError(
            f"{name!r}: vitlab has no preprocessing for timm tag {tag!r} of {architecture}"
            + (f"; known tags: {', '.join(known)}" if known else "; it has no known tags")
            + " (import the checkpoint, whose config.json carries it, or set crop_pct=)"
        )
    import difflib

    close = difflib.get_close_matches(str(name), _REGISTRY, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `vitlab models list` shows them"
    raise UnknownModelError(f"unknown model {name!r}{hint}")


def resolve_kwargs(name, /, **overrides):
    """The constructor arguments of a registered name with the caller's overrides; the stored
    preprocessing (crop_pct, interpolation) included where the name carries one."""
    spec = get_spec(name)
    stored = {
        key: value
        for key, value in (("crop_pct", spec.crop_pct), ("interpolation", spec.interpolation))
        if value is not None
    }
    return spec.family, {**spec.kwargs, **stored, **{k: v for k, v in overrides.items() if v is not None}}

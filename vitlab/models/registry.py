"""One registry, one factory: a name maps to that variant's arguments.

The timm names build timm's architectures exactly (parameter counts equal timm's), and
carry the preprocessing of timm's pretrained weights for that name (mean, std, input
size, crop), so an imported checkpoint is fed the way it was trained. The small variants
are for CPU work (32x32 images, patch 4) and for tests.
"""

from vitlab.errors import UserError

import dataclasses

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INCEPTION_MEAN = (0.5, 0.5, 0.5)
INCEPTION_STD = (0.5, 0.5, 0.5)


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str  # "vit" or "resnet"
    kwargs: dict
    description: str
    crop_pct: float = 0.875
    interpolation: str = "bicubic"
    timm_name: str | None = None  # set when the architecture equals a timm model

    @property
    def image_size(self):
        return self.kwargs.get("image_size", 224)


_REGISTRY: dict[str, ModelSpec] = {}


def register(name, family, description, crop_pct=0.875, timm_name=None, interpolation="bicubic", **kwargs):
    _REGISTRY[name] = ModelSpec(name, family, kwargs, description, crop_pct, interpolation, timm_name=timm_name)


_VIT_SIZES = {
    "tiny": dict(hidden_dim=192, depth=12, num_heads=3),
    "small": dict(hidden_dim=384, depth=12, num_heads=6),
    "base": dict(hidden_dim=768, depth=12, num_heads=12),
    "large": dict(hidden_dim=1024, depth=24, num_heads=16),
}

for _size in ("tiny", "small", "base"):
    register(f"deit_{_size}_patch16_224", "vit", f"DeiT-{_size[0].upper()}/16 at 224 (timm)",
             timm_name=f"deit_{_size}_patch16_224", patch_size=16, image_size=224,
             mean=IMAGENET_MEAN, std=IMAGENET_STD, **_VIT_SIZES[_size])
    register(f"deit_{_size}_distilled_patch16_224", "vit",
             f"DeiT-{_size[0].upper()}/16 with distillation (shape) token at 224 (timm)",
             timm_name=f"deit_{_size}_distilled_patch16_224", patch_size=16, image_size=224, distilled=True,
             mean=IMAGENET_MEAN, std=IMAGENET_STD, **_VIT_SIZES[_size])
for _size in ("tiny", "small", "base", "large"):
    register(f"vit_{_size}_patch16_224", "vit", f"ViT-{_size[0].upper()}/16 at 224, augreg weights' layout (timm)",
             crop_pct=0.9, timm_name=f"vit_{_size}_patch16_224", patch_size=16, image_size=224,
             mean=INCEPTION_MEAN, std=INCEPTION_STD, **_VIT_SIZES[_size])
register("resnet50", "resnet", "ResNet-50, bottleneck (timm / torchvision layout)", crop_pct=0.95,
         timm_name="resnet50", stage_depths=(3, 4, 6, 3), base_width=64, image_size=224,
         mean=IMAGENET_MEAN, std=IMAGENET_STD)
register("resnet26", "resnet", "ResNet-26, bottleneck (timm layout)", crop_pct=0.875, timm_name="resnet26",
         stage_depths=(2, 2, 2, 2), base_width=64, image_size=224, mean=IMAGENET_MEAN, std=IMAGENET_STD)

# DINO ViT-S/16 (self-supervised, headless): the saliency model of the paper's salient PatchDrop
# (vitlab/protocol/saliency.py). timm's vit_small_patch16_224.dino: ImageNet mean/std, crop 0.9.
register("vit_small_patch16_224_dino", "vit", "DINO ViT-S/16, headless (dino_deitsmall16_pretrain.pth / timm .dino)",
         crop_pct=0.9, timm_name="vit_small_patch16_224.dino", patch_size=16, image_size=224, num_classes=0,
         mean=IMAGENET_MEAN, std=IMAGENET_STD, **_VIT_SIZES["small"])

# Small-image variants for CPU work: 32x32 inputs, 8x8 patch grid.
_SMALL = dict(image_size=32, patch_size=4, num_classes=10, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
register("vit_nano_patch4_32", "vit", "ViT for 32x32 images: 6 blocks, width 96, 3 heads",
         hidden_dim=96, depth=6, num_heads=3, mlp_ratio=2.0, **_SMALL)
register("vit_nano_nopos_patch4_32", "vit", "vit_nano_patch4_32 without positional embedding",
         hidden_dim=96, depth=6, num_heads=3, mlp_ratio=2.0, pos_embed=False, **_SMALL)
register("deit_nano_distilled_patch4_32", "vit", "DeiT for 32x32 with a distillation (shape) token",
         hidden_dim=96, depth=6, num_heads=3, mlp_ratio=2.0, distilled=True, **_SMALL)
register("vit_mini_patch4_32", "vit", "ViT for 32x32 images: 4 blocks, width 128, 4 heads (about vit_nano's cost)",
         hidden_dim=128, depth=4, num_heads=4, mlp_ratio=2.0, **_SMALL)
register("vit_micro_patch4_32", "vit", "ViT for 32x32 images: 8 blocks, width 192, 3 heads",
         hidden_dim=192, depth=8, num_heads=3, mlp_ratio=2.0, **_SMALL)
register("deit_micro_distilled_patch4_32", "vit", "vit_micro_patch4_32 with a distillation (shape) token",
         hidden_dim=192, depth=8, num_heads=3, mlp_ratio=2.0, distilled=True, **_SMALL)
register("resnet_nano_32", "resnet", "Bottleneck ResNet for 32x32: 3x3 stem, blocks (1,1,1,1), width 16",
         stage_depths=(1, 1, 1, 1), base_width=16, stem="cifar", image_size=32, num_classes=10,
         mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
register("resnet_micro_32", "resnet", "Bottleneck ResNet for 32x32: 3x3 stem, blocks (2,2,2,2), width 32",
         stage_depths=(2, 2, 2, 2), base_width=32, stem="cifar", image_size=32, num_classes=10,
         mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))

# Test-size variants: build and run in milliseconds.
register("vit_test", "vit", "2-block ViT for tests (32x32, patch 8, width 32)",
         hidden_dim=32, depth=2, num_heads=2, mlp_ratio=2.0, **{**_SMALL, "patch_size": 8})
register("deit_test_distilled", "vit", "2-block DeiT with distillation token for tests",
         hidden_dim=32, depth=2, num_heads=2, mlp_ratio=2.0, distilled=True, **{**_SMALL, "patch_size": 8})
register("resnet_test", "resnet", "1-block-per-stage ResNet for tests (32x32, width 8)",
         stage_depths=(1, 1, 1, 1), base_width=8, stem="cifar", image_size=32, num_classes=10,
         mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))


class UnknownModelError(UserError):
    pass


def list_models():
    return sorted(_REGISTRY)


def timm_models():
    return [name for name in list_models() if _REGISTRY[name].timm_name]


def get_spec(name) -> ModelSpec:
    if name not in _REGISTRY:
        import difflib

        close = difflib.get_close_matches(name, _REGISTRY, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `vitlab models list` shows them"
        raise UnknownModelError(f"unknown model {name!r}{hint}")
    return _REGISTRY[name]


def resolve_kwargs(name, /, **overrides):
    """The constructor arguments of a registered name with the caller's overrides."""
    spec = get_spec(name)
    return spec.family, {**spec.kwargs, **{k: v for k, v in overrides.items() if v is not None}}

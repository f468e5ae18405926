"""The paper's models by name: the timm tag (or released file) behind each model the paper
evaluates, the vitlab spec that builds it, and the ones vitlab does not build.

Sources: the official repository's README (shape-biased models, release v0; "for the ResNet
baselines, we adopt the PyTorch official models"), utils.py get_model (lines 45-98: torchvision
names, timm `deit*`, `vit*`, `T2t*`, `tnt*`, and vit_models/dino.py for DINO) and the
scripts/*.sh command lines. A tag's preprocessing is timm's pretrained_cfg
(vitlab/models/registry.py PRETRAINED). docs/protocol.md prints this table; `vitlab models list
--paper` too.
"""

import dataclasses

RELEASE = "https://github.com/Muzammal-Naseer/Intriguing-Properties-of-Vision-Transformers/releases/download/v0/"


@dataclasses.dataclass(frozen=True)
class PaperModel:
    label: str  # as the paper names it
    weights: str  # timm tag, or a released checkpoint file
    spec: str  # what `-m` takes in vitlab: a registry name / tag, or "" when vitlab does not build it
    role: str  # its part in the paper's comparisons
    note: str = ""


def _deit(size, letter):
    return [
        PaperModel(
            f"DeiT-{letter}",
            f"deit_{size}_patch16_224.fb_in1k",
            f"deit_{size}_patch16_224.fb_in1k",
            "DeiT, the paper's main ViT family",
        ),
        PaperModel(
            f"DeiT-{letter} (distilled)",
            f"deit_{size}_distilled_patch16_224.fb_in1k",
            f"deit_{size}_distilled_patch16_224.fb_in1k",
            "DeiT with a distillation token",
        ),
    ]


PAPER_MODELS = (
    *_deit("tiny", "T"),
    *_deit("small", "S"),
    *_deit("base", "B"),
    PaperModel(
        "DeiT-T-SIN",
        RELEASE + "deit_t_sin.pth",
        "deit_tiny_patch16_224",
        "shape-biased (Stylized ImageNet)",
        "the paper's own checkpoint: `vitlab weights import deit_tiny_patch16_224 deit_t_sin.pth`",
    ),
    PaperModel(
        "DeiT-T-SIN (distilled)",
        RELEASE + "deit_t_sin_dist.pth",
        "deit_tiny_distilled_patch16_224",
        "shape token (distilled from a shape-biased CNN)",
        "the paper's own checkpoint",
    ),
    PaperModel(
        "DeiT-S-SIN",
        RELEASE + "deit_s_sin.pth",
        "deit_small_patch16_224",
        "shape-biased (Stylized ImageNet)",
        "the paper's own checkpoint",
    ),
    PaperModel(
        "DeiT-S-SIN (distilled)",
        RELEASE + "deit_s_sin_dist.pth",
        "deit_small_distilled_patch16_224",
        "shape token (distilled from a shape-biased CNN)",
        "the paper's own checkpoint",
    ),
    PaperModel(
        "ViT-B/16",
        "vit_base_patch16_224.orig_in21k_ft_in1k",
        "vit_base_patch16_224.orig_in21k_ft_in1k",
        "ViT family",
        "the original JAX weights; timm's untagged name now loads augreg2, a later "
        "checkpoint: which one the paper's 2021 timm served is not recorded in its code",
    ),
    PaperModel(
        "ViT-L/16",
        "vit_large_patch16_224.augreg_in21k_ft_in1k",
        "vit_large_patch16_224",
        "ViT family",
        "timm no longer serves the original 224-px ViT-L/16 fine-tune; augreg is the "
        "closest tag (same caveat as ViT-B/16)",
    ),
    PaperModel(
        "ResNet50",
        "resnet50.tv_in1k",
        "resnet50.tv_in1k",
        "the CNN baseline",
        "torchvision's weights (timm's untagged resnet50 is a1_in1k, crop 0.95 bicubic)",
    ),
    PaperModel(
        "DINO ViT-S/16",
        "vit_small_patch16_224.dino",
        "vit_small_patch16_224_dino",
        "the salient / non-salient PatchDrop mask",
        "dino_deitsmall16_pretrain.pth, headless",
    ),
    PaperModel(
        "T2T-ViT-24",
        "T2t_vit_24 (the T2T authors' checkpoint)",
        "",
        "T2T family",
        "not built by vitlab (tokens-to-token stem; official vit_models/t2t_vit.py)",
    ),
    PaperModel(
        "TnT-S",
        "tnt_s_patch16_224",
        "",
        "TnT",
        "not built by vitlab (transformer-in-transformer blocks; official vit_models/tnt.py)",
    ),
)


def built():
    """The paper's models vitlab builds (a spec for `-m`)."""
    return [m for m in PAPER_MODELS if m.spec]


def markdown_table():
    """The table docs/protocol.md carries (a test keeps the two equal)."""
    lines = ["| paper | weights (timm tag or file) | vitlab `-m` | role | note |", "|---|---|---|---|---|"]
    for m in PAPER_MODELS:
        weights = m.weights.removeprefix(RELEASE) + (" (release v0)" if m.weights.startswith(RELEASE) else "")
        lines.append(f"| {m.label} | `{weights}` | {f'`{m.spec}`' if m.spec else 'not built'} | {m.role} | {m.note} |")
    return "\n".join(lines)

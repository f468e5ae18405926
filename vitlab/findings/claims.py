"""The paper's claims 1-8, each with what it states, its number, and the checks that test it here.

A check compares two measurements of the same seed (or one against a constant): the paired
difference left - right is aggregated over seeds, and the check holds when its 95% interval
lies on the claimed side of zero. Paper numbers are given only where the text states them;
figure-only results are described, not transcribed. Model names are the training steps of
recipes/findings.toml.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Check:
    label: str
    left: str  # a scalar key of vitlab.findings.metrics
    right: str | float  # another key, or a constant
    op: str = ">"  # the paper's side: left > right or left < right


@dataclasses.dataclass(frozen=True)
class Panel:
    title: str
    curves: dict  # legend label -> curve key
    x_label: str
    y_label: str


@dataclasses.dataclass(frozen=True)
class Claim:
    number: int
    title: str
    statement: str  # what the paper says
    paper_number: str  # the paper's number(s), or what it shows
    setup: str  # what we measured instead, and how it differs
    checks: tuple
    panels: tuple = ()
    rows: tuple = ()  # (label, scalar key) shown in the claim's table besides the checks


OCCLUDED = ("vit", "vit_nopos", "deit_shape", "resnet")


def _per_model(prefix, models=OCCLUDED):
    return {model: f"{prefix}/{model}" for model in models}


CLAIMS = (
    Claim(
        1,
        "Occlusion: ViTs keep more accuracy under PatchDrop than a CNN",
        "Under random, salient (foreground) and non-salient (background) PatchDrop, DeiT/ViT/T2T "
        "models keep far more top-1 accuracy than ResNet50 and other CNNs, over the whole curve.",
        "Abstract: up to 60% ImageNet top-1 with 80% of the image randomly occluded (DeiT); CNNs "
        "fall much faster (Fig. 3, curves not transcribed here).",
        "Random PatchDrop on the ViTs' 8x8 patch grid; salient / non-salient drop uses the "
        "ground-truth foreground mask of `shapes` instead of DINO attention. Accuracy retained above "
        "chance, (top-1 - 0.1) / (clean top-1 - 0.1), so that models of different clean accuracy "
        "compare; a model within 0.1 of chance is left out (n/a).",
        (
            Check(
                "ViT vs ResNet, random drop at 50% (relative accuracy)",
                "occlusion/random/relative_50/vit",
                "occlusion/random/relative_50/resnet",
            ),
            Check(
                "DeiT (shape) vs ResNet, random drop at 50%",
                "occlusion/random/relative_50/deit_shape",
                "occlusion/random/relative_50/resnet",
            ),
            Check(
                "ViT vs ResNet, foreground drop at 50%",
                "occlusion/mask_salient/relative_50/vit",
                "occlusion/mask_salient/relative_50/resnet",
            ),
            Check(
                "ViT vs ResNet, background drop at 50%",
                "occlusion/mask_non_salient/relative_50/vit",
                "occlusion/mask_non_salient/relative_50/resnet",
            ),
            Check(
                "ViT vs ResNet, whole random curve (mean relative accuracy)",
                "occlusion/random/relative_mean/vit",
                "occlusion/random/relative_mean/resnet",
            ),
        ),
        (
            Panel("random PatchDrop", _per_model("occlusion/random"), "fraction of patches dropped", "top-1"),
            Panel("foreground dropped first", _per_model("occlusion/mask_salient"), "fraction dropped", "top-1"),
            Panel("background dropped first", _per_model("occlusion/mask_non_salient"), "fraction dropped", "top-1"),
        ),
        tuple((f"top-1 at 50% random drop: {m}", f"occlusion/random/top1_50/{m}") for m in OCCLUDED)
        + tuple((f"clean top-1: {m}", f"clean/{m}") for m in OCCLUDED),
    ),
    Claim(
        2,
        "Occluded features stay correlated with clean ones, more in ViTs than in ResNet stages",
        "The class token's features under PatchDrop keep a high correlation coefficient with the "
        "clean image's, block after block, while ResNet50 features lose it.",
        "Table of correlation coefficients at 25/50/75% drop (not transcribed here): ViT class "
        "tokens clearly above ResNet50 features at every level.",
        "Per-image Pearson correlation of the class token (ViT) or pooled stage output (ResNet), "
        "random PatchDrop on the 8x8 grid; x axis is relative depth (block / stages).",
        (
            Check("ViT vs ResNet, last block at 50% drop", "correlation/last_50/vit", "correlation/last_50/resnet"),
            Check("ViT vs ResNet, last block at 75% drop", "correlation/last_75/vit", "correlation/last_75/resnet"),
        ),
        (
            Panel(
                "feature correlation, 50% dropped",
                _per_model("correlation/50", ("vit", "deit_shape", "resnet")),
                "relative depth (block or stage / total)",
                "correlation",
            ),
        ),
        tuple((f"last block at 25%: {m}", f"correlation/last_25/{m}") for m in ("vit", "deit_shape", "resnet")),
    ),
    Claim(
        3,
        "Shuffle: ViTs degrade less under patch shuffling; without positions nearly invariant",
        "Shuffling image cells hurts DeiT less than ResNet50; a DeiT trained without positional "
        "encoding is nearly invariant to the shuffle (and still accurate).",
        "Fig. 7 (curves, not transcribed here).",
        "Grids 2x2 ... 16x16 on 32px images; the ViTs' own patch grid is 8x8, so shuffles on grids "
        "up to 8x8 permute whole patches (exact invariance for vit_nopos by construction), 16x16 cuts "
        "patches apart. Accuracy retained above chance, relative to the unshuffled image.",
        (
            Check("ViT vs ResNet, mean over grids", "shuffle/relative_mean/vit", "shuffle/relative_mean/resnet"),
            Check(
                "ViT without positions vs ViT, mean over grids",
                "shuffle/relative_mean/vit_nopos",
                "shuffle/relative_mean/vit",
            ),
            Check(
                "ViT without positions keeps >= 90% of its accuracy (mean over grids)",
                "shuffle/relative_mean/vit_nopos",
                0.9,
            ),
        ),
        (Panel("patch shuffle", _per_model("shuffle"), "shuffle grid", "top-1"),),
        tuple((f"relative top-1 at 16x16: {m}", f"shuffle/relative_16x16/{m}") for m in OCCLUDED),
    ),
    Claim(
        4,
        "Shape bias: stylized training and shape distillation make ViTs shape-biased",
        "ViTs are less texture-biased than CNNs; DeiT trained on Stylized-ImageNet reaches a "
        "human-like shape bias; with shape distillation the shape token is more shape-biased than "
        "the class token of the same model.",
        "Fig. 8 (bars, not transcribed here); the human reference is about 0.96 and ResNet50 about "
        "0.2 (Geirhos et al. 2019, the benchmark the paper uses).",
        "Cue-conflict `shapes` images (shape of one class, texture of another). The texture teacher "
        "of deit_tex is `resnet`, trained on the default split where texture agrees with the class "
        "80% of the time; its own shape bias is in the table.",
        (
            Check("DeiT trained on stylized vs ViT", "shape_bias/deit_sin", "shape_bias/vit"),
            Check("ViT vs ResNet", "shape_bias/vit", "shape_bias/resnet"),
            Check(
                "shape token vs class token (shape-distilled DeiT)",
                "shape_bias/deit_shape/dist",
                "shape_bias/deit_shape/class",
            ),
            Check(
                "shape token: shape-distilled vs texture-distilled",
                "shape_bias/deit_shape/dist",
                "shape_bias/deit_tex/dist",
            ),
        ),
        (),
        (
            ("teacher resnet_sin (stylized)", "shape_bias/resnet_sin"),
            ("texture teacher resnet", "shape_bias/resnet"),
            ("deit_tex class token", "shape_bias/deit_tex/class"),
            ("deit_tex dist token", "shape_bias/deit_tex/dist"),
        ),
    ),
    Claim(
        5,
        "Class and shape tokens differ when the teacher is shape-biased",
        "The class and shape (distillation) tokens of a shape-distilled DeiT are far less similar "
        "than the class and distillation tokens of a DeiT distilled from an ImageNet CNN.",
        "Final-block cosine similarity 0.35 (DeiT-T) / 0.68 (DeiT-S) shape-distilled against 0.96 / "
        "0.94 texture-distilled.",
        "deit_shape (teacher resnet_sin) against deit_tex (teacher resnet), per block on `shapes` test.",
        (
            Check(
                "final block: texture-distilled vs shape-distilled",
                "token_similarity/final/deit_tex",
                "token_similarity/final/deit_shape",
            ),
        ),
        (
            Panel(
                "class vs distillation token cosine similarity",
                {"deit_shape": "token_similarity/deit_shape", "deit_tex": "token_similarity/deit_tex"},
                "block",
                "cosine similarity",
            ),
        ),
    ),
    Claim(
        6,
        "Segmentation from attention: the shape token segments better",
        "Thresholded attention of shape-biased models segments the object without pixel "
        "supervision; the shape token does better than the class token, and SIN-trained models "
        "better than ImageNet-trained ones.",
        "Table 2 (Jaccard indices, not transcribed here).",
        "Attention of the last block, top 90% of its mass, best head per image (official protocol), "
        "Jaccard against the `shapes` ground-truth mask.",
        (
            Check(
                "shape token vs class token (deit_shape)",
                "segmentation/dist/deit_shape",
                "segmentation/class/deit_shape",
            ),
            Check(
                "stylized-trained vs default-trained class token",
                "segmentation/class/deit_sin",
                "segmentation/class/vit",
            ),
        ),
        (),
        (("deit_tex class", "segmentation/class/deit_tex"), ("deit_tex dist", "segmentation/dist/deit_tex")),
    ),
    Claim(
        7,
        "Corruptions and adversarial attack",
        "ViTs (DeiT with its augmentations) have a lower mCE than CNNs; models trained on stylized "
        "images, shape-biased, are more vulnerable to adversarial attack.",
        "Fig. 10 / 11 (not transcribed here); ResNet50 is the mCE reference of 1.0 here as in ours.",
        "mCE over 8 ImageNet-C corruptions x severities 1/3/5, normalised by the ResNet of the same "
        "seed (=1.0); our ViT is trained with flips only, not DeiT's augmentation. FGSM / PGD (5 "
        "steps) at 1, 2, 4 /255, accuracy retained above chance relative to clean.",
        (
            Check("ViT mCE below the ResNet's 1.0", "corruption/mce/vit", 1.0, "<"),
            Check(
                "PGD at 4/255: ViT vs stylized-trained DeiT",
                "adversarial/pgd/relative_max_eps/vit",
                "adversarial/pgd/relative_max_eps/deit_sin",
            ),
            Check(
                "PGD at 4/255: ResNet vs stylized-trained ResNet",
                "adversarial/pgd/relative_max_eps/resnet",
                "adversarial/pgd/relative_max_eps/resnet_sin",
            ),
        ),
        (
            Panel(
                "PGD accuracy vs epsilon",
                _per_model("adversarial/pgd", ("vit", "deit_sin", "resnet", "resnet_sin")),
                "epsilon (x/255)",
                "top-1",
            ),
            Panel(
                "FGSM accuracy vs epsilon",
                _per_model("adversarial/fgsm", ("vit", "deit_sin", "resnet", "resnet_sin")),
                "epsilon (x/255)",
                "top-1",
            ),
        ),
        tuple((f"mCE {m}", f"corruption/mce/{m}") for m in ("deit_shape", "deit_sin"))
        + tuple((f"clean error {m}", f"corruption/clean_error/{m}") for m in ("vit", "resnet")),
    ),
    Claim(
        8,
        "Off-the-shelf features: the last blocks, concatenated, transfer best",
        "Class tokens of the last 4 blocks, concatenated, give better off-the-shelf features than "
        "the last block alone, and ViT features transfer better than CNN features.",
        "Fig. 12 (per-block accuracy, not transcribed here).",
        "Models trained on `shapes`, frozen; logistic regression on Fashion-MNIST (1000 test images, "
        "half to fit, half to score) per block and on the last-4 concatenation.",
        (
            Check("ViT: last-4 concatenation vs last block", "probe/last4_concat/vit", "probe/last_block/vit"),
            Check(
                "DeiT (shape): last-4 concatenation vs last block",
                "probe/last4_concat/deit_shape",
                "probe/last_block/deit_shape",
            ),
            Check("ViT vs ResNet, best block", "probe/best_block/vit", "probe/best_block/resnet"),
        ),
        (
            Panel(
                "linear probe on Fashion-MNIST per block",
                _per_model("probe", ("vit", "deit_shape", "resnet")),
                "relative depth",
                "top-1",
            ),
        ),
    ),
)

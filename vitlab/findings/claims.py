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


def heading(claim):
    """The markdown lines that open a claim's section in a report: its title, what the paper says
    and the paper's own numbers."""
    return [
        f"## {claim.number}. {claim.title}",
        "",
        f"**Paper.** {claim.statement}",
        "",
        f"**Paper's number.** {claim.paper_number}",
        "",
    ]


OCCLUDED = ("vit", "vit_nopos", "deit_shape", "resnet")


def _per_model(prefix, models=OCCLUDED):
    return {model: f"{prefix}/{model}" for model in models}


CLAIMS = (
    Claim(
        1,
        "Occlusion: ViTs keep more accuracy under PatchDrop than a CNN",
        "Under random, salient (foreground) and non-salient (background) PatchDrop, DeiT/ViT/T2T "
        "models keep far more top-1 accuracy than ResNet50 and other CNNs, over the whole curve.",
        "Sec. 3.1, Fig. 3 (curves; random drop is a mean of 5 runs): at 50% random drop ResNet50 gets "
        "0.1% ImageNet top-1 and DeiT-S 70%; DeiT-B still 37% at 90%; Sec. 1: DeiT keeps about 60% at "
        "80% random drop where the CNN is at zero. Salient / non-salient: Fig. 3 curves only; App. G, "
        "Fig. 27 caption: DeiT-B 81.7% clean, 75.5 / 68.1 / 71.3% at 50% random / non-salient / salient "
        "drop.",
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
        "Table 1 (Sec. 3.1; last-block class token of the ViTs, pre-logit features of ResNet50; random "
        "PatchDrop 25 / 50 / 75%, ImageNet val): ResNet50 0.32 / 0.13 / 0.07, DeiT-B 0.90 / 0.77 / 0.56, "
        "ViT-L 0.92 / 0.81 / 0.50, TnT-S 0.83 / 0.67 / 0.46, T2T-24 0.80 / 0.60 / 0.31. No per-block "
        "numbers; Fig. 5 (per superclass at 50%) is a plot only.",
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
        "Sec. 3.3, Fig. 10 (curves only): DeiT keeps accuracy better than CNNs as the shuffle grid "
        "changes, peaking when the grid equals the 14x14 training patches; a DeiT-T trained without "
        "positional encoding is more permutation-invariant. Fig. 11 (patch size), curves only. The text "
        "gives no numbers; the official README lists 68.3% clean top-1 for that DeiT-T.",
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
        "Sec. 3.2, Fig. 6 (plots only): DeiT-S more shape-biased than ResNet50, SIN-trained DeiT-S at "
        "human level. Table 3 shape bias: DeiT-T-SIN 0.87, DeiT-S-SIN 0.93 (ImageNet top-1 40.5 / "
        "52.5%); shape-distilled from ResNet50-SIN, class token 0.35 / 0.39 against shape token 0.44 / "
        "0.47 (top-1 71.8 / 75.3% and 63.4 / 67.7%), DeiT-T / DeiT-S.",
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
        "Sec. 3.2 (Shape Distillation): class vs shape token cosine similarity, averaged over ImageNet "
        "val, is 0.35 (DeiT-T-SIN distilled) and 0.68 (DeiT-S-SIN distilled), against 0.96 (DeiT-T) and "
        "0.94 (DeiT-S) for the class and distillation tokens of the original DeiT. One value per model; "
        "no per-block numbers.",
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
        "Jaccard table of Sec. 3.2 (Table 4 in the NeurIPS text; PASCAL VOC12 val, threshold 0.9), "
        "DeiT-T / DeiT-S: random init 19.6 / 22.0, ImageNet 32.2 / 29.2, SIN 29.4 / 37.5, "
        "shape-distilled class token 40.0 / 42.0, shape token 42.2 / 42.4. SIN training beats ImageNet "
        "training for DeiT-S, not for DeiT-T.",
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
        "Sec. 3.4, mCE table (Table 4 in the NeurIPS text; %, lower is better, not normalised to "
        "ResNet50): with augmentations DeiT-B 48.5, DeiT-S 54.6, DeiT-T 71.1, ResNet50 (AugMix) 65.3; "
        "without: ResNet50 76.7, ResNet50-SIN 77.3, DeiT-S-SIN 84.0, DeiT-T-SIN 94.4. FGSM / PGD (5 "
        "steps): Fig. 13, curves only; adversarial patch: Fig. 12, curves only.",
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
        "Sec. 3.5, Table 5 (DeiT-S, linear classifier on frozen tokens): class tokens of blocks 9-12 "
        "concatenated give the best CUB (73.58%) and iNaturalist (45.15%) top-1, above the last block "
        "alone (68.16-70.66% and 38.28-41.22%); on Flowers all 12 blocks do best (91.38%). Per-block "
        "ImageNet accuracy (Fig. 15) and ViT vs ResNet50 transfer (Fig. 16): plots only.",
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

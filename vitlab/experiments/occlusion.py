"""PatchDrop occlusion (paper Sec. 3.1, Fig. 3-5): accuracy against information loss.

Modes (any subset, all evaluated in one pass over the data):
  random            drop a fraction of the cells of a grid, per image at random, R repeats;
  salient           drop the foreground of one saliency model's class-token attention
  non_salient       (cumulative mass > 1 - lambda, official `--dino`: DINO ViT-S/16, head 1
                    of the last block), or everything but it; the same mask for every model;
  mask_salient      drop a fraction of cells, ground-truth foreground cells first
  mask_non_salient  (or background first), random among equals (datasets with masks);
  lesion            official: zero int(rate x tokens) tokens once at the input of a block, or
                    a Bernoulli cell mask at a ResNet drop point; key_mask: dropped tokens
                    stop being attended from that block on.
The default grid depends on the image size alone (vitlab/protocol/occlusion.py); the
paper's constants and their official sources are in vitlab/protocol and docs/protocol.md.
Information loss for random/mask modes is the fraction of cells dropped (pixels dropped is
stored next to it); for salient modes the x axis is lambda and the fraction of pixels
actually dropped is stored and tabulated. Error bars are the std over repeats.
Dropped pixels are black (`fill`, the official code's), or the evaluated images' mean colour,
or per-image uniform noise, to check that a result does not hinge on the fill.
"""

import dataclasses

import numpy as np

from vitlab.config import ConfigError
from vitlab.experiments import heads, occlusion_tables
from vitlab.experiments.base import Experiment, Metric
from vitlab.experiments.grids import resolve_grid
from vitlab.experiments.occlusion_sweep import (
    LesionSweep,
    ModelSweep,
    PixelScores,
    SaliencyMass,
    Source,
    rank_variant,
    saliency_variant,
)
from vitlab.experiments.scoring import Tally
from vitlab.perturb import patch_drop
from vitlab.protocol import lesion as lesion_protocol
from vitlab.protocol import occlusion as occlusion_protocol
from vitlab.protocol import saliency as saliency_protocol

MODES = ("random", "salient", "non_salient", "mask_salient", "mask_non_salient", "lesion")


@dataclasses.dataclass
class Config:
    modes: list[str] = dataclasses.field(default_factory=lambda: ["random", "salient", "non_salient"])
    levels: list[float] = dataclasses.field(default_factory=lambda: list(occlusion_protocol.PAPER_DROP_FRACTIONS))
    grid: str = ""  # "" = default_grid(image size): 14x14 at 224 (the paper's), 8x8 at 32; "RxC"; "pixel"
    grid_offset: list[int] = dataclasses.field(default_factory=lambda: [0, 0])  # (dy, dx) px; paper's offset: [8, 8]
    fill: str = "black"  # what dropped pixels become: black (official), mean (data's colour), noise (uniform)
    repeats: int = 3
    lambdas: list[float] = dataclasses.field(default_factory=lambda: list(saliency_protocol.PAPER_LAMBDAS))
    saliency_model: str = ""  # masks every model (paper: DINO, vit_small_patch16_224_dino); "" + masks: 1st ViT
    saliency_block: int = saliency_protocol.DINO_BLOCK
    saliency_head: int = saliency_protocol.DINO_HEAD  # official --dino: head 1 of the last block; -1 = mean of heads
    saliency_token: str = "class"  # or "dist" (the shape token)
    saliency_normalization: str = saliency_protocol.PAPER_NORMALIZATION  # the evaluated model's mean/std; or "own"
    lesion_blocks: list[int] = dataclasses.field(default_factory=lambda: list(lesion_protocol.PAPER_BLOCKS))
    lesion_levels: list[float] = dataclasses.field(default_factory=lambda: list(lesion_protocol.PAPER_RATES))
    lesion_variant: str = "official"  # official: zero tokens once (deit.py); key_mask: dropped tokens stop being keys
    head: str = "average"  # which DeiT head is scored: average, class, dist
    top_k: int = 5

    def validate(self):
        unknown = [m for m in self.modes if m not in MODES]
        if unknown or not self.modes:
            raise ConfigError(f"modes: unknown {unknown or 'empty list'}; choose from {', '.join(MODES)}")
        for key in ("levels", "lesion_levels"):
            if not getattr(self, key) or any(not 0.0 <= v <= 1.0 for v in getattr(self, key)):
                raise ConfigError(f"{key}: fractions must lie in [0, 1], got {getattr(self, key)}")
        if not self.lambdas or any(not 0.0 < v <= 1.0 for v in self.lambdas):
            raise ConfigError(f"lambdas: values must lie in (0, 1], got {self.lambdas}")
        if self.repeats < 1:
            raise ConfigError(f"repeats: must be >= 1, got {self.repeats}")
        if len(self.grid_offset) != 2 or min(self.grid_offset) < 0:
            raise ConfigError(f"grid_offset: expected two non-negative pixel counts, got {self.grid_offset}")
        if self.fill not in patch_drop.FILLS:
            raise ConfigError(f"fill: expected one of {', '.join(patch_drop.FILLS)}, got {self.fill!r}")
        if self.lesion_variant not in lesion_protocol.VARIANTS:
            raise ConfigError(
                f"lesion_variant: expected one of {', '.join(lesion_protocol.VARIANTS)}, got {self.lesion_variant!r}"
            )
        if self.saliency_normalization not in saliency_protocol.NORMALIZATIONS:
            raise ConfigError(
                f"saliency_normalization: expected one of {', '.join(saliency_protocol.NORMALIZATIONS)}, "
                f"got {self.saliency_normalization!r}"
            )
        if self.saliency_token not in ("class", "dist"):
            raise ConfigError(f"saliency_token: expected class or dist, got {self.saliency_token!r}")
        heads.check_head(self.head)
        if self.top_k < 1:
            raise ConfigError(f"top_k: must be >= 1, got {self.top_k}")


def input_stats(adapter):
    """(mean, std) a model's input is normalised with, or None (a plain classifier fed [0, 1])."""
    holder = adapter.model if adapter.kind != "classifier" else adapter
    mean, std = getattr(holder, "mean", None), getattr(holder, "std", None)
    return None if mean is None or std is None else (tuple(map(float, mean)), tuple(map(float, std)))


def saliency_sources(adapters, config, has_mask=True):
    """{model name: SaliencyMass} for the salient modes: one saliency model for every model; its
    input normalised with each evaluated model's statistics (the official default) or its own."""
    from vitlab.models.adapter import resolve

    named = {a.name: a for a in adapters}
    choice, _ = saliency_protocol.choose_saliency_model(
        config.saliency_model, has_mask, [a.name for a in adapters if a.is_transformer]
    )
    model = named.get(choice) or resolve(choice)
    if not model.is_transformer:
        raise ConfigError(f"saliency_model: {model.name!r} is not a vision transformer")
    heads = model.model.num_heads
    if config.saliency_head >= heads:
        raise ConfigError(f"saliency_head: {config.saliency_head} but {model.name!r} has {heads} heads")
    if config.saliency_token == "dist" and not model.has_dist_token:
        raise ConfigError(f"saliency_token: {model.name!r} has no distillation (shape) token")
    head = None if config.saliency_head < 0 else config.saliency_head
    token = 1 if config.saliency_token == "dist" else 0
    built, out = {}, {}
    for adapter in adapters:
        stats = input_stats(adapter) if config.saliency_normalization == "evaluated" else None
        provider = SaliencyMass(model, config.saliency_block, head, token, input_stats=stats)
        out[adapter.name] = built.setdefault(provider.key, provider)  # one mask per distinct normalisation
    return out


def check(adapters, data, config):
    """Refusals that depend on the modes asked for: masks in the data, blocks in the models."""
    if any(m.startswith("mask") for m in config.modes) and not data.has_mask:
        raise ConfigError(
            f"modes: mask_salient / mask_non_salient need foreground masks; dataset {data.name!r} has none"
        )
    if "lesion" in config.modes:
        depths = [lesion_depth(a, config) for a in adapters]
        if config.lesion_blocks == list(lesion_protocol.PAPER_BLOCKS):  # the default: what every model has
            config.lesion_blocks = [b for b in config.lesion_blocks if all(b < d for d in depths)] or [0]
        for adapter, depth in zip(adapters, depths):
            if adapter.kind == "classifier" or any(not -depth <= b < depth for b in config.lesion_blocks):
                raise ConfigError(
                    f"lesion_blocks: {config.lesion_blocks} not valid for {adapter.name!r} "
                    f"({depth} blocks / drop points)"
                )


def lesion_depth(adapter, config):
    """Lesion depths: transformer blocks; ResNet stages, or with the official variant its drop
    points 1..5 as 0..4 (0: after the stem, official vit_models/resnet.py)."""
    if adapter.kind == "cnn" and config.lesion_variant == "official":
        return adapter.num_blocks + 1
    return adapter.num_blocks


def plan(adapters, config, height, width, providers):
    """Sources shared by all models and each model's variant list."""
    rows, cols = resolve_grid(config.grid, adapters, height, width)
    sources, variants = [], {a.name: [] for a in adapters}
    kinds = {"random": "random", "mask_salient": "mask_fg", "mask_non_salient": "mask_bg"}
    for mode in [m for m in config.modes if m in kinds]:
        for repeat in range(config.repeats):
            offset = tuple(config.grid_offset) if mode == "random" else (0, 0)
            sources.append(Source(kinds[mode], rows, cols, offset, repeat))
            for level in config.levels:
                for name in variants:
                    variants[name].append(rank_variant(mode, level, repeat, len(sources) - 1, rows * cols))
    if any(m in config.modes for m in ("salient", "non_salient")):
        index = {}
        for name, provider in providers.items():
            if provider.key not in index:
                sources.append(Source("saliency", *provider.grid, saliency_key=provider.key))
                index[provider.key] = len(sources) - 1
            for mode in [m for m in ("salient", "non_salient") if m in config.modes]:
                variants[name] += [saliency_variant(mode, lam, index[provider.key]) for lam in config.lambdas]
    return (rows, cols), sources, variants


def mean_colour(data):
    """(C,) float32 per-channel mean of all the images of `data` in [0, 1]: fill=mean's colour
    (one extra pass over the data, computed in float64)."""
    total, count = 0.0, 0
    for batch in data.batches():
        images = np.asarray(batch["image"], np.float64)
        total = total + images.reshape(-1, images.shape[-1]).sum(axis=0)
        count += images.shape[0] * images.shape[1] * images.shape[2]
    return (total / max(count, 1)).astype(np.float32)


def batch_fill(config, colour, seed, indices, images):
    """What ModelSweep fills dropped pixels with for one batch: None (black), a colour, or noise."""
    if config.fill == "mean":
        return colour
    if config.fill == "noise":
        return patch_drop.noise_fill(seed, indices, np.shape(images)[1:])
    return None


def run(adapters, data, config, context):
    height = width = data.image_size
    providers = (
        saliency_sources(adapters, config, data.has_mask) if {"salient", "non_salient"} & set(config.modes) else {}
    )
    grid, sources, variants = plan(adapters, config, height, width, providers)
    scores_fn = PixelScores(sources, height, width, context.seed) if sources else None
    sweeps = {a.name: ModelSweep(a, variants[a.name], config.head, config.top_k) for a in adapters if variants[a.name]}
    colour = mean_colour(data) if sweeps and config.fill == "mean" else None
    masses_fns = {p.key: p for p in providers.values()}
    tallies = {a.name: Tally(len(variants[a.name]), data.num_classes) for a in adapters}
    lesions, lesion_tallies = {}, {}
    total, done, scores = data.num_batches or 0, 0, None
    for batch in data.batches():
        images, labels, indices = batch["image"], batch["label"], batch["index"]
        if scores_fn is not None:
            masses = {key: fn(images) for key, fn in masses_fns.items()}
            scores = scores_fn(indices, batch.get("mask"), masses)
        fill = batch_fill(config, colour, context.seed, indices, images) if sweeps else None
        for adapter in adapters:
            if adapter.name in sweeps:
                hits1, hitsk, dropped = sweeps[adapter.name](images, labels, scores, fill)
                tallies[adapter.name].add(hits1, hitsk, labels, dropped)
            if "lesion" in config.modes:
                for block in config.lesion_blocks:
                    key = (adapter.name, block)
                    if key not in lesions and config.lesion_variant == "official":
                        lesions[key] = lesion_protocol.OfficialLesion(
                            adapter,
                            block % lesion_depth(adapter, config),
                            config.lesion_levels,
                            config.repeats,
                            context.seed,
                            config.head,
                            config.top_k,
                        )
                        lesion_tallies[key] = Tally(len(lesions[key].counts), data.num_classes)
                    if key not in lesions:
                        lesions[key] = LesionSweep(
                            adapter,
                            block,
                            config.lesion_levels,
                            config.repeats,
                            context.seed,
                            config.head,
                            config.top_k,
                            sample=images,
                        )
                        lesion_tallies[key] = Tally(len(lesions[key].counts), data.num_classes)
                    hits1, hitsk = lesions[key](images, labels, indices)
                    lesion_tallies[key].add(hits1, hitsk, labels)
        done += 1
        context.progress(done, max(total, done))
    result = occlusion_tables.build_result(adapters, data, config, grid, variants, tallies, lesion_tallies, providers)
    if colour is not None:
        result.config["fill_mean"] = [float(c) for c in colour]
        result.notes.append(
            f"dropped pixels filled with the evaluated images' mean colour {result.config['fill_mean']}"
        )
    elif sweeps and config.fill == "noise":
        result.notes.append(f"dropped pixels filled with uniform noise in [0, 1], per image from seed {context.seed}")
    return result


EXPERIMENT = Experiment(
    name="occlusion",
    description="PatchDrop: accuracy vs information loss (random, salient, non-salient, mask, lesion).",
    Config=Config,
    run=run,
    check=check,
    metrics=(
        Metric("top1_{mode}_{level}", "top-1 accuracy at the level nearest 50% of cells dropped"),
        Metric("top1_{mode}_lambda{lambda}", "top-1 accuracy at the lambda nearest 0.5 (saliency modes)"),
    ),
    smoke=dict(levels=[0.0, 0.5], lambdas=[0.5], repeats=1),
)

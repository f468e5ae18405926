"""PatchDrop occlusion (paper Sec. 3.1, Fig. 3-5): accuracy against information loss.

Modes (any subset, all evaluated in one pass over the data):
  random            drop a fraction of the cells of a grid, per image at random, R repeats;
  salient           drop the foreground of a ViT's class-token attention (cumulative mass
  non_salient       > 1 - lambda, official `--dino`), or everything but it;
  mask_salient      drop a fraction of cells, ground-truth foreground cells first
  mask_non_salient  (or background first), random among equals (datasets with masks);
  lesion            drop a fraction of tokens at the input of a transformer block (they stop
                    being attended from there on), or of the cells after a ResNet stage.
Information loss for random/mask modes is the fraction of cells dropped (pixels dropped is
stored next to it); for salient modes the x axis is lambda and the fraction of pixels
actually dropped is stored and tabulated. Error bars are the std over repeats.
"""

import dataclasses

from vitlab.config import ConfigError
from vitlab.experiments import heads, occlusion_report
from vitlab.experiments.base import Experiment, Metric
from vitlab.experiments.grids import resolve_grid
from vitlab.experiments.occlusion_sweep import (LesionSweep, ModelSweep, PixelScores, SaliencyMass, Source,
                                                rank_variant, saliency_variant)
from vitlab.experiments.scoring import Tally

MODES = ("random", "salient", "non_salient", "mask_salient", "mask_non_salient", "lesion")


@dataclasses.dataclass
class Config:
    modes: list[str] = dataclasses.field(default_factory=lambda: ["random", "salient", "non_salient"])
    levels: list[float] = dataclasses.field(default_factory=lambda: [i / 10 for i in range(10)])
    grid: str = ""  # "" = the first ViT's patch grid (else 14x14, the paper's); "RxC"; "pixel"
    grid_offset: list[int] = dataclasses.field(default_factory=lambda: [0, 0])  # pixels (dy, dx)
    repeats: int = 3
    lambdas: list[float] = dataclasses.field(default_factory=lambda: [i / 10 for i in range(1, 11)])
    saliency_model: str = ""  # "" = each ViT itself; CNNs use the first ViT given
    saliency_block: int = -1
    saliency_head: int = 1  # official --dino uses head 1 of the last block; -1 = mean of heads
    saliency_token: str = "class"  # or "dist" (the shape token)
    lesion_blocks: list[int] = dataclasses.field(default_factory=lambda: [0, 1])
    lesion_levels: list[float] = dataclasses.field(default_factory=lambda: [0.25, 0.5, 0.75])
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
        if self.saliency_token not in ("class", "dist"):
            raise ConfigError(f"saliency_token: expected class or dist, got {self.saliency_token!r}")
        heads.check_head(self.head)
        if self.top_k < 1:
            raise ConfigError(f"top_k: must be >= 1, got {self.top_k}")


def saliency_sources(adapters, config):
    """{model name: SaliencyMass} for the salient modes; one provider per saliency model."""
    from vitlab.models.adapter import resolve

    if config.saliency_model:
        named = {a.name: a for a in adapters}
        model = named.get(config.saliency_model) or resolve(config.saliency_model)
        providers = {a.name: model for a in adapters}
    else:
        vits = [a for a in adapters if a.is_transformer]
        if not vits:
            raise ConfigError("saliency_model: salient / non_salient modes need a vision transformer; "
                              "name one with saliency_model=NAME")
        providers = {a.name: (a if a.is_transformer else vits[0]) for a in adapters}
    built = {}
    for model in providers.values():
        if model.name in built:
            continue
        if not model.is_transformer:
            raise ConfigError(f"saliency_model: {model.name!r} is not a vision transformer")
        heads = model.model.num_heads
        if config.saliency_head >= heads:
            raise ConfigError(f"saliency_head: {config.saliency_head} but {model.name!r} has {heads} heads")
        if config.saliency_token == "dist" and not model.has_dist_token:
            raise ConfigError(f"saliency_token: {model.name!r} has no distillation (shape) token")
        head = None if config.saliency_head < 0 else config.saliency_head
        token = 1 if config.saliency_token == "dist" else 0
        built[model.name] = SaliencyMass(model, config.saliency_block, head, token)
    return {name: built[model.name] for name, model in providers.items()}


def check(adapters, data, config):
    """Refusals that depend on the modes asked for: masks in the data, blocks in the models."""
    if any(m.startswith("mask") for m in config.modes) and not data.has_mask:
        raise ConfigError(f"modes: mask_salient / mask_non_salient need foreground masks; "
                          f"dataset {data.name!r} has none")
    if "lesion" in config.modes:
        for adapter in adapters:
            if adapter.kind == "classifier" or any(not -adapter.num_blocks <= b < adapter.num_blocks
                                                   for b in config.lesion_blocks):
                raise ConfigError(f"lesion_blocks: {config.lesion_blocks} not valid for {adapter.name!r} "
                                  f"({adapter.num_blocks} blocks/stages)")


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
            if provider.adapter.name not in index:
                sources.append(Source("saliency", *provider.grid, saliency_key=provider.adapter.name))
                index[provider.adapter.name] = len(sources) - 1
            for mode in [m for m in ("salient", "non_salient") if m in config.modes]:
                variants[name] += [saliency_variant(mode, lam, index[provider.adapter.name]) for lam in config.lambdas]
    return (rows, cols), sources, variants


def run(adapters, data, config, context):
    height = width = data.image_size
    providers = saliency_sources(adapters, config) if {"salient", "non_salient"} & set(config.modes) else {}
    grid, sources, variants = plan(adapters, config, height, width, providers)
    scores_fn = PixelScores(sources, height, width, context.seed) if sources else None
    sweeps = {a.name: ModelSweep(a, variants[a.name], config.head, config.top_k) for a in adapters if variants[a.name]}
    masses_fns = {p.adapter.name: p for p in providers.values()}
    tallies = {a.name: Tally(len(variants[a.name]), data.num_classes) for a in adapters}
    lesions, lesion_tallies = {}, {}
    total, done, scores = data.num_batches or 0, 0, None
    for batch in data.batches():
        images, labels, indices = batch["image"], batch["label"], batch["index"]
        if scores_fn is not None:
            masses = {key: fn(images) for key, fn in masses_fns.items()}
            scores = scores_fn(indices, batch.get("mask"), masses)
        for adapter in adapters:
            if adapter.name in sweeps:
                hits1, hitsk, dropped = sweeps[adapter.name](images, labels, scores)
                tallies[adapter.name].add(hits1, hitsk, labels, dropped)
            if "lesion" in config.modes:
                for block in config.lesion_blocks:
                    key = (adapter.name, block)
                    if key not in lesions:
                        lesions[key] = LesionSweep(adapter, block, config.lesion_levels, config.repeats, context.seed,
                                                   config.head, config.top_k, sample=images)
                        lesion_tallies[key] = Tally(len(lesions[key].counts), data.num_classes)
                    hits1, hitsk = lesions[key](images, labels, indices)
                    lesion_tallies[key].add(hits1, hitsk, labels)
        done += 1
        context.progress(done, max(total, done))
    return occlusion_report.build_result(adapters, data, config, grid, variants, tallies, lesion_tallies,
                                         providers)


EXPERIMENT = Experiment(
    name="occlusion",
    description="PatchDrop: accuracy vs information loss (random, salient, non-salient, mask, lesion).",
    Config=Config,
    run=run,
    check=check,
    metrics=(Metric("top1_{mode}_{level}", "top-1 accuracy at the level nearest 50% of cells dropped"),
             Metric("top1_{mode}_lambda{lambda}", "top-1 accuracy at the lambda nearest 0.5 (saliency modes)")),
    smoke=dict(levels=[0.0, 0.5], lambdas=[0.5], repeats=1),
)

"""Class-token attention maps per block and head, clean and occluded (paper Fig. 5): a
picture of how a ViT's attention moves onto the visible patches when some are dropped.

For a few sample images, every ViT draws one PNG grid per image and condition (rows =
blocks, columns = heads plus the head mean, first column the input), and the run stores
the maps. A curve gives, per block, the share of class-token attention that lands on the
patches left visible by a random PatchDrop (chance = the visible fraction).
"""

import dataclasses

import numpy as np
from keras import ops

from vitlab.config import ConfigError
from vitlab.experiments.base import Experiment, Metric, Requires
from vitlab.perturb import patch_drop
from vitlab.perturb.compiled import compile_fn
from vitlab.results.result import Curve, Result, Table


@dataclasses.dataclass
class Config:
    num_images: int = 4
    level: float = 0.5  # fraction of patches dropped (random, per image) for the occluded maps
    token: str = "class"  # or "dist" (shape token)

    def validate(self):
        if self.num_images < 1:
            raise ConfigError(f"num_images: must be >= 1, got {self.num_images}")
        if not 0.0 <= self.level < 1.0:
            raise ConfigError(f"level: must lie in [0, 1), got {self.level}")
        if self.token not in ("class", "dist"):
            raise ConfigError(f"token: expected class or dist, got {self.token!r}")


def token_attention(adapter, images, token):
    """(B, blocks, heads, rows, cols) attention of a prefix token to the patches (NumPy)."""
    fn = compile_fn(lambda x: _token_attention(adapter, x, token))
    return ops.convert_to_numpy(fn(ops.convert_to_tensor(images, "float32")))


def _token_attention(adapter, images, token):
    out = adapter.forward(images, attention=True)
    rows, cols = adapter.patch_grid
    maps = ops.stack([a[:, :, token, adapter.num_prefix_tokens :] for a in out["attention"]], axis=1)
    return ops.reshape(maps, (-1, len(out["attention"]), int(maps.shape[2]), rows, cols))


def draw_grid(image, maps, title, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    blocks, heads = maps.shape[0], maps.shape[1]
    fig, axes = plt.subplots(blocks, heads + 2, figsize=(1.4 * (heads + 2), 1.4 * blocks + 0.5), squeeze=False)
    for b in range(blocks):
        axes[b, 0].imshow(np.clip(image, 0, 1))
        panels = list(maps[b]) + [maps[b].mean(axis=0)]
        for h, panel in enumerate(panels):
            axes[b, h + 1].imshow(panel, cmap="inferno")
            if b == 0:
                axes[b, h + 1].set_title("mean" if h == heads else f"head {h}", fontsize=7)
        axes[b, 0].set_ylabel(f"block {b + 1}", fontsize=7)
        for ax in axes[b]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def check(adapters, data, config):
    if config.token == "dist" and not all(a.has_dist_token for a in adapters if a.is_transformer):
        raise ConfigError("token: dist needs models with a distillation (shape) token")


def run(adapters, data, config, context):
    images, indices, taken = [], [], 0
    for batch in data.batches():
        images.append(batch["image"])
        indices.append(batch["index"])
        taken += len(batch["image"])
        if taken >= config.num_images:
            break
    images = np.concatenate(images)[: config.num_images]
    indices = np.concatenate(indices)[: config.num_images]
    folder = context.output_dir("attention")
    token = 1 if config.token == "dist" else 0
    arrays, files, series, chance, notes = {}, [], {}, {}, []
    for adapter in adapters:
        if not adapter.is_transformer:
            notes.append(f"{adapter.name}: not a transformer, no attention maps")
            continue
        rows, cols = adapter.patch_grid
        size = images.shape[1]
        cell_map = patch_drop.cell_index_map(size, size, rows, cols)
        ranks = patch_drop.random_ranks(context.seed, indices, rows * cols)
        cell_drop = ranks < patch_drop.drop_count(config.level, rows * cols)
        pixel_drop = patch_drop.cells_to_pixels(cell_drop, cell_map, False)
        occluded = ops.convert_to_numpy(patch_drop.drop_pixels(ops.convert_to_tensor(images, "float32"), pixel_drop))
        clean_maps = token_attention(adapter, images, token)
        occluded_maps = token_attention(adapter, occluded, token)
        arrays[f"{adapter.name}/clean"] = clean_maps
        arrays[f"{adapter.name}/occluded"] = occluded_maps
        visible = ~cell_drop.reshape(-1, 1, 1, rows, cols)
        share = (occluded_maps * visible).sum(axis=(-2, -1)) / occluded_maps.sum(axis=(-2, -1))
        arrays[f"{adapter.name}/visible_share"] = share.mean(axis=(0, 2))
        series[adapter.name] = share.mean(axis=(0, 2)).tolist()
        chance[adapter.name] = 1.0 - patch_drop.drop_count(config.level, rows * cols) / (rows * cols)
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in adapter.name)
        for i in range(len(images)):
            for condition, picture, maps in (
                ("clean", images[i], clean_maps[i]),
                ("occluded", occluded[i], occluded_maps[i]),
            ):
                path = folder / f"{safe}-image{int(indices[i])}-{condition}.png"
                draw_grid(
                    picture, maps, f"{adapter.name}: image {int(indices[i])}, {condition}, {config.token} token", path
                )
                files.append(context.relative(path))
    depth = max(len(v) for v in series.values())
    curve = Curve(
        title=f"Attention on visible patches ({int(config.level * 100)}% dropped)",
        x_label="block",
        y_label="share of class-token attention",
        x=list(range(1, depth + 1)),
        series=series,
    )
    table = Table(
        title="Attention share on visible patches, last block",
        columns=["model", "share", "chance"],
        rows=[[n, float(v[-1]), chance[n]] for n, v in series.items()],
    )
    summary = {f"visible_share_last/{n}": float(v[-1]) for n, v in series.items()}
    return Result(
        experiment="attention",
        config={},
        models=[a.name for a in adapters],
        arrays=arrays,
        curves=[curve],
        tables=[table],
        summary=summary,
        images=files,
        notes=notes,
    )


EXPERIMENT = Experiment(
    name="attention",
    description="Class-token attention maps per block and head, clean and occluded.",
    Config=Config,
    run=run,
    requires=Requires(some=("attention",)),
    check=check,
    metrics=(Metric("visible_share_last", "share of the last block's token attention on visible patches"),),
    smoke=dict(num_images=2),
)

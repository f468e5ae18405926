"""The compiled per-batch work of a PatchDrop sweep (used by occlusion, correlation and the
benchmark): one pass over the data evaluates every level of every mode for every model.

Per batch: (1) each saliency model's attention mass is computed once (`SaliencyMass`);
(2) every random / mask / saliency choice becomes one per-pixel score map (`PixelScores`),
shared by all models; (3) each model runs one compiled loop over the variants of the sweep
(`ModelSweep`): a variant drops the pixels whose score is < its threshold (or >= it, when
inverted), runs the model and records top-1 / top-5 hits and the fraction dropped.
Dropped pixels are black (0) unless the call passes a fill (a colour, or per-pixel values).
A variant's whole cost beyond the bare forward pass is one compare and one multiply.
Per-image choices come from the host (vitlab.perturb.image_rng, NumPy); everything else is
keras.ops compiled by vitlab.perturb.compiled (tf.function / jax.jit), so the sweep runs
and agrees on TensorFlow and JAX.
"""

import dataclasses

import numpy as np
from keras import ops

from vitlab import compilation
from vitlab.experiments.scoring import top_k_hits
from vitlab.perturb import patch_drop, saliency
from vitlab.perturb.compiled import compile_fn, stack_loop
from vitlab.protocol import segmentation


@dataclasses.dataclass(frozen=True)
class Source:
    """One per-image choice of what to drop first, as a per-pixel score map."""

    kind: str  # "random" | "mask_fg" | "mask_bg" | "saliency"
    rows: int
    cols: int
    offset: tuple = (0, 0)
    repeat: int = 0
    saliency_key: str = ""  # for kind "saliency": which SaliencyMass provides it


@dataclasses.dataclass(frozen=True)
class Variant:
    """One level of one mode: drop pixels with score < threshold (>= when inverted)."""

    mode: str
    level: float
    repeat: int
    source: int
    threshold: float
    invert: bool = False


def rank_variant(mode, level, repeat, source_index, num_cells):
    return Variant(mode, level, repeat, source_index, float(patch_drop.drop_count(level, num_cells)))


def saliency_variant(mode, lam, source_index):
    """salient: drop the foreground (mass > 1 - lam, i.e. -mass < lam - 1); non-salient: the rest."""
    return Variant(mode, lam, 0, source_index, float(np.float32(lam) - np.float32(1.0)), invert=(mode == "non_salient"))


class SaliencyMass:
    """Cumulative class-token attention mass per patch of one ViT: (B, rows, cols), once per batch.

    input_stats: (mean, std) the saliency model's input is normalised with instead of its own
    (the official evaluate.py normalises DINO's input with the evaluated model's statistics);
    the images are shifted so that the model's own normalisation yields exactly that. `key`
    tells masks of one model under different statistics apart."""

    def __init__(self, adapter, block=-1, head=None, token=0, input_stats=None):
        if not adapter.is_transformer:
            raise ValueError(f"saliency model {adapter.name!r} is not a vision transformer")
        self.adapter, self.block, self.head, self.token = adapter, block, head, token
        self.grid = adapter.patch_grid
        own = (tuple(adapter.model.mean), tuple(adapter.model.std))
        self.input_stats = (
            None if input_stats is None or tuple(map(tuple, input_stats)) == own else tuple(map(tuple, input_stats))
        )
        self.key = adapter.name if self.input_stats is None else f"{adapter.name}@{self.input_stats}"
        self._fn = compile_fn(self._mass)

    def _restated(self, images):
        """Images x' with (x' - own mean) / own std == (x - mean) / std."""
        if self.input_stats is None:
            return images
        (mean, std), model = self.input_stats, self.adapter.model
        scale = ops.array([o / s for o, s in zip(model.std, std)], "float32")
        shift = ops.array([m_o - m * o / s for m_o, m, o, s in zip(model.mean, mean, model.std, std)], "float32")
        return images * scale + shift

    def _mass(self, images):
        images = self._restated(images)
        attention = self.adapter.cls_attention(images, block=self.block, head=self.head, token=self.token)
        rows, cols = self.grid
        flat = ops.reshape(attention, (-1, rows * cols))
        return ops.reshape(saliency.cumulative_mass(flat), (-1, rows, cols))

    def __call__(self, images):
        return self._fn(ops.convert_to_tensor(images, "float32"))


class PixelScores:
    """Builds the (S, B, H, W) score maps of all sources for a batch: per-cell scores on the
    host (random and mask rankings, NumPy) or from a SaliencyMass, expanded to pixels in
    one compiled call."""

    def __init__(self, sources, height, width, seed):
        self.sources, self.height, self.width, self.seed = list(sources), height, width, int(seed)
        self.maps = [patch_drop.cell_index_map(height, width, s.rows, s.cols, s.offset) for s in self.sources]
        self.needs_mask = any(s.kind.startswith("mask") for s in self.sources)
        self._fn = compile_fn(self._scores)

    def cell_scores(self, indices, masks):
        """{source position: (B, N) float32 ranks} for the random and mask sources."""
        scores = {}
        for position, (source, cell_map) in enumerate(zip(self.sources, self.maps)):
            if source.kind == "saliency":
                continue
            cells = source.rows * source.cols
            stream = patch_drop.STREAM_DROP if source.kind == "random" else patch_drop.STREAM_MASK_TIEBREAK
            ranks = patch_drop.random_ranks(self.seed, indices, cells, stream=stream, repeat=source.repeat)
            if source.kind != "random":
                fraction = patch_drop.cell_fraction(segmentation.foreground(masks), cell_map, cells)
                ranks = patch_drop.ranks_by_fraction(fraction, ranks, foreground_first=source.kind == "mask_fg")
            scores[str(position)] = ranks.astype(np.float32)
        return scores

    def _scores(self, ranked, masses):
        maps = []
        for position, (source, cell_map) in enumerate(zip(self.sources, self.maps)):
            if source.kind == "saliency":
                scores = -ops.reshape(masses[source.saliency_key], (-1, source.rows * source.cols))
            else:
                scores = ranked[str(position)]
            maps.append(patch_drop.cells_to_pixels(scores, cell_map, np.inf))
        return ops.stack(maps)

    def __call__(self, indices, masks=None, masses=None):
        indices = np.asarray(indices, dtype=np.int64)
        if self.needs_mask:
            masks = np.zeros((len(indices), self.height, self.width), np.float32) if masks is None else masks
        masses = {key: ops.convert_to_tensor(value) for key, value in (masses or {}).items()}
        return self._fn(self.cell_scores(indices, masks), masses)


def _numpy(outputs):
    return tuple(ops.convert_to_numpy(t) for t in outputs)


class ModelSweep:
    """All variants of a sweep for one model: compiled, one loop over the variants."""

    def __init__(self, adapter, variants, head="average", top_k=5):
        self.adapter, self.variants, self.head, self.top_k = adapter, list(variants), head, top_k
        self.source = np.asarray([v.source for v in self.variants], np.int32)
        self.threshold = np.asarray([v.threshold for v in self.variants], np.float32)
        self.invert = np.asarray([v.invert for v in self.variants], bool)
        # XLA for transformers on TensorFlow: 1.3x faster per level for vit_nano (benchmarks/bench_occlusion.py)
        self._fn = compile_fn(self._run, xla=adapter.is_transformer and compilation.xla_enabled())

    def logits(self, images):
        return self.adapter.select_head(self.adapter.forward(images)["heads"], self.head)

    def _run(self, images, labels, scores, fill=None):
        source, threshold = ops.convert_to_tensor(self.source), ops.convert_to_tensor(self.threshold)
        invert = ops.convert_to_tensor(self.invert)

        def variant(v):
            drop = ops.not_equal(
                ops.take(scores, ops.take(source, v), axis=0) < ops.take(threshold, v), ops.take(invert, v)
            )
            top1, topk = top_k_hits(self.logits(patch_drop.fill_pixels(images, drop, fill)), labels, self.top_k)
            return top1, topk, ops.mean(ops.cast(drop, "float32"), axis=(1, 2))

        return stack_loop(len(self.variants), variant, ("bool", "bool", "float32"))

    def __call__(self, images, labels, scores, fill=None):
        """fill: None (black, the official evaluate.py's), a (C,) colour or (B, H, W, C) values."""
        args = [ops.convert_to_tensor(images, "float32"), ops.convert_to_tensor(labels, "int32"), scores]
        return _numpy(self._fn(*args, *([] if fill is None else [ops.convert_to_tensor(fill, "float32")])))


class LesionSweep:
    """Drop a fraction of tokens at the input of a transformer block (token_keep), or of the
    spatial cells after a ResNet stage (stage masks), per image at random; all fractions and
    repeats of one block in one compiled loop."""

    def __init__(self, adapter, block, fractions, repeats, seed, head="average", top_k=5, sample=None):
        self.adapter, self.block, self.head, self.top_k = adapter, int(block), head, top_k
        self.fractions, self.repeats, self.seed = list(fractions), int(repeats), int(seed)
        if adapter.is_transformer:
            self.grid = adapter.patch_grid
        else:
            stages = adapter.forward(sample[:1], tokens=True)["stages"]
            self.grid = tuple(int(d) for d in stages[self.block].shape[1:3])
        cells = self.grid[0] * self.grid[1]
        self.counts = [[patch_drop.drop_count(f, cells), r] for r in range(self.repeats) for f in self.fractions]
        self._fn = compile_fn(self._run)

    def _run(self, images, labels, ranks):
        rows, cols = self.grid
        table = ops.convert_to_tensor(np.asarray(self.counts, np.int32))

        def variant(v):
            keep = ops.take(ranks, table[v, 1], axis=0) >= table[v, 0]
            if self.adapter.is_transformer:
                keep_map = {self.block: keep}
            else:
                keep_map = {self.block: ops.reshape(ops.cast(keep, "float32"), (-1, rows, cols))}
            out = self.adapter.forward(images, token_keep=keep_map)
            return top_k_hits(self.adapter.select_head(out["heads"], self.head), labels, self.top_k)

        return stack_loop(len(self.counts), variant, ("bool", "bool"))

    def __call__(self, images, labels, indices):
        rows, cols = self.grid
        ranks = np.stack(
            [
                patch_drop.random_ranks(self.seed, indices, rows * cols, patch_drop.STREAM_LESION, r)
                for r in range(self.repeats)
            ]
        )
        return _numpy(
            self._fn(
                ops.convert_to_tensor(images, "float32"),
                ops.convert_to_tensor(labels, "int32"),
                ops.convert_to_tensor(ranks),
            )
        )

"""The compiled per-batch work of a PatchDrop sweep (used by occlusion, correlation and the
benchmark): one pass over the data evaluates every level of every mode for every model.

Per batch: (1) each saliency model's attention mass is computed once (`SaliencyMass`);
(2) every random / mask / saliency choice becomes one per-pixel score map (`PixelScores`),
shared by all models; (3) each model runs one compiled loop over the variants of the sweep
(`ModelSweep`): a variant drops the pixels whose score is < its threshold (or >= it, when
inverted), runs the model and records top-1 / top-5 hits and the fraction dropped.
A variant's whole cost beyond the bare forward pass is one compare and one multiply.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from vitlab.perturb import patch_drop, saliency


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
    """Cumulative class-token attention mass per patch of one ViT: (B, rows, cols), once per batch."""

    def __init__(self, adapter, block=-1, head=None, token=0):
        if not adapter.is_transformer:
            raise ValueError(f"saliency model {adapter.name!r} is not a vision transformer")
        self.adapter, self.block, self.head, self.token = adapter, block, head, token
        self.grid = adapter.patch_grid
        self._fn = tf.function(self._mass, reduce_retracing=True)

    def _mass(self, images):
        attention = self.adapter.cls_attention(images, block=self.block, head=self.head, token=self.token)
        rows, cols = self.grid
        flat = tf.reshape(tf.convert_to_tensor(attention), (-1, rows * cols))
        return tf.reshape(saliency.cumulative_mass(flat), (-1, rows, cols))

    def __call__(self, images):
        return self._fn(tf.convert_to_tensor(images, tf.float32))


class PixelScores:
    """Builds the (S, B, H, W) score maps of all sources for a batch in one compiled call."""

    def __init__(self, sources, height, width, seed):
        self.sources, self.height, self.width, self.seed = list(sources), height, width, int(seed)
        self.maps = [patch_drop.cell_index_map(height, width, s.rows, s.cols, s.offset) for s in self.sources]
        self.needs_mask = any(s.kind.startswith("mask") for s in self.sources)
        self._fn = tf.function(self._scores, reduce_retracing=True)

    def _scores(self, indices, masks, masses):
        maps = []
        for source, cell_map in zip(self.sources, self.maps):
            cells = source.rows * source.cols
            if source.kind == "saliency":
                scores = -tf.reshape(masses[source.saliency_key], (-1, cells))
            else:
                stream = patch_drop.STREAM_DROP if source.kind == "random" else patch_drop.STREAM_MASK_TIEBREAK
                ranks = patch_drop.random_ranks(self.seed, indices, cells, stream=stream, repeat=source.repeat)
                if source.kind != "random":
                    fraction = patch_drop.cell_fraction(masks, cell_map, cells)
                    ranks = patch_drop.ranks_by_fraction(fraction, ranks, foreground_first=source.kind == "mask_fg")
                scores = tf.cast(ranks, tf.float32)
            maps.append(patch_drop.cells_to_pixels(scores, cell_map, np.inf))
        return tf.stack(maps)

    def __call__(self, indices, masks=None, masses=None):
        indices = tf.convert_to_tensor(indices, tf.int64)
        if masks is None:
            masks = tf.zeros((tf.shape(indices)[0], self.height, self.width), tf.float32)
        masses = {key: tf.convert_to_tensor(value) for key, value in (masses or {}).items()}
        return self._fn(indices, tf.convert_to_tensor(masks, tf.float32), masses)


def top_k_hits(logits, labels, k):
    labels = tf.cast(labels, tf.int32)
    top1 = tf.equal(tf.cast(tf.argmax(logits, axis=-1), tf.int32), labels)
    top = tf.math.top_k(logits, k=min(k, int(logits.shape[-1]))).indices
    topk = tf.reduce_any(tf.equal(top, labels[:, None]), axis=-1)
    return top1, topk


class ModelSweep:
    """All variants of a sweep for one model: compiled, one while-loop over the variants."""

    def __init__(self, adapter, variants, head="average", top_k=5):
        self.adapter, self.variants, self.head, self.top_k = adapter, list(variants), head, top_k
        self.source = tf.constant([v.source for v in self.variants], tf.int32)
        self.threshold = tf.constant([v.threshold for v in self.variants], tf.float32)
        self.invert = tf.constant([v.invert for v in self.variants], tf.bool)
        # XLA for transformers: 1.3x faster per level for vit_nano (benchmarks/bench_occlusion.py)
        self._fn = tf.function(self._run, reduce_retracing=True, jit_compile=adapter.is_transformer)

    def logits(self, images):
        return self.adapter.select_head(self.adapter.forward(images)["heads"], self.head)

    def _run(self, images, labels, scores):
        count = len(self.variants)
        hits1 = tf.TensorArray(tf.bool, size=count)
        hitsk = tf.TensorArray(tf.bool, size=count)
        dropped = tf.TensorArray(tf.float32, size=count)
        for v in tf.range(count):
            drop = tf.not_equal(tf.gather(scores, self.source[v]) < self.threshold[v], self.invert[v])
            logits = self.logits(patch_drop.drop_pixels(images, drop))
            top1, topk = top_k_hits(logits, labels, self.top_k)
            hits1 = hits1.write(v, top1)
            hitsk = hitsk.write(v, topk)
            dropped = dropped.write(v, tf.reduce_mean(tf.cast(drop, tf.float32), axis=(1, 2)))
        return hits1.stack(), hitsk.stack(), dropped.stack()

    def __call__(self, images, labels, scores):
        out = self._fn(tf.convert_to_tensor(images, tf.float32), tf.convert_to_tensor(labels, tf.int32), scores)
        return tuple(t.numpy() for t in out)


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
        self._fn = tf.function(self._run, reduce_retracing=True)

    def _run(self, images, labels, indices):
        rows, cols = self.grid
        ranks = tf.stack([patch_drop.random_ranks(self.seed, indices, rows * cols, patch_drop.STREAM_LESION, r)
                          for r in range(self.repeats)])
        table = tf.constant(self.counts, tf.int32)
        hits1 = tf.TensorArray(tf.bool, size=len(self.counts))
        hitsk = tf.TensorArray(tf.bool, size=len(self.counts))
        for v in tf.range(len(self.counts)):
            keep = tf.gather(ranks, table[v, 1]) >= table[v, 0]
            if self.adapter.is_transformer:
                keep_map = {self.block: keep}
            else:
                keep_map = {self.block: tf.reshape(tf.cast(keep, tf.float32), (-1, rows, cols))}
            out = self.adapter.forward(images, token_keep=keep_map)
            top1, topk = top_k_hits(self.adapter.select_head(out["heads"], self.head), labels, self.top_k)
            hits1 = hits1.write(v, top1)
            hitsk = hitsk.write(v, topk)
        return hits1.stack(), hitsk.stack()

    def __call__(self, images, labels, indices):
        out = self._fn(tf.convert_to_tensor(images, tf.float32), tf.convert_to_tensor(labels, tf.int32),
                       tf.convert_to_tensor(indices, tf.int64))
        return tuple(t.numpy() for t in out)

"""Scoring shared by the sweeps: top-1 / top-k hits of a batch and running tallies of them.

`top_k_hits` is backend-neutral (keras.ops), so it compiles inside tf.function and jax.jit;
`Tally` accumulates NumPy hits per variant, overall and per class, for any sweep whose
variants (occlusion levels, shuffle grids, lesions) are scored against the same labels.
"""

import numpy as np


def top_k_hits(logits, labels, k):
    """(top-1 hits, top-k hits), boolean (B,), of logits (B, C) against integer labels (B,)."""
    from keras import ops

    labels = ops.cast(labels, "int32")
    top1 = ops.equal(ops.cast(ops.argmax(logits, axis=-1), "int32"), labels)
    _, top = ops.top_k(logits, k=min(int(k), int(logits.shape[-1])))
    topk = ops.any(ops.equal(ops.cast(top, "int32"), labels[:, None]), axis=-1)
    return top1, topk


class Tally:
    """Running sums of top-1 / top-k hits per variant, overall and per class."""

    def __init__(self, num_variants, num_classes):
        self.top1 = np.zeros(num_variants)
        self.topk = np.zeros(num_variants)
        self.dropped = np.zeros(num_variants)
        self.top1_class = np.zeros((num_variants, num_classes))
        self.class_count = np.zeros(num_classes)
        self.count = 0

    def add(self, hits1, hitsk, labels, dropped=None):
        """hits1 / hitsk: (variants, B) booleans; dropped: (variants, B) fractions, optional."""
        hits1, hitsk = np.asarray(hits1), np.asarray(hitsk)
        labels = np.asarray(labels, dtype=int)
        self.top1 += hits1.sum(axis=1)
        self.topk += hitsk.sum(axis=1)
        if dropped is not None:
            self.dropped += np.asarray(dropped).sum(axis=1)
        for v in range(hits1.shape[0]):
            np.add.at(self.top1_class[v], labels, hits1[v])
        np.add.at(self.class_count, labels, 1)
        self.count += len(labels)

    def rates(self):
        """(top-1, top-k, mean dropped fraction) per variant, and top-1 per (variant, class)."""
        count = max(self.count, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_class = self.top1_class / np.where(self.class_count > 0, self.class_count, np.nan)
        return self.top1 / count, self.topk / count, self.dropped / count, per_class

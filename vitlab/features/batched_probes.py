"""Every linear probe of one model trained in one Keras model: one compiled step per batch.

Training one small Dense layer per feature set pays Keras' per-fit and per-step overhead once
per probe; with a few dozen probes on 60,000 rows that overhead, not the math, is the cost. Here
the probes share one model whose loss is the sum of their mean cross-entropies, so one step
updates all of them, and each probe's arithmetic is the one it would get alone:

- the gradient of the sum for one probe's weights is that probe's own mean loss gradient;
- AdamW works element by element, so stacking kernels changes nothing (bias excluded from
  weight decay by name, as in probes.linear_layer_probe);
- every kernel starts from the value the per-probe path draws (seed reset, then the same
  TruncatedNormal(0.02) for that probe's shape), and every probe sees the same batches.

Single-part probes of one width are one [S, D, C] kernel (an einsum); a concatenation probe
concatenates its parts inside the step and keeps its own [sum D, C] kernel.
"""

import dataclasses

import numpy as np

from vitlab.features.probes import ProbeScore
from vitlab.protocol import probe as probe_protocol

import os
JIT = os.environ.get("JIT", "auto")
JIT = {"1": True, "0": False}.get(JIT, JIT)
MAX_TRAIN_BYTES = 2 * 1024**3  # probes whose training features exceed this are trained in several models


@dataclasses.dataclass
class _Layout:
    """Where each probe's inputs and weights live in one bank of probes."""

    groups: list  # [(width, [part index, ...])]: the model's inputs, each [rows, len(parts), width]
    singles: list  # per group: positions (in that group) of the parts probed alone
    multis: list  # [[(group, position), ...]]: one entry per concatenation probe
    probe_order: list  # probe index (in the caller's sets) of each output column


def _layout(sets, widths):
    parts = sorted({part for parts in sets for part in parts})
    by_width = {}
    for part in parts:
        by_width.setdefault(widths[part], []).append(part)
    groups = list(by_width.items())
    where = {part: (g, members.index(part)) for g, (_, members) in enumerate(groups) for part in members}
    singles, single_probes = [[] for _ in groups], [[] for _ in groups]
    multis, multi_probes = [], []
    for index, parts_of in enumerate(sets):
        if len(parts_of) == 1:
            g, position = where[parts_of[0]]
            singles[g].append(position)
            single_probes[g].append(index)
        else:
            multis.append([where[part] for part in parts_of])
            multi_probes.append(index)
    order = [index for probes in single_probes for index in probes] + multi_probes
    return _Layout(groups, singles, multis, order)


def _initial_kernel(width, num_classes, seed):
    """The kernel probes.linear_layer_probe starts from for this input width."""
    import keras

    keras.utils.set_random_seed(seed)
    initializer = keras.initializers.TruncatedNormal(stddev=0.02)  # timm's _init_weights for a ViT head
    return keras.ops.convert_to_numpy(initializer((width, num_classes), "float32"))


def _probe_bank_class():
    import keras

    class ProbeBank(keras.layers.Layer):
        """Logits [batch, probes, classes] of every probe, in the layout's output order."""

        def __init__(self, layout, kernels, num_classes, **kwargs):
            super().__init__(**kwargs)
            self.layout = layout
            self.single_kernels, self.single_biases, self.multi_kernels, self.multi_biases = [], [], [], []
            for g, positions in enumerate(layout.singles):
                if positions:
                    value = np.stack([kernels.pop(0) for _ in positions])
                    self.single_kernels.append(self._weight(f"kernel_{g}", value))
                    self.single_biases.append(self._weight(f"bias_{g}", np.zeros((len(positions), num_classes))))
                else:
                    self.single_kernels.append(None)
                    self.single_biases.append(None)
            for m, _ in enumerate(layout.multis):
                self.multi_kernels.append(self._weight(f"concat_kernel_{m}", kernels.pop(0)))
                self.multi_biases.append(self._weight(f"concat_bias_{m}", np.zeros(num_classes)))

        def _weight(self, name, value):
            value = np.asarray(value, "float32")
            return self.add_weight(shape=value.shape, name=name, initializer=lambda shape, dtype=None: value)

        def call(self, inputs):
            ops = keras.ops
            logits = []
            for g, positions in enumerate(self.layout.singles):
                if not positions:
                    continue
                x = inputs[g]
                if positions != list(range(x.shape[1])):
                    x = ops.take(x, positions, axis=1)
                logits.append(ops.einsum("bsd,sdc->bsc", x, self.single_kernels[g]) + self.single_biases[g])
            for m, parts in enumerate(self.layout.multis):
                x = ops.concatenate([inputs[g][:, position] for g, position in parts], axis=-1)
                logits.append((ops.matmul(x, self.multi_kernels[m]) + self.multi_biases[m])[:, None])
            return ops.concatenate(logits, axis=1)

    class SummedCrossEntropy(keras.losses.Loss):
        """Per row, the sum over probes of their cross-entropies: averaged over the batch, the
        sum of each probe's mean loss, so each probe's gradient is its own."""

        def call(self, y_true, y_pred):
            labels = ops_labels(y_true, y_pred)
            return keras.ops.sum(keras.ops.sparse_categorical_crossentropy(labels, y_pred, from_logits=True), axis=1)

    def ops_labels(y_true, y_pred):
        labels = keras.ops.cast(keras.ops.reshape(y_true, (-1, 1)), "int32")
        return keras.ops.broadcast_to(labels, keras.ops.shape(y_pred)[:2])

    return ProbeBank, SummedCrossEntropy


def _chunks(sets, part_bytes, max_bytes):
    """Sets split greedily into runs whose distinct parts fit max_bytes (at least one set each)."""
    chunks, current, held = [], [], set()
    for index, parts in enumerate(sets):
        grown = held | set(parts)
        if current and sum(part_bytes[p] for p in grown) > max_bytes:
            chunks.append(current)
            current, grown = [], set(parts)
        current.append(index)
        held = grown
    return chunks + ([current] if current else [])


def linear_layer_probes(train_parts, train_y, test_parts, test_y, sets, num_classes,
                        epochs=probe_protocol.PROBE_EPOCHS, batch_size=probe_protocol.PROBE_BATCH_SIZE,
                        learning_rate=probe_protocol.PROBE_LEARNING_RATE,
                        weight_decay=probe_protocol.PROBE_WEIGHT_DECAY, seed=0, steps_per_execution=16,
                        max_train_bytes=MAX_TRAIN_BYTES, keep_weights=False):
    """probes.linear_layer_probe for every set at once: sets[i] lists the indices (into
    train_parts / test_parts, [rows, width] arrays) whose concatenation probe i reads. Returns one
    ProbeScore per set, with the per-probe path's details (with keep_weights, also its final
    (kernel, bias) under "weights")."""
    train_parts = [np.asarray(x, "float32") for x in train_parts]
    test_parts = [np.asarray(x, "float32") for x in test_parts]
    sets = [tuple(parts) for parts in sets]
    part_bytes = [x.nbytes for x in train_parts]
    scores = [None] * len(sets)
    for chunk in _chunks(sets, part_bytes, max_train_bytes):
        chunk_scores = _train_bank(train_parts, np.asarray(train_y), test_parts, np.asarray(test_y),
                                   [sets[i] for i in chunk], num_classes, epochs, batch_size, learning_rate,
                                   weight_decay, seed, steps_per_execution, keep_weights)
        for index, score in zip(chunk, chunk_scores):
            scores[index] = score
    return scores


def _train_bank(train_parts, train_y, test_parts, test_y, sets, num_classes, epochs, batch_size, learning_rate,
                weight_decay, seed, steps_per_execution, keep_weights):
    import keras

    widths = [x.shape[1] for x in train_parts]
    layout = _layout(sets, widths)
    kernels = [_initial_kernel(sum(widths[p] for p in sets[i]), num_classes, seed) for i in layout.probe_order]
    ProbeBank, SummedCrossEntropy = _probe_bank_class()
    inputs = [keras.Input((len(members), width)) for width, members in layout.groups]
    bank = ProbeBank(layout, kernels, num_classes)
    model = keras.Model(inputs, bank(inputs))
    optimizer = keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay,
                                       epsilon=probe_protocol.PROBE_ADAM_EPSILON)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    model.compile(optimizer=optimizer, loss=SummedCrossEntropy(), steps_per_execution=steps_per_execution, jit_compile=JIT)

    def stacked(parts, rows=None):
        return [np.stack([parts[p] if rows is None else parts[p][rows] for p in members], axis=1)
                for _, members in layout.groups]

    train_x, test_x = stacked(train_parts), stacked(test_parts)
    rng = np.random.default_rng(seed)  # the per-probe path's generator: the same order every epoch
    steps_rows = max(len(train_y) // batch_size * batch_size, min(len(train_y), batch_size))
    per_epoch = []
    for _ in range(int(epochs)):
        order = rng.permutation(len(train_y))[:steps_rows]
        model.fit([x[order] for x in train_x], train_y[order], epochs=1, batch_size=batch_size, shuffle=False,
                  verbose=0)
        logits = np.concatenate([keras.ops.convert_to_numpy(model([x[i:i + 4096] for x in test_x], training=False))
                                 for i in range(0, len(test_y), 4096)])
        per_epoch.append(np.mean(np.argmax(logits, axis=2) == np.asarray(test_y)[:, None], axis=0))
    per_epoch = np.asarray(per_epoch)  # [epochs, probes in layout order]
    scores = [None] * len(sets)
    weights = _final_weights(bank, layout) if keep_weights else None
    for column, index in enumerate(layout.probe_order):
        history = [float(v) for v in per_epoch[:, column]]
        best = int(np.argmax(history))
        detail = {"epochs": int(epochs), "best epoch": best + 1, "last epoch top1": history[-1], "per epoch": history}
        if keep_weights:
            detail["weights"] = weights[column]
        scores[index] = ProbeScore(history[best], detail)
    return scores


def _final_weights(bank, layout):
    """(kernel, bias) per probe, in the layout's output order."""
    import keras

    def value(variable):
        return keras.ops.convert_to_numpy(variable)

    weights = []
    for g, positions in enumerate(layout.singles):
        if positions:
            kernels, biases = value(bank.single_kernels[g]), value(bank.single_biases[g])
            weights += [(kernels[s], biases[s]) for s in range(len(positions))]
    weights += [(value(k), value(b)) for k, b in zip(bank.multi_kernels, bank.multi_biases)]
    return weights

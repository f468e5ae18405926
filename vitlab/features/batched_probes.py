"""Every linear probe of one model trained together, one step per batch for all of them.

probes.linear_layer_probe (the reference) fits one Keras Dense layer per feature set; with a few
dozen probes on 60,000 rows, Keras' per-fit and per-step overhead, not the math, is the cost.
Here all probes take each step together, in NumPy, with the reference's arithmetic:

- each probe keeps its own kernel and bias, initialised as the reference initialises them
  (seed reset, then TruncatedNormal(0.02) for that probe's shape), and sees the same batches
  (the same seeded permutation per epoch, batch 256, last partial batch dropped);
- its gradient is that of its own mean softmax cross-entropy over the batch;
- the update is Keras' AdamW step (keras/src/optimizers/adam.py update_step, with the decoupled
  decay of base_optimizer._apply_weight_decay first; no decay on biases), element by element,
  so stacking probes changes nothing.

NumPy and not a compiled Keras step: for the zoo's DeiT (20 probes over 18 parts of width 96,
batch 256, 10 classes) one all-probe step took 1.4-1.8 ms CPU in NumPy against 2.8-4 ms as a
tf.function (with or without XLA, even with the whole epoch in one graph), and Keras' array
adapter spent 3 s per fit converting the training arrays. NumPy also needs no backend, so the
probes run the same under TensorFlow and JAX (only the initial kernels come from Keras).

Single-part probes of one width share one [S, D, C] kernel (a batched matmul); a concatenation
probe keeps its own [sum D, C] kernel over its parts, concatenated per batch.
"""

import dataclasses

import numpy as np
from threadpoolctl import threadpool_limits

from vitlab.features.probes import ProbeScore
from vitlab.protocol import probe as probe_protocol

ADAM_BETAS = (0.9, 0.999)  # keras.optimizers.AdamW defaults, as the reference uses; timm's AdamW too
EVAL_ROWS = 4096


@dataclasses.dataclass
class _Layout:
    """Where each probe's inputs and weights live."""

    groups: list  # [[part index, ...]] of one width each: a batch of a group is [parts, rows, width]
    singles: list  # per group: positions (in that group) of the parts probed alone
    multis: list  # per concatenation probe: its parts as [(group, position), ...]
    probe_order: list  # the caller's probe index of each probe in this order: singles, then multis


def _layout(sets, widths):
    by_width = {}
    for part in sorted({part for parts in sets for part in parts}):
        by_width.setdefault(widths[part], []).append(part)
    groups = list(by_width.values())
    where = {part: (g, members.index(part)) for g, members in enumerate(groups) for part in members}
    singles, single_probes = [[] for _ in groups], [[] for _ in groups]
    multis, multi_probes = [], []
    for index, parts in enumerate(sets):
        if len(parts) == 1:
            g, position = where[parts[0]]
            singles[g].append(position)
            single_probes[g].append(index)
        else:
            multis.append([where[part] for part in parts])
            multi_probes.append(index)
    return _Layout(groups, singles, multis, [i for probes in single_probes for i in probes] + multi_probes)


def initial_kernel(width, num_classes, seed):
    """The kernel the reference Dense layer starts from for this input width."""
    import keras

    keras.utils.set_random_seed(seed)
    initializer = keras.initializers.TruncatedNormal(stddev=0.02)  # timm's _init_weights for a ViT head
    return np.asarray(keras.ops.convert_to_numpy(initializer((width, num_classes), "float32")), "float32")


class _AdamW:
    """Keras' AdamW arithmetic on one flat float32 vector of parameters, in Keras' order of
    operations; `decay` is the weight decay per element (0 for biases)."""

    def __init__(self, params, decay, learning_rate, epsilon):
        self.params, self.decay = params, decay
        self.m, self.v = np.zeros_like(params), np.zeros_like(params)
        self.lr, self.eps = np.float32(learning_rate), np.float32(epsilon)
        self.b1, self.b2 = np.float32(ADAM_BETAS[0]), np.float32(ADAM_BETAS[1])
        # 1 - beta as Keras takes it: computed in Python floats, then cast (not 1 - float32(beta))
        self.keep_m, self.keep_v = np.float32(1 - ADAM_BETAS[0]), np.float32(1 - ADAM_BETAS[1])
        self.step = 0

    def apply(self, grads):
        self.step += 1
        t = np.float32(self.step)
        alpha = self.lr * np.sqrt(np.float32(1) - self.b2**t) / (np.float32(1) - self.b1**t)
        self.params -= self.params * self.decay * self.lr  # decoupled decay first (base_optimizer.py)
        self.m += (grads - self.m) * self.keep_m
        self.v += (np.square(grads) - self.v) * self.keep_v
        self.params -= (self.m * alpha) / (np.sqrt(self.v) + self.eps)


def _softmax_grad(logits, onehot):
    """d(mean cross-entropy)/d(logits) in place, for logits laid out [..., classes, rows]:
    (softmax - one-hot) / rows. Classes sit on axis -2 because NumPy reduces a short last axis
    about 20x slower than a middle one (measured: 214 us against 11 us for 18 x 256 x 10)."""
    logits -= logits.max(axis=-2, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=-2, keepdims=True)
    logits -= onehot
    logits /= np.float32(onehot.shape[-1])
    return logits


class _Bank:
    """The weights of every probe in one layout, as views of one flat vector (so one AdamW update
    covers them all), with their forward and backward passes. Logits are [probes, classes, rows];
    kernels are [width, classes] as the reference's."""

    def __init__(self, layout, kernels, num_classes, weight_decay):
        self.layout = layout
        shapes = []  # (shape, decayed) of every kernel and bias, in storage order
        kernels = list(kernels)
        stacked, taken = [], 0
        for positions in layout.singles:
            if positions:
                stacked.append(np.stack(kernels[taken : taken + len(positions)]))
                shapes += [(stacked[-1].shape, True), ((len(positions), num_classes), False)]
                taken += len(positions)
        for kernel in kernels[taken:]:
            stacked.append(kernel)
            shapes += [(kernel.shape, True), ((num_classes,), False)]
        sizes = [int(np.prod(shape)) for shape, _ in shapes]
        self.values = np.zeros(sum(sizes), "float32")
        self.grad_values = np.zeros_like(self.values)
        self.decay = np.concatenate(
            [np.full(size, weight_decay if decayed else 0.0, "float32") for size, (_, decayed) in zip(sizes, shapes)]
        )
        offsets = np.cumsum([0] + sizes)
        views = [self.values[o : o + n].reshape(shape) for o, n, (shape, _) in zip(offsets, sizes, shapes)]
        self.grad_views = [
            self.grad_values[o : o + n].reshape(shape) for o, n, (shape, _) in zip(offsets, sizes, shapes)
        ]
        for view, kernel in zip(views[::2], stacked):
            view[...] = kernel
        pairs = list(zip(views[::2], views[1::2]))
        singles = iter(pairs[: len(pairs) - len(layout.multis)])
        self.single = [next(singles) if positions else None for positions in layout.singles]
        self.multi = pairs[len(pairs) - len(layout.multis) :]

    def _single_inputs(self, g, x):
        positions = self.layout.singles[g]
        return x if positions == list(range(len(x))) else x[positions]

    def _multi_inputs(self, parts, xs):
        """[rows, sum of widths]: the parts' features side by side, in the set's order."""
        return np.concatenate([xs[g][position] for g, position in parts], axis=1)

    def _forward(self, xs):
        """[(inputs, logits [.., classes, rows])] per group of single-part probes, then per concatenation."""
        out = []
        for g, pair in enumerate(self.single):
            if pair is not None:
                x = self._single_inputs(g, xs[g])
                out.append((x, np.matmul(pair[0].transpose(0, 2, 1), x.transpose(0, 2, 1)) + pair[1][:, :, None]))
        for parts, (kernel, bias) in zip(self.layout.multis, self.multi):
            x = self._multi_inputs(parts, xs)
            out.append((x, kernel.T @ x.T + bias[:, None]))
        return out

    def logits(self, xs):
        """[probes, classes, rows] in the layout's order, from the group inputs ([parts, rows, width])."""
        return np.concatenate([logits if logits.ndim == 3 else logits[None] for _, logits in self._forward(xs)])

    def grads(self, xs, labels, num_classes):
        """The gradient of every probe's mean loss, written into grad_values (same layout as values)."""
        onehot = (np.arange(num_classes)[:, None] == labels[None]).astype("float32")  # [classes, rows]
        views = iter(self.grad_views)
        for x, logits in self._forward(xs):
            delta = _softmax_grad(logits, onehot)
            kernel_grad, bias_grad = next(views), next(views)
            if x.ndim == 3:
                np.matmul(x.transpose(0, 2, 1), delta.transpose(0, 2, 1), out=kernel_grad)
            else:
                np.matmul(x.T, delta.T, out=kernel_grad)
            delta.sum(axis=-1, out=bias_grad)
        return self.grad_values

    def weights(self):
        """(kernel, bias) per probe, in the layout's order."""
        out = [
            (kernels[s].copy(), biases[s].copy())
            for pair in self.single
            if pair is not None
            for kernels, biases in [pair]
            for s in range(len(kernels))
        ]
        return out + [(kernel.copy(), bias.copy()) for kernel, bias in self.multi]


def linear_layer_probes(
    train_parts,
    train_y,
    test_parts,
    test_y,
    sets,
    num_classes,
    epochs=probe_protocol.PROBE_EPOCHS,
    batch_size=probe_protocol.PROBE_BATCH_SIZE,
    learning_rate=probe_protocol.PROBE_LEARNING_RATE,
    weight_decay=probe_protocol.PROBE_WEIGHT_DECAY,
    seed=0,
    keep_weights=False,
):
    """probes.linear_layer_probe for many feature sets at once. train_parts / test_parts are
    [rows, width] arrays; sets[i] lists the parts whose concatenation (in that order) probe i
    reads. Returns one ProbeScore per set with the reference's details (with keep_weights, also
    the final (kernel, bias) under "weights")."""
    train_parts = [np.asarray(x, "float32") for x in train_parts]
    test_parts = [np.asarray(x, "float32") for x in test_parts]
    sets = [tuple(int(p) for p in parts) for parts in sets]
    if any(not parts for parts in sets):
        raise ValueError("linear_layer_probes: every feature set needs at least one part")
    train_y, test_y = np.asarray(train_y).astype(np.int64), np.asarray(test_y).astype(np.int64)
    with threadpool_limits(limits=1, user_api="blas"):  # small matmuls: threads only add overhead
        return _train(
            train_parts,
            train_y,
            test_parts,
            test_y,
            sets,
            num_classes,
            int(epochs),
            batch_size,
            learning_rate,
            weight_decay,
            seed,
            keep_weights,
        )


def _train(
    train_parts,
    train_y,
    test_parts,
    test_y,
    sets,
    num_classes,
    epochs,
    batch_size,
    learning_rate,
    weight_decay,
    seed,
    keep_weights,
):
    widths = [x.shape[1] for x in train_parts]
    layout = _layout(sets, widths)
    bank = _Bank(
        layout,
        [initial_kernel(sum(widths[p] for p in sets[i]), num_classes, seed) for i in layout.probe_order],
        num_classes,
        weight_decay,
    )
    optimizer = _AdamW(bank.values, bank.decay, learning_rate, probe_protocol.PROBE_ADAM_EPSILON)
    rng = np.random.default_rng(seed)  # as the reference: the same permutation per epoch
    # drop_last as the official DataLoader; a training set smaller than one batch is one batch
    steps_rows = max(len(train_y) // batch_size * batch_size, min(len(train_y), batch_size))
    step_rows = min(batch_size, steps_rows)
    # one reused [parts, rows, width] buffer per group: the features are never copied whole
    batch = [np.empty((len(members), step_rows, widths[members[0]]), "float32") for members in layout.groups]
    per_epoch = []
    for _ in range(epochs):
        order = rng.permutation(len(train_y))[:steps_rows]
        for start in range(0, steps_rows, step_rows):
            rows = order[start : start + step_rows]
            for members, buffer in zip(layout.groups, batch):
                for position, part in enumerate(members):
                    np.take(train_parts[part], rows, axis=0, out=buffer[position], mode="clip")  # rows are valid
            optimizer.apply(bank.grads(batch, train_y[rows], num_classes))
        correct = np.zeros(len(layout.probe_order))
        for start in range(0, len(test_y), EVAL_ROWS):
            chunk = [
                np.stack([test_parts[part][start : start + EVAL_ROWS] for part in members]) for members in layout.groups
            ]
            correct += np.sum(np.argmax(bank.logits(chunk), axis=1) == test_y[start : start + EVAL_ROWS], axis=1)
        per_epoch.append(correct / max(len(test_y), 1))
    per_epoch = np.asarray(per_epoch).reshape(epochs, len(layout.probe_order))
    weights = bank.weights() if keep_weights else None
    scores = [None] * len(sets)
    for column, index in enumerate(layout.probe_order):
        history = [float(v) for v in per_epoch[:, column]]
        best = int(np.argmax(history))
        detail = {"epochs": epochs, "best epoch": best + 1, "last epoch top1": history[-1], "per epoch": history}
        if keep_weights:
            detail["weights"] = weights[column]
        scores[index] = ProbeScore(history[best], detail)
    return scores

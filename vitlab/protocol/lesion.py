"""The paper's lesion study: drop features inside the network, once, at one depth.

Transformers (vit_models/deit.py lines 105-116): at the input of block `block_index`,
int(drop_rate * T) of the patch tokens are set to zero, T counting every token (197 for
DeiT at 224: 49, 98, 147 tokens at rates 0.25, 0.5, 0.75, evaluate.py line 267); the class
token is kept and nothing else changes: the zeroed tokens still take part in attention and
are updated by the later blocks. Blocks 0, 2, 4, 8, 10 (scripts/evaluate_occlusion_supp.sh).
ResNets (vit_models/resnet.py lines 8-43): a Bernoulli keep mask rand(h, w) > rate is
multiplied into the feature map at drop point 1 (after the stem and max-pool) to 5 (after
layer4), all channels alike.

Where the official code draws one set of positions per batch (np.random.choice, torch.rand),
vitlab draws per image from (seed, image index), so a result does not depend on the batch
size. vitlab's earlier variant (dropped tokens excluded as attention keys from that block on,
ModelAdapter.forward(token_keep=...)) stays available as the "key_mask" lesion.
"""

import numpy as np
from keras import ops

PAPER_BLOCKS = (0, 2, 4, 8, 10)  # scripts/evaluate_occlusion_supp.sh: --block_index 0 2 4 8 10
PAPER_RATES = (0.25, 0.5, 0.75)  # evaluate.py line 267
PAPER_RESNET_POINTS = (1, 2, 3, 4, 5)  # scripts/evaluate_occlusion_supp.sh: resnet_drop --block_index 1 2 3 4 5
VARIANTS = ("official", "key_mask")  # official: zero tokens once; key_mask: vitlab's attention-key exclusion
_STREAM = 0x1E5  # keeps lesion draws apart from other per-image random choices


def default_blocks(depth):
    """The paper's lesion blocks that a transformer of this depth has (6 blocks: 0, 2, 4)."""
    return [block for block in PAPER_BLOCKS if block < int(depth)]


def token_count(rate, num_tokens):
    """Tokens zeroed: deit.py line 111, int(drop_rate * x.shape[1]) with the class token counted."""
    return int(float(rate) * int(num_tokens))


def _rng(seed, index, repeat=0):
    return np.random.default_rng([int(seed), int(index), _STREAM, int(repeat)])


def token_keep(seed, indices, num_patches, count, repeat=0):
    """(B, P) bool, False at `count` patch positions drawn per image from (seed, index, repeat)."""
    count = min(int(count), int(num_patches))
    keep = np.ones((len(indices), num_patches), dtype=bool)
    for row, index in enumerate(np.asarray(indices)):
        keep[row, _rng(seed, index, repeat).choice(num_patches, size=count, replace=False)] = False
    return keep


def cell_keep(seed, indices, shape, rate, repeat=0):
    """(B, h, w) float32 Bernoulli keep mask, uniform > rate (resnet.py line 17), per image."""
    return np.stack(
        [
            (_rng(seed, index, repeat).random(tuple(shape)) > float(rate)).astype("float32")
            for index in np.asarray(indices)
        ]
    )


def vit_forward(adapter, images, block, keep):
    """Head logits {class[, dist]} of a ViT whose patch tokens where keep is False are zeroed
    at the input of `block`. images in [0, 1]; keep (B, num_patches) bool."""
    model = adapter.model
    x = model.embed(adapter.prepare(images))
    prefix = model.num_prefix_tokens
    for index, layer in enumerate(model.blocks):
        if index == block:
            keep_rows = ops.cast(ops.convert_to_tensor(keep), x.dtype)[..., None]
            x = ops.concatenate([x[:, :prefix], x[:, prefix:] * keep_rows], axis=1)
        x, _ = layer(x, training=False)
    return model.heads(model.norm(x))


def resnet_point_shape(model, point):
    """(h, w) of the feature map at drop point 1 (after the stem) .. 5 (after layer4)."""
    if not 1 <= int(point) <= len(model.stage_depths) + 1:
        raise ValueError(f"drop point must be 1..{len(model.stage_depths) + 1}, got {point}")
    size = model.stem_size()
    for stride in model.stage_strides[: max(0, int(point) - 1)]:  # each stage's first block strides
        size = (size - 1) // stride + 1  # a 3x3 convolution of that stride with PyTorch padding
    return size, size


def resnet_forward(adapter, images, point, keep):
    """Logits of a ResNet with `keep` (B, h, w) multiplied in at drop point `point` (1..5)."""
    model = adapter.model
    x = model.stem_forward(model.normalize(adapter.prepare(images)), training=False)
    mask = ops.cast(ops.convert_to_tensor(keep), x.dtype)[..., None]
    if point == 1:
        x = x * mask
    for index, (layer, stage) in enumerate(zip(model.blocks, model.block_stage)):
        x = layer(x, training=False)
        last_of_stage = index + 1 == len(model.blocks) or model.block_stage[index + 1] != stage
        if last_of_stage and point == stage + 2:
            x = x * mask
    return model.fc(ops.mean(x, axis=(1, 2)))


def _compiled(function):
    import keras

    if keras.backend.backend() != "tensorflow":
        return function
    import tensorflow as tf

    return tf.function(function, reduce_retracing=True)


class OfficialLesion:
    """Every rate and repeat of the official lesion at one depth of one model, for the sweep.

    depth: a transformer block index, or for a ResNet the drop point minus one (0: after the
    stem ... 4: after layer4). `counts` lists (tokens dropped or rate, repeat) per variant,
    repeat-major; calling it gives top-1 / top-k hits (variants, batch) as NumPy bools.
    """

    def __init__(self, adapter, depth, rates, repeats, seed, head="average", top_k=5):
        self.adapter, self.depth, self.seed, self.top_k = adapter, int(depth), int(seed), int(top_k)
        if adapter.is_transformer:
            self.num_patches = int(adapter.model.num_patches)
            tokens = self.num_patches + adapter.num_prefix_tokens
            self.counts = [[token_count(rate, tokens), r] for r in range(int(repeats)) for rate in rates]
            self._forward = _compiled(
                lambda images, keep: adapter.select_head(vit_forward(adapter, images, self.depth, keep), head)
            )
        else:
            self.shape = resnet_point_shape(adapter.model, self.depth + 1)
            self.counts = [[float(rate), r] for r in range(int(repeats)) for rate in rates]
            self._forward = _compiled(lambda images, keep: resnet_forward(adapter, images, self.depth + 1, keep))

    def keep(self, indices, variant):
        amount, repeat = self.counts[variant]
        if self.adapter.is_transformer:
            return token_keep(self.seed, indices, self.num_patches, amount, repeat)
        return cell_keep(self.seed, indices, self.shape, amount, repeat)

    def __call__(self, images, labels, indices):
        labels = np.asarray(labels)
        hits1, hitsk = [], []
        for variant in range(len(self.counts)):
            logits = np.asarray(self._forward(images, self.keep(indices, variant)))
            top = np.argsort(-logits, axis=1)[:, : self.top_k]
            hits1.append(top[:, 0] == labels)
            hitsk.append((top == labels[:, None]).any(axis=1))
        return np.stack(hits1), np.stack(hitsk)

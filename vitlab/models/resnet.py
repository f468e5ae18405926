"""ResNet with bottleneck blocks in the timm / torchvision layout (v1.5: stride on the 3x3).

Padding is explicit and symmetric, as in PyTorch, so imported timm weights give the same
logits. `stem="cifar"` swaps the 7x7/2 stem and max-pool for one 3x3/1 convolution, the
usual choice for 32x32 images; `stem="stride2"` is one 3x3/2 convolution (64x64 images reach
stage 1 at 32x32, as the cifar stem's 32x32 images do); `stem="patchify"` is one
patch_size x patch_size convolution of stride patch_size, a ViT's tokenization without its
attention (the same 8x8 grid as a patch-8 ViT at 64 px); `stage_strides=(1, 1, 1, 1)` then keeps
that grid through every stage, as ConvMixer does.
"""

import keras
import numpy as np
from keras import ops

BN_EPSILON = 1e-5
BN_MOMENTUM = 0.9
STEMS = ("imagenet", "cifar", "stride2", "patchify")
# stem -> (kernel, stride, symmetric padding); patchify's kernel and stride are patch_size
_STEM_CONV = {"imagenet": (7, 2, 3), "cifar": (3, 1, 1), "stride2": (3, 2, 1)}


def _conv(filters, kernel, stride, name, dtype):
    return keras.layers.Conv2D(filters, kernel, strides=stride, padding="valid", use_bias=False, name=name, dtype=dtype)


def _bn(name, dtype):
    return keras.layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=name, dtype=dtype)


def _pad(x, amount, value=0.0):
    if amount == 0:
        return x
    return ops.pad(x, ((0, 0), (amount, amount), (amount, amount), (0, 0)), constant_values=value)


@keras.saving.register_keras_serializable(package="vitlab")
class Bottleneck(keras.layers.Layer):
    """1x1 reduce, 3x3 (strided), 1x1 expand (x4), plus a projected shortcut when needed."""

    expansion = 4

    def __init__(self, width, stride=1, downsample=False, **kwargs):
        super().__init__(**kwargs)
        self.width = width
        self.stride = stride
        self.downsample = downsample
        dtype = self.dtype_policy
        self.conv1, self.bn1 = _conv(width, 1, 1, "conv1", dtype), _bn("bn1", dtype)
        self.conv2, self.bn2 = _conv(width, 3, stride, "conv2", dtype), _bn("bn2", dtype)
        self.conv3, self.bn3 = _conv(width * 4, 1, 1, "conv3", dtype), _bn("bn3", dtype)
        if downsample:
            self.down_conv, self.down_bn = (
                _conv(width * 4, 1, stride, "downsample_0", dtype),
                _bn("downsample_1", dtype),
            )

    def call(self, x, training=False):
        shortcut = x
        y = ops.relu(self.bn1(self.conv1(x), training=training))
        y = ops.relu(self.bn2(self.conv2(_pad(y, 1)), training=training))
        y = self.bn3(self.conv3(y), training=training)
        if self.downsample:
            shortcut = self.down_bn(self.down_conv(x), training=training)
        return ops.relu(y + shortcut)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "stride": self.stride, "downsample": self.downsample}


@keras.saving.register_keras_serializable(package="vitlab")
class ResNet(keras.Model):
    """Bottleneck ResNet classifier; `forward` also returns every stage's feature map."""

    def __init__(
        self,
        stage_depths=(3, 4, 6, 3),
        base_width=64,
        num_classes=1000,
        image_size=224,
        stem="imagenet",
        mean=(0.485, 0.456, 0.406),
        std=(0.229, 0.224, 0.225),
        crop_pct=None,
        interpolation=None,
        patch_size=None,
        stage_strides=None,
        **kwargs,
    ):
        stage_strides = (
            tuple(int(v) for v in stage_strides)
            if stage_strides is not None
            else tuple(1 if i == 0 else 2 for i in range(len(stage_depths)))
        )
        if len(stage_strides) != len(stage_depths) or min(stage_strides) < 1:
            raise ValueError(
                f"stage_strides must give a stride >= 1 per stage ({len(stage_depths)}), got {stage_strides!r}"
            )
        if stem not in STEMS:
            raise ValueError(f"stem must be one of {', '.join(STEMS)}, got {stem!r}")
        if (stem == "patchify") != (patch_size is not None):
            raise ValueError(
                f"patch_size is the patchify stem's (and only its) setting; got stem={stem!r}, "
                f"patch_size={patch_size!r}"
            )
        if stem == "patchify" and (int(patch_size) < 1 or image_size % int(patch_size)):
            raise ValueError(f"image_size {image_size} is not a multiple of patch_size {patch_size}")
        super().__init__(**kwargs)
        dtype = self.dtype_policy
        # === Layers ===
        kernel, stride, _ = _STEM_CONV.get(stem, (patch_size, patch_size, 0))
        self.conv1 = _conv(base_width, kernel, stride, "conv1", dtype)
        self.bn1 = _bn("bn1", dtype)
        self.blocks = []
        self.block_stage = []
        in_channels = base_width
        for stage_index, count in enumerate(stage_depths):
            width = base_width * 2**stage_index
            stride = stage_strides[stage_index]
            for block_index in range(count):
                block_stride = stride if block_index == 0 else 1
                downsample = block_index == 0 and (block_stride != 1 or in_channels != width * 4)
                self.blocks.append(
                    Bottleneck(
                        width, block_stride, downsample, name=f"layer{stage_index + 1}_{block_index}", dtype=dtype
                    )
                )
                self.block_stage.append(stage_index)
                in_channels = width * 4
        self.fc = keras.layers.Dense(num_classes, name="fc", dtype=dtype) if num_classes else None
        # === Config ===
        self.stage_depths = tuple(int(n) for n in stage_depths)
        self.base_width = base_width
        self.num_classes = num_classes
        self.image_size = image_size
        self.stem = stem
        self.patch_size = None if patch_size is None else int(patch_size)
        self.stage_strides = stage_strides
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        # the evaluation crop of its weights (vitlab/models/preprocessing.py); None: never stored
        self.crop_pct = None if crop_pct is None else float(crop_pct)
        self.interpolation = interpolation
        self.num_features = in_channels
        self.stage_channels = [base_width * 2**i * 4 for i in range(len(stage_depths))]
        # === Build ===
        self.build((None, image_size, image_size, 3))

    def build(self, input_shape):
        self.built = True
        # A symbolic pass builds every layer without computing anything (an eager pass
        # compiles each op on JAX: seconds per model).
        self.forward(keras.KerasTensor((1, self.image_size, self.image_size, 3)))

    def normalize(self, images):
        images = ops.cast(images, self.compute_dtype)
        return (images - ops.cast(ops.array(self.mean), images.dtype)) / ops.cast(ops.array(self.std), images.dtype)

    def stem_forward(self, x, training=False):
        """Normalized images -> the stem's (B, h, w, base_width) output, the input of layer1."""
        padding = _STEM_CONV[self.stem][2] if self.stem in _STEM_CONV else 0
        x = ops.relu(self.bn1(self.conv1(_pad(x, padding)), training=training))
        if self.stem == "imagenet":
            x = ops.max_pool(_pad(x, 1, value=-np.inf), pool_size=3, strides=2, padding="valid")
        return x

    def stem_size(self):
        """Side of the stem's output for this model's image_size (PyTorch-style padding)."""
        if self.stem == "patchify":
            return self.image_size // self.patch_size
        kernel, stride, padding = _STEM_CONV[self.stem]
        size = (self.image_size + 2 * padding - kernel) // stride + 1
        return (size - 1) // 2 + 1 if self.stem == "imagenet" else size

    def forward(self, images, training=False, return_stages=False, stage_keep=None):
        """Logits plus, when asked, each stage's (B, h, w, C) output.

        stage_keep: optional {stage_index: float/bool mask (B, gh, gw)}; the mask is resized
        (nearest) to that stage's resolution and multiplied in after the stage: the CNN
        counterpart of dropping tokens inside a transformer.
        """
        x = self.stem_forward(self.normalize(images), training=training)
        stages = []
        for index, block in enumerate(self.blocks):
            x = block(x, training=training)
            stage_index = self.block_stage[index]
            if index + 1 < len(self.blocks) and self.block_stage[index + 1] == stage_index:
                continue
            if stage_keep is not None and stage_index in stage_keep:
                mask = ops.cast(stage_keep[stage_index], x.dtype)[..., None]
                mask = ops.image.resize(mask, (ops.shape(x)[1], ops.shape(x)[2]), interpolation="nearest")
                x = x * mask
            stages.append(x)
        pooled = ops.mean(x, axis=(1, 2))
        out = {"features": pooled}
        if self.fc is not None:
            out["logits"] = self.fc(pooled)
            out["heads"] = {"class": out["logits"]}
        if return_stages:
            out["stages"] = stages
        return out

    def call(self, images, training=False):
        out = self.forward(images, training=training)
        return out.get("logits", out["features"])

    def get_config(self):
        return {
            "name": self.name,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),  # mixed_bfloat16 survives from_config
            "stage_depths": list(self.stage_depths),
            "base_width": self.base_width,
            "num_classes": self.num_classes,
            "image_size": self.image_size,
            "stem": self.stem,
            "patch_size": self.patch_size,
            "stage_strides": list(self.stage_strides),
            "mean": list(self.mean),
            "std": list(self.std),
            "crop_pct": self.crop_pct,
            "interpolation": self.interpolation,
        }

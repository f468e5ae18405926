"""ViT and DeiT as one family: DeiT is a ViT with an optional distillation token.

The distillation token is the paper's "shape token" when its teacher is shape-biased.
Images enter in [0, 1]; the model applies the normalization its weights were trained
with (`mean`, `std`), so the preprocessing travels with the model and its .keras file.
"""

import math

import keras
import numpy as np
from keras import ops

from vitlab.models.layers import LAYER_NORM_EPSILON, PatchEmbedding, TransformerBlock

HEAD_MODES = ("average", "class", "dist")
# "token": the class token feeds the head; "avg": no class token, the mean of the patch tokens
# after the final norm does (timm's class_token=False, global_pool="avg", fc_norm=False:
# timm/models/vision_transformer.py lines 782, 798-809 and global_pool_nlc, lines 686-708).
GLOBAL_POOLS = ("token", "avg")


@keras.saving.register_keras_serializable(package="vitlab")
class VisionTransformer(keras.Model):
    """ViT / DeiT classifier.

    `call` returns logits: for a distilled model, the average of the class and the
    distillation head (DeiT inference), or one head alone with `head_mode`.
    `forward` returns everything experiments need: per-head logits, per-block tokens
    and, when asked, per-block attention maps; it can also drop tokens inside the network.
    """

    def __init__(
        self,
        image_size=224,
        patch_size=16,
        num_classes=1000,
        hidden_dim=768,
        depth=12,
        num_heads=12,
        mlp_ratio=4.0,
        qkv_bias=True,
        distilled=False,
        pos_embed=True,
        global_pool="token",
        drop_path_rate=0.0,
        head_mode="average",
        mean=(0.485, 0.456, 0.406),
        std=(0.229, 0.224, 0.225),
        crop_pct=None,
        interpolation=None,
        **kwargs,
    ):
        if image_size % patch_size:
            raise ValueError(f"image_size {image_size} is not a multiple of patch_size {patch_size}")
        if head_mode not in HEAD_MODES:
            raise ValueError(f"head_mode must be one of {HEAD_MODES}, got {head_mode!r}")
        if global_pool not in GLOBAL_POOLS:
            raise ValueError(f"global_pool must be one of {GLOBAL_POOLS}, got {global_pool!r}")
        if global_pool == "avg" and distilled:
            raise ValueError(
                "a distilled ViT needs its class token: global_pool='avg' and distilled=True exclude each other"
            )
        super().__init__(**kwargs)
        # === Layers ===
        self.patch_embed = PatchEmbedding(patch_size, hidden_dim, name="patch_embed", dtype=self.dtype_policy)
        rates = np.linspace(0.0, drop_path_rate, depth).tolist() if depth else []
        self.blocks = [
            TransformerBlock(
                hidden_dim, num_heads, mlp_ratio, qkv_bias, rates[i], name=f"blocks_{i}", dtype=self.dtype_policy
            )
            for i in range(depth)
        ]
        self.norm = keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="norm", dtype=self.dtype_policy)
        self.head = keras.layers.Dense(num_classes, name="head", dtype=self.dtype_policy) if num_classes else None
        self.head_dist = (
            keras.layers.Dense(num_classes, name="head_dist", dtype=self.dtype_policy)
            if (num_classes and distilled)
            else None
        )
        # === Config ===
        self.image_size = image_size
        self.patch_size = patch_size
        self.num_classes = num_classes
        self.hidden_dim = hidden_dim
        self.depth = depth
        self.num_heads = num_heads
        self.mlp_ratio = mlp_ratio
        self.qkv_bias = qkv_bias
        self.distilled = distilled
        self.pos_embed_enabled = pos_embed
        self.global_pool = global_pool
        self.has_class_token = global_pool == "token"
        self.drop_path_rate = drop_path_rate
        self.head_mode = head_mode
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        # the evaluation crop of its weights (vitlab/models/preprocessing.py); None: never stored
        self.crop_pct = None if crop_pct is None else float(crop_pct)
        self.interpolation = interpolation
        self.grid_size = image_size // patch_size
        self.num_prefix_tokens = (2 if distilled else 1) if self.has_class_token else 0
        self.num_patches = self.grid_size**2
        # === Build ===
        self.build((None, image_size, image_size, 3))

    def build(self, input_shape):
        hidden = self.hidden_dim
        self.cls_token = (
            self.add_weight(
                shape=(1, 1, hidden), initializer=keras.initializers.TruncatedNormal(stddev=0.02), name="cls_token"
            )
            if self.has_class_token
            else None
        )
        self.dist_token = (
            self.add_weight(
                shape=(1, 1, hidden), initializer=keras.initializers.TruncatedNormal(stddev=0.02), name="dist_token"
            )
            if self.distilled
            else None
        )
        self.pos_embed = (
            self.add_weight(
                shape=(1, self.num_prefix_tokens + self.num_patches, hidden),
                initializer=keras.initializers.TruncatedNormal(stddev=0.02),
                name="pos_embed",
            )
            if self.pos_embed_enabled
            else None
        )
        self.patch_embed.build((None, self.image_size, self.image_size, 3))
        token_shape = (None, self.num_prefix_tokens + self.num_patches, hidden)
        for block in self.blocks:
            block.build(token_shape)
        self.norm.build(token_shape)
        if self.head is not None:
            self.head.build((None, hidden))
        if self.head_dist is not None:
            self.head_dist.build((None, hidden))
        self.built = True

    # --- forward passes -------------------------------------------------------------
    def normalize(self, images):
        images = ops.cast(images, self.compute_dtype)
        mean = ops.cast(ops.array(self.mean), self.compute_dtype)
        std = ops.cast(ops.array(self.std), self.compute_dtype)
        return (images - mean) / std

    def embed(self, images):
        """Normalized images -> token sequence with prefix tokens and positions."""
        x = self.patch_embed(self.normalize(images))
        batch = ops.shape(x)[0]
        prefix = []
        if self.has_class_token:
            prefix.append(ops.broadcast_to(ops.cast(self.cls_token, x.dtype), (batch, 1, self.hidden_dim)))
        if self.distilled:
            prefix.append(ops.broadcast_to(ops.cast(self.dist_token, x.dtype), (batch, 1, self.hidden_dim)))
        if prefix:
            x = ops.concatenate(prefix + [x], axis=1)
        if self.pos_embed is not None:
            x = x + ops.cast(self.pos_embed, x.dtype)
        return x

    def heads(self, tokens):
        """Final-norm tokens -> dict of head logits ('class', and 'dist' when distilled)."""
        out = {"class": self.head(self.pool(tokens))}
        if self.head_dist is not None:
            out["dist"] = self.head_dist(tokens[:, 1])
        return out

    def pool(self, tokens):
        """Final-norm tokens -> the (B, D) vector the class head reads (class token or patch mean)."""
        return tokens[:, 0] if self.has_class_token else ops.mean(tokens, axis=1)

    def combine_heads(self, head_logits, head_mode=None):
        mode = head_mode or self.head_mode
        if "dist" not in head_logits or mode == "class":
            return head_logits["class"]
        if mode == "dist":
            return head_logits["dist"]
        return (head_logits["class"] + head_logits["dist"]) / 2

    def forward(self, images, training=False, return_tokens=False, return_attention=False, token_keep=None):
        """The full forward pass with what experiments need.

        token_keep: optional {block_index: bool array (batch, num_patches)}; from that block
        on, patch tokens that are False are excluded as attention keys (prefix tokens stay).
        Returns a dict: logits, heads, and optionally tokens (one (B, T, D) per block,
        after the block) and attention (one (B, heads, T, T) per block).
        """
        x = self.embed(images)
        tokens, attentions = [], []
        key_mask = None
        for index, block in enumerate(self.blocks):
            if token_keep is not None and index in token_keep:
                keep = ops.cast(token_keep[index], "bool")
                prefix = ops.ones((ops.shape(keep)[0], self.num_prefix_tokens), dtype="bool")
                new_mask = ops.concatenate([prefix, keep], axis=1)
                key_mask = new_mask if key_mask is None else ops.logical_and(key_mask, new_mask)
            x, attention = block(x, training=training, return_attention=return_attention, key_mask=key_mask)
            if return_tokens:
                tokens.append(x)
            if return_attention:
                attentions.append(attention)
        x = self.norm(x)
        out = {"features": x}
        if self.head is not None:
            out["heads"] = self.heads(x)
            out["logits"] = self.combine_heads(out["heads"])
        if return_tokens:
            out["tokens"] = tokens
        if return_attention:
            out["attention"] = attentions
        return out

    def call(self, images, training=False):
        x = self.embed(images)
        for block in self.blocks:
            x, _ = block(x, training=training)
        x = self.norm(x)
        if self.head is None:
            return self.pool(x)
        return self.combine_heads(self.heads(x))

    def get_config(self):
        return {
            "name": self.name,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),  # mixed_bfloat16 survives from_config
            "image_size": self.image_size,
            "patch_size": self.patch_size,
            "num_classes": self.num_classes,
            "hidden_dim": self.hidden_dim,
            "depth": self.depth,
            "num_heads": self.num_heads,
            "mlp_ratio": self.mlp_ratio,
            "qkv_bias": self.qkv_bias,
            "distilled": self.distilled,
            "pos_embed": self.pos_embed_enabled,
            "global_pool": self.global_pool,
            "drop_path_rate": self.drop_path_rate,
            "head_mode": self.head_mode,
            "mean": list(self.mean),
            "std": list(self.std),
            "crop_pct": self.crop_pct,
            "interpolation": self.interpolation,
        }


def resample_pos_embed(pos_embed, num_prefix_tokens, new_grid):
    """Bicubic resize of a (1, prefix + g*g, D) position table to new_grid x new_grid.

    Used when loading weights trained at another image size; antialiased like timm's
    checkpoint loading, so a downsized table equals timm's (checked by `make parity`).
    """
    pos_embed = np.asarray(pos_embed)
    prefix, grid = pos_embed[:, :num_prefix_tokens], pos_embed[:, num_prefix_tokens:]
    old_grid = int(math.isqrt(grid.shape[1]))
    if old_grid * old_grid != grid.shape[1]:
        raise ValueError(f"position table of {grid.shape[1]} patch tokens is not a square grid")
    if old_grid == new_grid:
        return pos_embed
    grid = grid.reshape(1, old_grid, old_grid, -1)
    resized = ops.image.resize(grid, (new_grid, new_grid), interpolation="bicubic", antialias=True)
    resized = ops.convert_to_numpy(resized).reshape(1, new_grid * new_grid, -1)
    return np.concatenate([prefix, resized.astype(pos_embed.dtype)], axis=1)

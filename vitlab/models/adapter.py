"""One view of any model for experiments.

Experiments never reach into layer names: they ask the adapter for logits, per-block
tokens, attention maps or CNN stage features. Inputs are float32 images in [0, 1]; the
model applies its own normalization (vitlab models), or the adapter does it for a plain
Keras classifier when given `mean`/`std`.
"""

import dataclasses
from pathlib import Path

import keras
from keras import ops

from vitlab.models.resnet import ResNet
from vitlab.models.vit import VisionTransformer


@dataclasses.dataclass
class ModelAdapter:
    model: keras.Model
    name: str = ""
    mean: tuple | None = None  # only for plain classifiers that expect normalized input
    std: tuple | None = None
    token_norm: bool = False  # per-block tokens through the final LayerNorm (official models/models.py)

    def __post_init__(self):
        self.name = self.name or self.model.name
        if self.kind == "classifier":
            _check_classifier(self.model, self.name)

    # --- what the model is ------------------------------------------------------------
    @property
    def kind(self):
        if isinstance(self.model, VisionTransformer):
            return "vit"
        if isinstance(self.model, ResNet):
            return "cnn"
        return "classifier"

    @property
    def is_transformer(self):
        return self.kind == "vit"

    @property
    def has_dist_token(self):
        return self.is_transformer and self.model.distilled

    @property
    def head_names(self):
        return ("class", "dist") if self.has_dist_token else ("class",)

    @property
    def image_size(self):
        if hasattr(self.model, "image_size"):
            return int(self.model.image_size)
        shape = self.model.inputs[0].shape
        return int(shape[1])

    @property
    def num_classes(self):
        if hasattr(self.model, "num_classes"):
            return int(self.model.num_classes)
        return int(self.model.outputs[0].shape[-1])

    @property
    def num_blocks(self):
        if self.is_transformer:
            return self.model.depth
        if self.kind == "cnn":
            return len(self.model.stage_depths)
        return 0

    @property
    def patch_grid(self):
        """(rows, cols) of the patch grid for transformers; None for CNNs."""
        if self.is_transformer:
            return (self.model.grid_size, self.model.grid_size)
        return None

    @property
    def num_prefix_tokens(self):
        return self.model.num_prefix_tokens if self.is_transformer else 0

    # --- forward passes ---------------------------------------------------------------
    def prepare(self, images):
        """Cast, resize to the model's input size; normalize for plain classifiers."""
        images = ops.cast(images, "float32")
        size = self.image_size
        if images.shape[1] != size or images.shape[2] != size:
            images = ops.image.resize(images, (size, size), interpolation="bilinear", antialias=True)
        if self.kind == "classifier" and self.mean is not None:
            images = (images - ops.array(self.mean, "float32")) / ops.array(self.std, "float32")
        return images

    def logits(self, images, head="average"):
        """Logits of one head ('class', 'dist') or their average (DeiT inference)."""
        images = self.prepare(images)
        if self.kind == "classifier":
            return self.model(images, training=False)
        out = self.model.forward(images)
        return self.select_head(out["heads"], head)

    def select_head(self, heads, head="average"):
        if head not in ("average", "class", "dist"):
            raise ValueError(f"head must be 'average', 'class' or 'dist', got {head!r}")
        if head == "dist" and "dist" not in heads:
            raise ValueError(f"model {self.name!r} has no distillation (shape) token head")
        if head == "class" or "dist" not in heads:
            return heads["class"]
        if head == "dist":
            return heads["dist"]
        return (heads["class"] + heads["dist"]) / 2

    def forward(self, images, tokens=False, attention=False, token_keep=None):
        """Everything at once: logits, heads and, as asked, per-block tokens and attention.

        For transformers, `tokens` is a list of (B, T, D) per block; for CNNs, `stages` is
        a list of (B, h, w, C) per stage. token_keep: {block: (B, num_patches) bool} for
        transformers, {stage: (B, gh, gw) mask} for CNNs ("lesion" of intermediate features).
        """
        images = self.prepare(images)
        if self.is_transformer:
            out = self.model.forward(images, return_tokens=tokens, return_attention=attention, token_keep=token_keep)
            if tokens and self.token_norm:
                out["tokens"] = [self.model.norm(t) for t in out["tokens"]]
            return out
        if self.kind == "cnn":
            return self.model.forward(images, return_stages=tokens, stage_keep=token_keep)
        if tokens or attention or token_keep:
            raise ValueError(f"model {self.name!r} is a plain Keras classifier: only logits are available")
        logits = self.model(images, training=False)
        return {"logits": logits, "heads": {"class": logits}}

    def block_features(self, images, kinds=("class",)):
        """Per-block feature vectors: {kind: [ (B, D) per block ]}.

        Transformers: 'class' (class token), 'dist' (distillation token), 'patch_mean'; a pooled
        ViT (no class token) gives its patch mean as 'class', the token its head pools.
        CNNs: 'pooled' (global-average pooled stage output), whatever kinds are asked.
        """
        out = self.forward(images, tokens=True)
        if self.kind == "cnn":
            return {"pooled": [ops.mean(stage, axis=(1, 2)) for stage in out["stages"]]}
        features = {}
        for kind in kinds:
            if kind == "class" and self.num_prefix_tokens:
                features[kind] = [t[:, 0] for t in out["tokens"]]
            elif kind == "class":
                features[kind] = [ops.mean(t, axis=1) for t in out["tokens"]]
            elif kind == "dist" and self.has_dist_token:
                features[kind] = [t[:, 1] for t in out["tokens"]]
            elif kind == "patch_mean":
                features[kind] = [ops.mean(t[:, self.num_prefix_tokens :], axis=1) for t in out["tokens"]]
        return features

    def cls_attention(self, images, block=-1, head=None, token=0):
        """Attention of a prefix token (0 class, 1 distillation) to the patches, (B, rows, cols).

        head=None averages the heads. Used for salient PatchDrop and segmentation.
        """
        if token >= self.num_prefix_tokens:
            raise ValueError(
                f"model {self.name!r} has {self.num_prefix_tokens} prefix token(s) (a pooled ViT has no "
                f"class token): no attention of prefix token {token} to read"
            )
        out = self.forward(images, attention=True)
        attention = out["attention"][block]  # (B, H, T, T)
        row = attention[:, :, token, self.num_prefix_tokens :]
        row = ops.mean(row, axis=1) if head is None else row[:, head]
        rows, cols = self.patch_grid
        return ops.reshape(row, (-1, rows, cols))


def _check_classifier(model, name):
    """A plain Keras model is usable only as an image classifier: one NHWC RGB input, one [N, classes] output."""
    from vitlab.errors import UserError

    inputs, outputs = getattr(model, "inputs", None), getattr(model, "outputs", None)
    if not inputs or not outputs:
        raise UserError(
            f"model {name!r}: a Keras model without a functional graph; vitlab adapts ViT, DeiT, "
            "ResNet or a functional image classifier"
        )
    in_shape, out_shape = tuple(inputs[0].shape), tuple(outputs[0].shape)
    if len(inputs) != 1 or len(outputs) != 1 or len(in_shape) != 4 or in_shape[-1] != 3 or len(out_shape) != 2:
        raise UserError(
            f"model {name!r}: not an image classifier vitlab can adapt (inputs {in_shape}, outputs "
            f"{out_shape}; expected one (None, H, W, 3) input and one (None, classes) output)"
        )


def adapt(model_or_path, name=None, mean=None, std=None):
    """An adapter for a model object or any model spec (vitlab.model_spec)."""
    if isinstance(model_or_path, ModelAdapter):
        return model_or_path
    if isinstance(model_or_path, keras.Model):
        return ModelAdapter(model_or_path, name or "", mean, std)
    adapter = resolve(str(model_or_path))
    adapter.name, adapter.mean, adapter.std = name or str(model_or_path), mean, std
    return adapter


def resolve(spec, num_classes=None, image_size=None):
    """A ModelAdapter for a model spec: a .keras file, a run directory (RUN_DIR[:NAME]), a
    registered prefix (zoo:ROLE), or a registry name (randomly initialised weights)."""
    from vitlab import model_spec, models
    from vitlab.errors import UserError

    ref = model_spec.expand(spec)
    if ref.kind == "file":
        if not Path(ref.target).is_file():
            raise UserError(f"model file {ref.target} does not exist")
        return ModelAdapter(models.load(ref.target), name=Path(ref.target).stem)
    if ref.kind == "run":
        member, problem = model_spec.choose_run_model(ref)
        if problem:
            raise UserError(problem)
        path = Path(ref.target)
        return ModelAdapter(models.load(str(path / "models" / f"{member}.keras")), name=f"{path.name}:{member}")
    overrides = {key: value for key, value in (("num_classes", num_classes), ("image_size", image_size)) if value}
    return ModelAdapter(models.create(ref.target, **overrides), name=ref.target)

"""Models: ViT / DeiT (with a distillation or "shape" token) and ResNet, by name.

    >>> from vitlab import models
    >>> model = models.create("deit_tiny_distilled_patch16_224", num_classes=10)
"""

from vitlab.models.registry import (
    ModelSpec,
    UnknownModelError,
    get_spec,
    list_models,
    timm_models,
)


def create(name, /, **overrides):
    """Build a registered model; keyword arguments override the variant's (num_classes, image_size, name, ...)."""
    from vitlab.models.registry import resolve_kwargs

    family, kwargs = resolve_kwargs(name, **overrides)
    kwargs.setdefault("name", name)
    if family == "vit":
        from vitlab.models.vit import VisionTransformer

        return VisionTransformer(**kwargs)
    from vitlab.models.resnet import ResNet

    return ResNet(**kwargs)


def parameter_count(model):
    """Parameters as timm counts them: BatchNorm running statistics are buffers, not parameters."""
    import numpy as np

    total = 0
    for weight in model.weights:
        path = getattr(weight, "path", weight.name)
        if path.endswith(("moving_mean", "moving_variance")) or "seed_generator" in path:
            continue
        total += int(np.prod(weight.shape))
    return total


def load(path, **kwargs):
    """Load a .keras model in safe mode (nothing from the file is executed)."""
    import keras

    import vitlab.models.resnet  # noqa: F401  (registers the classes)
    import vitlab.models.vit  # noqa: F401

    return keras.saving.load_model(path, safe_mode=True, **kwargs)


__all__ = ["ModelSpec", "UnknownModelError", "create", "get_spec", "list_models", "load", "parameter_count",
           "timm_models"]

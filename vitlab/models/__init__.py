"""Models: ViT / DeiT (with a distillation or "shape" token) and ResNet, by name.

    >>> from vitlab import models
    >>> model = models.create("deit_tiny_distilled_patch16_224", num_classes=10)
"""

import importlib.abc
import importlib.util
import sys

from vitlab.models.registry import (
    ModelSpec,
    UnknownModelError,
    get_spec,
    list_models,
    timm_models,
)


def _register_classes():
    import vitlab.models.resnet  # noqa: F401  (registers the `vitlab>` classes with Keras)
    import vitlab.models.vit  # noqa: F401


class _RegisterAfterKeras(importlib.abc.MetaPathFinder):
    """Registers vitlab's classes the moment Keras finishes importing, so that
    `import vitlab.models` then `keras.saving.load_model(path)` works (the keras_hub
    convention) while importing vitlab.models alone stays free of Keras (fast CLI, TUI)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("keras")
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenRegister(spec.loader)
        return spec


class _ThenRegister(importlib.abc.Loader):
    """Keras's own loader, registering vitlab's classes once Keras has executed."""

    def __init__(self, loader):
        self.loader = loader

    def __getattr__(self, name):  # resource readers, is_package, get_code: Keras's loader answers
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        _register_classes()


if "keras" in sys.modules:
    _register_classes()
elif not any(isinstance(finder, _RegisterAfterKeras) for finder in sys.meta_path):
    sys.meta_path.insert(0, _RegisterAfterKeras())


def create(name, **overrides):
    """Build a registered model; keyword arguments override the variant's (num_classes, image_size, ...)."""
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

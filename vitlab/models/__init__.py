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
    """Load a .keras model in safe mode (nothing from the file is executed); a file that cannot
    be a model, or that holds code, is refused with one UserError line before Keras sees it."""
    import keras

    import vitlab.models.resnet  # noqa: F401  (registers the classes)
    import vitlab.models.vit  # noqa: F401

    check_model_file(path)
    try:
        return keras.saving.load_model(path, safe_mode=True, **kwargs)
    except Exception as error:  # noqa: BLE001 - Keras reports bad archives as many types
        raise _load_error(path, error) from None


def check_model_file(path):
    """Refuse what Keras would turn into a long traceback: missing, empty, not a zip, no config."""
    import zipfile
    from pathlib import Path

    from vitlab.errors import UserError

    file = Path(path)
    if not file.exists():
        raise UserError(f"{file}: no such model file")
    if file.is_dir():
        raise UserError(f"{file}: is a folder, expected a .keras model file")
    if file.suffix != ".keras":
        raise UserError(f"{file}: expected a .keras model file (Keras 3 format)")
    if file.stat().st_size == 0:
        raise UserError(f"{file}: empty file, not a .keras model")
    if not zipfile.is_zipfile(file):
        raise UserError(f"{file}: not a .keras archive (not a zip file: truncated, or another format)")
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise UserError(f"{file}: damaged .keras archive ({error}); save the model again") from None
    if bad is not None:
        raise UserError(f"{file}: damaged .keras archive (member {bad} fails its checksum); save the model again")
    if "config.json" not in names:
        raise UserError(f"{file}: a zip file without config.json, not a .keras model")


def _load_error(path, error):
    from vitlab.errors import UserError

    text = str(error)
    if "Lambda" in text or "safe_mode" in text:
        return UserError(
            f"{path}: holds code (a Lambda layer or a serialized function); vitlab loads models "
            "in Keras safe mode and will not run it"
        )
    if "Could not locate" in text or "Unknown layer" in text or "Unknown object" in text:
        import re

        name = re.search(r"(?:Could not locate (?:class|function)|Unknown (?:layer|object)[^']*) '([\w.]+)'", text)
        what = f" {name.group(1)!r}" if name else ""
        return UserError(
            f"{path}: uses the class{what}, which is neither Keras nor vitlab (custom code is not "
            "loaded); rebuild the model from registered layers"
        )
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return UserError(f"{path}: cannot be loaded as a Keras model ({first[:200]})")


__all__ = [
    "ModelSpec",
    "UnknownModelError",
    "create",
    "get_spec",
    "list_models",
    "load",
    "parameter_count",
    "timm_models",
]

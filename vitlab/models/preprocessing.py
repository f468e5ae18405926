"""A model's preprocessing travels with it: input size, mean, std, crop_pct, interpolation.

These are the fields of timm's `pretrained_cfg` that decide what a checkpoint is fed. mean,
std and the input size were always part of a vitlab model's config (the model normalises
its own [0, 1] input); crop_pct and interpolation are stored beside them when the model is
created from a registry name or tag, or imported from a checkpoint whose config.json
carries them. So the evaluation crop comes from the model itself, never from its file name:
a resnet_test saved as resnet50.keras keeps its own crop. A model that stores none (the
small variants, plain Keras classifiers, files saved before vitlab stored the crop) is fed
the paper's Resize(256) + CenterCrop(224), bilinear, and the run records that it was.

Light: no Keras import here (the CLI reads registry entries through it).
"""

import dataclasses

from vitlab.protocol import crop

FROM_MODEL = "stored in the model"
FROM_RUN = "set for this run"
FROM_PAPER = "the paper's default (the model stores no crop)"


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """What a model is fed, and where its crop came from (`source`: one of FROM_*)."""

    input_size: int | None
    mean: tuple | None
    std: tuple | None
    crop_pct: float
    interpolation: str
    source: str

    def crop(self):
        """The keyword arguments of vitlab.data.load that apply this crop."""
        return {"crop_pct": self.crop_pct, "interpolation": self.interpolation}

    def record(self):
        """What a run records (run.json, events)."""
        return {
            "input_size": self.input_size,
            "mean": _list(self.mean),
            "std": _list(self.std),
            "crop_pct": self.crop_pct,
            "interpolation": self.interpolation,
            "crop_from": self.source,
        }


def _list(values):
    return None if values is None else [float(v) for v in values]


def _model_of(model):
    return getattr(model, "model", model)  # a ModelAdapter holds the Keras model


def stored(model):
    """(crop_pct, interpolation) stored in a model (or adapter); (None, None) when it holds none."""
    keras_model = _model_of(model)
    crop_pct, interpolation = getattr(keras_model, "crop_pct", None), getattr(keras_model, "interpolation", None)
    return (None if crop_pct is None else float(crop_pct)), interpolation


def of(model, crop_pct=None, interpolation=None):
    """The DataConfig a model is evaluated with: a run's crop_pct / interpolation override the
    stored ones, which override the paper's default; each part is taken separately."""
    stored_pct, stored_interpolation = stored(model)
    keras_model = _model_of(model)
    mean = getattr(keras_model, "mean", None) or getattr(model, "mean", None)
    std = getattr(keras_model, "std", None) or getattr(model, "std", None)
    size = getattr(model, "image_size", None) or getattr(keras_model, "image_size", None)
    if crop_pct is not None or interpolation is not None:
        source = FROM_RUN
    elif stored_pct is not None or stored_interpolation is not None:
        source = FROM_MODEL
    else:
        source = FROM_PAPER
    chosen_pct = next((v for v in (crop_pct, stored_pct) if v is not None), crop.PAPER_CROP_PCT)
    chosen_interpolation = next((v for v in (interpolation, stored_interpolation) if v), crop.PAPER_INTERPOLATION)
    return DataConfig(
        input_size=None if size is None else int(size),
        mean=_tuple(mean),
        std=_tuple(std),
        crop_pct=float(chosen_pct),
        interpolation=chosen_interpolation,
        source=source,
    )


def _tuple(values):
    return None if values is None else tuple(float(v) for v in values)


def of_registry_name(name):
    """The DataConfig a registry name (or ARCHITECTURE.TAG) builds its model with."""
    from vitlab.models import registry

    spec = registry.get_spec(name)
    stored_crop = spec.crop_pct is not None
    return DataConfig(
        input_size=spec.image_size,
        mean=_tuple(spec.kwargs.get("mean")),
        std=_tuple(spec.kwargs.get("std")),
        crop_pct=spec.crop_pct if stored_crop else crop.PAPER_CROP_PCT,
        interpolation=spec.interpolation or crop.PAPER_INTERPOLATION,
        source=FROM_MODEL if stored_crop else FROM_PAPER,
    )


def from_pretrained_cfg(cfg):
    """timm's pretrained_cfg (a checkpoint's config.json) -> the create() keyword arguments it
    decides: image_size, mean, std, crop_pct, interpolation (absent fields are left out)."""
    cfg = cfg or {}
    out = {}
    if cfg.get("input_size"):
        out["image_size"] = int(cfg["input_size"][-1])
    for key in ("mean", "std"):
        if cfg.get(key):
            out[key] = tuple(float(v) for v in cfg[key])
    if cfg.get("crop_pct") is not None:
        out["crop_pct"] = float(cfg["crop_pct"])
    if cfg.get("interpolation"):
        out["interpolation"] = str(cfg["interpolation"])
    return out


def check(crop_pct=None, interpolation=None):
    """A one-line ValueError for a crop vitlab cannot apply."""
    if crop_pct is not None and not 0.0 < float(crop_pct) <= 1.0:
        raise ValueError(f"crop_pct must be in (0, 1] (0.875: Resize(256) + CenterCrop(224)), got {crop_pct}")
    if interpolation is not None and interpolation not in crop.INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {', '.join(crop.INTERPOLATIONS)}, got {interpolation!r}")

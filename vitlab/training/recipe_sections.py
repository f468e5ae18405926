"""The typed sections of a recipe: one dataclass each, defaults = a sensible small run.

vitlab.config builds and checks them (types, unknown keys); `validate()` checks values.
Recipe-level defaults and each `[[train]]` step use the same classes, so a key means the
same thing wherever it is written.
"""

import dataclasses

from vitlab.config import ConfigError

STRATEGIES = ("auto", "one_device", "mirrored", "multi_worker")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
DISTILL_KINDS = ("hard", "soft")


def _positive(section, **values):
    for key, value in values.items():
        if value <= 0:
            raise ConfigError(f"{key}: expected a positive number, got {value!r}")


def _fraction(**values):
    for key, value in values.items():
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"{key}: expected a value in [0, 1], got {value!r}")


@dataclasses.dataclass
class DataSection:
    """Where a training step's images come from (vitlab.data.load names)."""

    dataset: str = "shapes"
    split: str = "train"
    eval_split: str = "test"  # "" skips validation during training
    image_size: int = 0  # 0: the model's own input size
    num_classes: int = 0  # 0: from the dataset
    limit: int = 0  # 0: every image
    eval_limit: int = 0
    data_dir: str = ""
    shuffle_buffer: int = 2048

    def validate(self):
        for key in ("image_size", "num_classes", "limit", "eval_limit", "shuffle_buffer"):
            if getattr(self, key) < 0:
                raise ConfigError(f"{key}: expected 0 or more, got {getattr(self, key)}")
        if not self.dataset:
            raise ConfigError("dataset: expected a dataset name, got ''")


AUGMENT_CROPS = ("none", "random_resized", "padded", "auto")

# What a preset sets; a field the recipe writes wins, and a field neither sets is off.
# "deit": facebookresearch/deit main.py's defaults (lines 96-139): RandAugment
# rand-m9-mstd0.5-inc1, random erasing 0.25 ('pixel', one box), MixUp 0.8 / CutMix 1.0 one per
# batch (switch 0.5), label smoothing 0.1, repeated augmentation x3 (RASampler), flip, and
# datasets.py's crop (lines 92-96): RandomResizedCrop above 32 px, RandomCrop padding 4 at 32.
# "basic": torchvision's ResNet recipe at the image's scale (that crop and a flip) with label
# smoothing 0.1. docs/protocol.md ("Training augmentation (DeiT)") lists every constant's source.
AUGMENT_PRESETS = {
    "": {},
    "basic": {"crop": "auto", "flip": True, "label_smoothing": 0.1},
    "deit": {
        "crop": "auto",
        "flip": True,
        "rand_augment": True,
        "rand_augment_ops": 2,
        "rand_augment_magnitude": 9.0,
        "rand_augment_magnitude_std": 0.5,
        "mixup_alpha": 0.8,
        "cutmix_alpha": 1.0,
        "erasing_prob": 0.25,
        "repeats": 3,
        "label_smoothing": 0.1,
    },
}
AUGMENT_OFF = {
    "crop": "none",
    "flip": False,
    "rand_augment": False,
    "rand_augment_ops": 2,
    "rand_augment_magnitude": 9.0,
    "rand_augment_magnitude_std": 0.5,
    "mixup_alpha": 0.0,
    "cutmix_alpha": 0.0,
    "erasing_prob": 0.0,
    "repeats": 1,
    "label_smoothing": 0.0,
}


@dataclasses.dataclass
class AugmentSection:
    """Training augmentation as timm/DeiT define it (vitlab.training.augment); all off by
    default (the stylized recipes train without it). `preset` fills the fields left unset, so
    `preset = "deit"` with `cutmix_alpha = 0` and `erasing_prob = 0` is DeiT without both."""

    preset: str = ""  # "", "basic" or "deit"
    crop: str | None = None  # none | random_resized | padded | auto (padded at <= 32 px, else random_resized)
    flip: bool | None = None
    rand_augment: bool | None = None  # timm RandAugment, 'increasing' op set, each op with prob 0.5
    rand_augment_ops: int | None = None  # ops per image (timm's n)
    rand_augment_magnitude: float | None = None  # timm's m, on [0, 10]
    rand_augment_magnitude_std: float | None = None  # timm's mstd: per-op Gaussian noise on m
    mixup_alpha: float | None = None  # > 0 enables MixUp
    cutmix_alpha: float | None = None  # > 0 enables CutMix (one of the two per batch when both are on)
    erasing_prob: float | None = None
    repeats: int | None = None  # repeated augmentation: each image augmented this many times per batch
    label_smoothing: float | None = None
    # Augment several batches at once. Every draw is keyed by the batch's position, so the
    # stream is the same either way; on, augmentation competes with training for the cores.
    parallel: bool = False

    def validate(self):
        """Check the values, and fill the fields left unset from the preset (or off)."""
        if self.preset not in AUGMENT_PRESETS:
            raise ConfigError(
                f"preset: expected one of {', '.join(p for p in AUGMENT_PRESETS if p)} or '', got {self.preset!r}"
            )
        for key, value in {**AUGMENT_OFF, **AUGMENT_PRESETS[self.preset]}.items():
            if getattr(self, key) is None:
                setattr(self, key, value)
        if self.crop not in AUGMENT_CROPS:
            raise ConfigError(f"crop: expected one of {', '.join(AUGMENT_CROPS)}, got {self.crop!r}")
        _fraction(erasing_prob=self.erasing_prob, label_smoothing=self.label_smoothing)
        if not 0 <= self.rand_augment_magnitude <= 10 or self.rand_augment_magnitude_std < 0:
            raise ConfigError(
                "rand_augment_magnitude: expected a value in [0, 10] (timm's m), and "
                "rand_augment_magnitude_std 0 or more"
            )
        if self.mixup_alpha < 0 or self.cutmix_alpha < 0:
            raise ConfigError("mixup_alpha/cutmix_alpha: expected 0 or more")
        if self.repeats < 1 or self.rand_augment_ops < 1:
            raise ConfigError("repeats/rand_augment_ops: expected 1 or more")
        return self


@dataclasses.dataclass
class OptimSection:
    """AdamW with linear warmup and cosine decay, as DeiT."""

    epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 1e-3
    min_learning_rate: float = 1e-5
    warmup_epochs: float = 1.0
    weight_decay: float = 0.05
    clip_norm: float = 0.0  # 0: no gradient clipping
    steps_per_epoch: int = 0  # 0: one pass over the data
    checkpoint_every_steps: int = 0  # resume state every N steps (0: by time only); epoch ends always
    checkpoint_minutes: float = 5.0  # and after this much training time (0: by steps / epoch ends only)
    # Keep the model at every epoch end (RUN/snapshots/STEP/epoch-NNN.keras), so a study can compare
    # models along training, e.g. architectures at matched clean accuracy.
    snapshots: bool = False
    # With snapshots: also keep the model after these training steps (RUN/snapshots/STEP/step-NNNNNNN.keras),
    # early in training, where a fast learner passes the accuracies a slow one reaches epochs later.
    snapshot_steps: list[int] = dataclasses.field(default_factory=list)

    def validate(self):
        _positive(self, epochs=self.epochs, batch_size=self.batch_size, learning_rate=self.learning_rate)
        if any(not isinstance(s, int) or isinstance(s, bool) or s < 1 for s in self.snapshot_steps):
            raise ConfigError(f"snapshot_steps: expected a list of step counts of 1 or more, got {self.snapshot_steps}")
        if self.snapshot_steps and not self.snapshots:
            raise ConfigError("snapshot_steps: needs snapshots = true")
        for key in (
            "min_learning_rate",
            "warmup_epochs",
            "weight_decay",
            "clip_norm",
            "steps_per_epoch",
            "checkpoint_every_steps",
            "checkpoint_minutes",
        ):
            if getattr(self, key) < 0:
                raise ConfigError(f"{key}: expected 0 or more, got {getattr(self, key)}")
        if self.warmup_epochs > self.epochs:
            raise ConfigError(f"warmup_epochs: expected at most epochs ({self.epochs}), got {self.warmup_epochs}")


@dataclasses.dataclass
class DistillSection:
    """Distillation (shape) token: teacher is a step name, a registry name or a .keras file."""

    teacher: str = ""  # "": no distillation
    kind: str = "hard"
    temperature: float = 1.0
    dist_weight: float = 0.5  # loss = (1 - w) * CE(class head, labels) + w * CE(dist head, teacher)

    def validate(self):
        if self.kind not in DISTILL_KINDS:
            raise ConfigError(f"kind: expected one of {', '.join(DISTILL_KINDS)}, got {self.kind!r}")
        _positive(self, temperature=self.temperature)
        _fraction(dist_weight=self.dist_weight)


@dataclasses.dataclass
class ModelSection:
    """A single-model recipe's model (saved as `final`); [[train]] steps name theirs inline."""

    name: str = ""
    drop_path_rate: float = 0.0

    def validate(self):
        _fraction(drop_path_rate=self.drop_path_rate)


@dataclasses.dataclass
class SmokeSection:
    """What `smoke = true` shrinks every step to."""

    epochs: int = 1
    limit: int = 256
    eval_limit: int = 64

    def validate(self):
        _positive(self, epochs=self.epochs, limit=self.limit, eval_limit=self.eval_limit)


@dataclasses.dataclass
class ExportSection:
    """Models (step names) written as SavedModels into RUN/export/<name> at the end."""

    models: list[str] = dataclasses.field(default_factory=list)
    top_k: int = 5

    def validate(self):
        _positive(self, top_k=self.top_k)


@dataclasses.dataclass
class TopLevel:
    """Keys at the top of a recipe file."""

    name: str = ""
    description: str = ""
    seed: int = 0
    smoke: bool = False
    strategy: str = "auto"
    precision: str = "float32"
    log_every: int = 20  # steps between progress events
    # the summary key (or fnmatch pattern, e.g. "occlusion/top1_random_*/vit") that the runs
    # list and the dashboard show for this run; "": the run's first summary entry
    headline: str = ""

    def validate(self):
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"strategy: expected one of {', '.join(STRATEGIES)}, got {self.strategy!r}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision: expected one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        _positive(self, log_every=self.log_every)


@dataclasses.dataclass
class TrainFields:
    """The scalar keys of one [[train]] step (its sections are the classes above)."""

    name: str = ""
    model: str = ""
    drop_path_rate: float = 0.0

    def validate(self):
        if not self.name or not self.model:
            raise ConfigError("name and model: every [[train]] step needs both")
        _fraction(drop_path_rate=self.drop_path_rate)


@dataclasses.dataclass
class EvaluateFields:
    """One [[evaluate]] step: an experiment on trained (or named) models; `set` is its config."""

    experiment: str = ""
    name: str = ""  # result key; defaults to the experiment name
    models: list[str] = dataclasses.field(default_factory=list)
    dataset: str = "shapes"
    split: str = "test"
    limit: int = 0
    batch_size: int = 64
    data_dir: str = ""

    def validate(self):
        if not self.experiment:
            raise ConfigError("experiment: every [[evaluate]] step needs one")
        if not self.models:
            raise ConfigError("models: expected a list of step names, model names or files")
        _positive(self, batch_size=self.batch_size)
        if self.limit < 0:
            raise ConfigError(f"limit: expected 0 or more, got {self.limit}")


TRAIN_SECTIONS = {"data": DataSection, "augment": AugmentSection, "optim": OptimSection, "distill": DistillSection}
GLOBAL_SECTIONS = {**TRAIN_SECTIONS, "model": ModelSection, "smoke": SmokeSection, "export": ExportSection}

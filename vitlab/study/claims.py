"""The paper's other claims measured on each study cell's final model, one cell at a time.

Every experiment the 32-px findings ran (occlusion with foreground and background drops, feature
correlation, shuffle, shape bias, token similarity, segmentation, corruptions, PGD, the linear
probe) runs on each cell that has finished training, in a recipe run of its own at
`CELL/claims` (resumable, like any run). One run per cell, not per seed, so a cell is measured
once, when it is done, whatever trains after it; the corruption step names the seed's
`resnet_basic` as its mCE baseline, so each cell's mCE is relative to the same model.
vitlab.study.claims_report reads the runs back and re-tests the claims of
vitlab.findings.claims on them.
"""

import dataclasses
import json
import sys

from vitlab.errors import EXIT_INTERRUPTED, UserError
from vitlab.study import design, runner

RUN = runner.CLAIMS_RUN
is_done = runner.run_finished  # whether the claims run in a folder finished
BASELINE = "resnet_basic"  # the paper's CNN baseline is the mCE reference of every cell
GRID = "8x8"  # the ViT's patch grid at 64 px: PatchDrop cells are its tokens
CORRUPTIONS = (  # the 32-px findings' eight
    "gaussian_noise",
    "defocus_blur",
    "motion_blur",
    "fog",
    "brightness",
    "contrast",
    "pixelate",
    "jpeg_compression",
)
EPSILONS = (0.0, 1 / 255, 2 / 255, 4 / 255)


@dataclasses.dataclass(frozen=True)
class Step:
    experiment: str
    kinds: tuple  # the model kinds it applies to: "vit", "distilled", "cnn"
    limit: int
    settings: dict = dataclasses.field(default_factory=dict)
    dataset: str = "objects64"


ALL = ("vit", "distilled", "cnn")
STEPS = (
    Step(
        "occlusion",
        ALL,
        1000,
        {
            "modes": ["random", "mask_salient", "mask_non_salient"],
            "levels": [0.0, 0.25, 0.5, 0.75, 0.9],
            "repeats": 1,
            "grid": GRID,
        },
    ),
    Step("correlation", ALL, 300, {"levels": [0.25, 0.5, 0.75], "grid": GRID}),
    Step("shuffle", ALL, 1000, {"grids": ["2x2", "4x4", "8x8", "16x16"]}),
    Step("shape-bias", ALL, 1000, {}, "objects64:cue_conflict"),
    Step("token-similarity", ("distilled",), 500),
    Step("segmentation", ("vit", "distilled"), 1000),
    Step(
        "corruption",
        ALL,
        200,
        {"corruptions": list(CORRUPTIONS), "severities": [1, 3, 5], "baseline": "{baseline}"},
    ),
    Step(
        "adversarial",
        ALL,
        200,
        {"attacks": ["fgsm", "pgd"], "epsilons": list(EPSILONS), "steps": 5, "heads": ["average"], "transfer": False},
    ),
    Step(
        "linear-probe",
        ALL,
        1000,
        {
            "method": "logistic",
            "blocks": "all",
            "train_split": "holdout",
            "c_grid": [0.1, 1.0],
            "cv_folds": 2,
            "n_jobs": 1,
        },
        "fashion_mnist",
    ),
)


def kind(cell_name):
    """'cnn', 'distilled' (a DeiT with a distillation token) or 'vit'."""
    model = design.CELLS[cell_name].model
    if model.startswith("resnet"):
        return "cnn"
    return "distilled" if "distilled" in model else "vit"


def _toml(value):
    """A TOML value (json's lists, strings and numbers are TOML's; booleans are lower case)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def recipe_text(cell_name, seed):
    """The evaluate-only recipe that measures one cell's final model (`study:CELL@SEED`, so the
    recipe and its run name no machine's paths)."""
    lines = [
        f"# study claims of cell {cell_name}, seed {seed} (vitlab.study.claims)",
        f'name = "study-claims-{cell_name}"',
        f"seed = {seed}",
        'strategy = "one_device"',
        'precision = "float32"',
        "log_every = 20",
        "",
    ]
    for step in STEPS:
        if kind(cell_name) not in step.kinds:
            continue
        # the baseline's own run names it as its model: measured once, its mCE 1 by definition
        baseline = BASELINE if cell_name == BASELINE else f"study:{BASELINE}@{seed}"
        settings = {k: (baseline if v == "{baseline}" else v) for k, v in step.settings.items()}
        lines += [
            "[[evaluate]]",
            f'experiment = "{step.experiment}"',
            f'models = ["study:{cell_name}@{seed}"]',
            f'dataset = "{step.dataset}"',
            f"limit = {step.limit}",
        ]
        if settings:
            lines.append(f"set = {_toml(settings)}")
        lines.append("")
    return "\n".join(lines)


def run_dir(seed, cell_name):
    return runner.cell_dir(seed, cell_name) / RUN


def measure_cell(seed, cell_name, smoke=False, quiet=False):
    """Run (or resume) the cell's claims run; its directory. The cell and the seed's baseline must
    be trained (their final models exist)."""
    from vitlab.child_process import run_child

    if cell_name not in design.CELLS:
        raise UserError(f"unknown study cell {cell_name!r}; cells: {', '.join(design.CELLS)}")
    model, baseline = runner.model_file(seed, cell_name), runner.model_file(seed, BASELINE)
    for name, path in ((cell_name, model), (BASELINE, baseline)):
        if not path.exists():
            raise UserError(
                f"study cell {name} (seed {seed}) has no final model yet ({path}); "
                f"train it with `vitlab study train --seed {seed} --cells {name}`"
            )
    target = run_dir(seed, cell_name)
    vitlab = [sys.executable, "-m", "vitlab.cli", "recipe", "run", *(["--quiet"] if quiet else [])]
    if (target / "run.json").exists():
        command = [*vitlab, "--resume", str(target)]
    else:
        recipe = target.parent / f"{RUN}.toml"
        recipe.write_text(recipe_text(cell_name, seed))
        command = [*vitlab, str(recipe), "--out", str(target)]
        if smoke:
            command.append("--set=smoke=true")
    code = run_child(command)
    if code == EXIT_INTERRUPTED:
        raise KeyboardInterrupt
    if code:
        raise UserError(f"study claims of {cell_name} (seed {seed}) stopped with exit code {code}; run again to resume")
    return target


def cells_ready(seed, names=None):
    """The cells (in design order) whose final model exists, the baseline's included."""
    names = list(names or design.CELLS)
    return [n for n in names if runner.model_file(seed, n).exists()]

"""The occlusion controls a reviewer asks for, on a cell's model: does a PatchDrop result depend
on the fill (black as the paper, the data's mean colour, noise), on where the grid lies (shifted
by half a cell), and on what is dropped (random cells, the object's cells first, the
background's first)?

Measured on objects64's test set (the first LIMIT images, the same for every model) on the 8x8
grid of the ViT's patches, at 25% and 50% of the cells; written to CELL/controls.json under the
measured file's name (the final model, or the newest snapshot while the cell trains), so the
report can say which model a row is.
"""

import json
from pathlib import Path

LEVELS = (0.0, 0.25, 0.5)
LIMIT = 1000
GRID = "8x8"
# control: the occlusion options that make it (vitlab.experiments.occlusion.Config)
CONTROLS = {
    "black": {"modes": ["random"], "fill": "black"},
    "mean": {"modes": ["random"], "fill": "mean"},
    "noise": {"modes": ["random"], "fill": "noise"},
    "offset": {"modes": ["random"], "grid_offset": [4, 4]},
    "foreground": {"modes": ["mask_salient"]},
    "background": {"modes": ["mask_non_salient"]},
}
CONTROLS_FILE = "controls.json"


def measure(model_path, limit=LIMIT, dataset="objects64"):
    """{control: {level: top-1}} for one model file."""
    from vitlab.study.snapshot_eval import occlusion_top1

    return {
        control: occlusion_top1(model_path, dataset, limit, LEVELS, grid=GRID, **options)
        for control, options in CONTROLS.items()
    }


def newest_model(cell):
    """The cell's final model, else its newest snapshot (by training steps), else None."""
    from vitlab.study import analysis

    name = Path(cell).name
    final = Path(cell) / "models" / f"{name}.keras"
    if final.exists():
        return final
    folder = Path(cell) / "snapshots" / name
    snapshots = [*folder.glob("epoch-*.keras"), *folder.glob("step-*.keras")]
    return max(snapshots, key=lambda p: analysis.steps_of(p.stem)) if snapshots else None


def measure_cell(cell, limit=LIMIT):
    """Measure the cell's newest model unless controls.json already holds it; the file's contents."""
    from vitlab import atomic

    path = Path(cell) / CONTROLS_FILE
    done = json.loads(path.read_text()) if path.exists() else {}
    model = newest_model(cell)
    if model is None:
        return done
    key = "final" if model.parent.name == "models" else model.stem
    if key not in done:
        done[key] = measure(model, limit)
        atomic.write_json(path, done, indent=1)
    return done

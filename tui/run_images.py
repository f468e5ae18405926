"""The pictures a run holds, whoever drew them: the report's plots (RUN/report/*.png, written
when a run ends), the images results record (attention grids), and any other PNG an
experiment left in a folder of the run. Found by listing files, so a run whose results.h5
cannot be read still shows its plots.
"""

import os
from pathlib import Path

SUFFIXES = (".png", ".jpg", ".jpeg")
REPORT = "report"
# folders that hold models, checkpoints and exports, never pictures to look at; not walked
SKIP = {"checkpoints", "models", "tensorboard", "export", "tables"}
MAX_DEPTH = 3


def _is_image(name):
    return name.lower().endswith(SUFFIXES) and not name.startswith(".")


def _walk(run_dir):
    """Relative paths of images in the run's other folders (not its top level or report/)."""
    found = []
    for top, folders, files in os.walk(run_dir):
        depth = len(Path(top).relative_to(run_dir).parts)
        if depth == 0:
            folders[:] = [f for f in folders if f not in SKIP and f != REPORT and not f.startswith(".")]
            continue
        folders[:] = [f for f in folders if not f.startswith(".")] if depth < MAX_DEPTH else []
        found += [(Path(top) / name).relative_to(run_dir).as_posix() for name in files if _is_image(name)]
    return sorted(found)


def run_images(run_dir, recorded=()):
    """[(group, [relative path, ...])] in the order the Images tab lists them: the report's
    plots, then each folder's images (those results record first, in their order)."""
    run_dir = Path(run_dir)
    try:
        plots = sorted(
            f"{REPORT}/{entry.name}"
            for entry in os.scandir(run_dir / REPORT)
            if entry.is_file() and _is_image(entry.name)
        )
    except OSError:  # no report yet (it is written when the run ends), or unreadable
        plots = []
    others = {}
    for relative in list(recorded) + _walk(run_dir):
        relative = Path(relative).as_posix()
        if relative.startswith(f"{REPORT}/"):
            continue
        folder = relative.rsplit("/", 1)[0] if "/" in relative else "."
        others.setdefault(folder, {})[relative] = None  # a dict keeps the first order, once each
    groups = [(REPORT, plots)] if plots else []
    return groups + [(folder, list(paths)) for folder, paths in others.items()]

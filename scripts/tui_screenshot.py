"""Regenerate docs/tui.svg, the README's screenshot of `vitlab tui`: the runs screen at 150x34
on the synthetic runs of tests/sample_runs.py (a demo-like study run on top, with its eight
models and its named headline), two runs marked for comparison.

    .venv/bin/python scripts/tui_screenshot.py

Needs no TensorFlow and no network; the runs live in a temporary folder.
"""

import asyncio
import os
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS.parent / "tests"))

from sample_runs import make_broken_runs, make_demo_run, make_runs

from vitlab.tui.app import create_app

SIZE = (150, 34)


async def shoot(out):
    app = create_app("runs", poll_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        table = app.runs_screen.table
        while table.row_count < 21:
            await pilot.pause(0.05)
        await pilot.press("down", "space", "down", "down", "down", "space", "down", "down")
        await pilot.pause(0.2)
        out.write_text(app.export_screenshot())


def main():
    out = DOCS / "tui.svg"
    with tempfile.TemporaryDirectory(prefix="vitlab-tui-shot-") as folder:
        os.chdir(folder)  # the screen shows the runs root as given: "runs"
        make_runs("runs", 17)
        make_broken_runs("runs")
        make_demo_run(Path("runs"))
        asyncio.run(shoot(out))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

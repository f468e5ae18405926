"""Snapshots of the main screens at a fixed size with fixed fake runs (pytest-textual-snapshot).

Update after an intended change with `pytest tests/test_tui_snapshots.py --snapshot-update`
and look at the report it writes before committing the new SVGs.
"""

import pytest
from sample_runs import make_broken_runs, make_runs

from vitlab.tui import catalog
from vitlab.tui.app import create_app

SIZE = (130, 36)


@pytest.fixture
def runs_app(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # the snapshots show no zoo models: the repository's zoo/ grows as models ship
    monkeypatch.setenv("VITLAB_ZOO", str(tmp_path / "no-zoo"))
    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path / "cache"))
    make_runs("runs", 6)
    make_broken_runs("runs")
    monkeypatch.setattr(
        catalog,
        "experiment_options",
        lambda name: [
            catalog.Option("drop", "str", "random"),
            catalog.Option("levels", "list[float]", [0.0, 0.25, 0.5]),
            catalog.Option("patch_size", "int | None", None),
            catalog.Option("repeats", "int", 1),
        ],
    )
    return create_app("runs", poll_interval=3600)


async def _until(pilot, predicate, timeout=20.0):
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError("screen not ready in time")


async def _loaded(pilot):
    await _until(pilot, lambda: pilot.app.runs_screen.table.row_count == 9)
    await pilot.pause(0.1)


def test_runs_screen(runs_app, snap_compare):
    assert snap_compare(runs_app, terminal_size=SIZE, run_before=_loaded)


def test_detail_results(runs_app, snap_compare):
    async def open_results(pilot):
        await _loaded(pilot)
        await pilot.press("down", "down", "down", "enter", "2")  # the corruption run: bars + table
        await _until(pilot, lambda: pilot.app.screen.query("CurvePlot"))
        await pilot.pause(0.2)

    assert snap_compare(runs_app, terminal_size=SIZE, run_before=open_results)


def test_launch_form(runs_app, snap_compare):
    async def open_form(pilot):
        await _loaded(pilot)
        await pilot.press("n")
        await _until(pilot, lambda: pilot.app.screen.query(".option"))
        await pilot.pause(0.1)

    assert snap_compare(runs_app, terminal_size=(130, 44), run_before=open_form)


def test_help(runs_app, snap_compare):
    assert snap_compare(runs_app, terminal_size=SIZE, press=["question_mark"], run_before=_loaded)

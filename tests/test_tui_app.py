"""The dashboard driven by Textual's Pilot: navigation, filter, detail, compare, launch, cancel.

A small script stands in for `vitlab` (the launcher's program is injectable): it creates the
run the way `vitlab eval` does, reports progress, and sleeps until cancelled when asked to.
"""

import asyncio
import os
import sys
import textwrap

import pytest
from sample_runs import make_broken_runs, make_run, make_runs

from vitlab.tui.app import create_app

FAKE_VITLAB = textwrap.dedent("""
    import sys, time
    from vitlab.results import RunStore
    from vitlab.results.run_status import active
    from sample_runs import RESULTS
    args = sys.argv[1:]
    value = lambda flag: args[args.index(flag) + 1]
    models = [args[i + 1] for i, a in enumerate(args) if a == "--model"]
    if "nope" in models:
        print("error: unknown model 'nope'", file=sys.stderr); sys.exit(2)
    steps = 1000 if "sleep=long" in args else 4
    run = RunStore(value("--runs")).create(name=args[1], kind="eval", config={"experiment": args[1]},
                                           models=models, dataset=value("--dataset"), path=value("--out"))
    try:
        with active(run, report=False):
            for done in range(1, steps + 1):
                run.event("progress", step=args[1], done=done, total=steps, acc=1.0 / done)
                time.sleep(0.05)
            run.write_result(RESULTS["occlusion"](models))
    except KeyboardInterrupt:
        sys.exit(130)
""")


@pytest.fixture
def fake_program(tmp_path):
    script = tmp_path / "fake_vitlab.py"
    tests = os.path.dirname(os.path.abspath(__file__))  # the fake imports sample_runs from here
    script.write_text(f"import sys; sys.path.insert(0, {tests!r})\n" + FAKE_VITLAB)
    return [sys.executable, str(script)]


async def wait_for(pilot, predicate, timeout=20.0):
    for _ in range(int(timeout / 0.1)):
        if predicate():
            return
        await pilot.pause(0.1)
    raise AssertionError("condition not reached in time")


def test_navigation_filter_and_detail(tmp_path):
    make_runs(tmp_path, 8)
    make_broken_runs(tmp_path)

    async def scenario():
        app = create_app(tmp_path, poll_interval=0.2)
        async with app.run_test(size=(140, 40)) as pilot:
            table = app.runs_screen.table
            await wait_for(pilot, lambda: table.row_count == 11)
            assert table.current_row.name == "linear-probe"  # newest first
            await pilot.press("down", "down")
            assert table.current_row.name == "shuffle"
            await pilot.press("slash", *"version")
            await wait_for(pilot, lambda: table.row_count == 1)
            assert [table.all_rows[i].status for i in table.visible_ids] == ["other version"]
            await pilot.press("escape", "slash", *"resnet done")
            await wait_for(pilot, lambda: table.filter_text == "resnet done")
            shown = [table.all_rows[i] for i in table.visible_ids]
            assert shown and all("resnet" in r.models and r.status == "done" for r in shown)
            await pilot.press("escape")
            assert table.row_count == 11 and app.focused is table
            await pilot.press("s")  # sort by name
            names = [table.all_rows[i].name for i in table.visible_ids]
            assert names == sorted(names)
            table.move_cursor(row=names.index("occlusion"))
            await pilot.press("enter")
            await pilot.pause(0.1)
            assert type(app.screen).__name__ == "DetailScreen"
            await pilot.press("2")
            await wait_for(pilot, lambda: len(app.screen.query("CurvePlot")) == 1)
            assert app.screen.query_one("ResultTable").table.title == "accuracy at 50% loss"
            await pilot.press("escape", "question_mark")
            assert type(app.screen).__name__ == "HelpScreen"
            await pilot.press("escape", "ctrl+t")
            assert not app.current_theme.dark
            commands = [c.title for c in app.get_system_commands(app.screen)]
            assert {"New run", "Filter", "Compare marked", "Cancel run", "Help"} <= set(commands)

    asyncio.run(scenario())


def test_broken_run_detail_shows_the_reason(tmp_path):
    make_broken_runs(tmp_path)
    run = make_run(tmp_path, 1)
    (run.path / "results.h5").write_bytes(b"not hdf5")

    async def scenario():
        app = create_app(tmp_path)
        async with app.run_test(size=(120, 36)) as pilot:
            table = app.runs_screen.table
            await wait_for(pilot, lambda: table.row_count == 4)
            await pilot.press("enter", "2")
            await wait_for(
                pilot, lambda: "unreadable" in str(app.screen.query_one("#results-body").children[0].render())
            )
            await pilot.press("escape", "end", "enter", "2")
            await wait_for(
                pilot, lambda: "no run.json" in str(app.screen.query_one("#results-body").children[0].render())
            )

    asyncio.run(scenario())


def test_compare_overlays_the_same_experiment(tmp_path):
    for index in range(3):
        make_run(tmp_path, index, experiment="shuffle", models=["vit_test"], shift=0.05 * index)

    async def scenario():
        app = create_app(tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.runs_screen.table
            await wait_for(pilot, lambda: table.row_count == 3)
            await pilot.press("c")
            assert type(app.screen).__name__ == "RunsScreen"  # nothing marked yet
            await pilot.press("space", "down", "space", "c")
            await wait_for(pilot, lambda: len(app.screen.query("CurvePlot")) == 1)
            plot = app.screen.query_one("CurvePlot")
            assert len(plot.curves) == 2 and all(c.title == "Patch shuffle" for _, c in plot.curves)

    asyncio.run(scenario())


def test_500_runs_load_fast_and_filter_fast(tmp_path):
    make_runs(tmp_path, 500, results_every=50)

    async def scenario():
        app = create_app(tmp_path)
        async with app.run_test(size=(140, 40)) as pilot:
            table = app.runs_screen.table
            await wait_for(pilot, lambda: table.row_count == 500, timeout=10)
            import time

            rebuilds = []
            original = table.rebuild
            table.rebuild = lambda: rebuilds.append(1) or original()
            started = time.perf_counter()
            await pilot.press("slash", *"fashion")
            await wait_for(pilot, lambda: table.row_count < 500, timeout=5)
            assert time.perf_counter() - started < 5.0
            assert table.row_count == 167 and len(rebuilds) < len("fashion")  # typing bursts are merged
            changed, removed = app.index.refresh()
            assert (changed, removed) == ([], [])  # a quiet tick re-reads nothing

    asyncio.run(scenario())


def test_launch_from_form_then_cancel(tmp_path, fake_program, monkeypatch):
    from vitlab.tui import catalog

    monkeypatch.setattr(
        catalog,
        "experiment_options",
        lambda name: [catalog.Option("repeats", "int", 3), catalog.Option("sleep", "str", "short")],
    )

    async def scenario():
        app = create_app(tmp_path, program=fake_program, poll_interval=0.2)
        async with app.run_test(size=(140, 48)) as pilot:
            await pilot.press("n")
            form = app.screen
            assert type(form).__name__ == "LaunchScreen"
            await pilot.press("ctrl+s")
            assert "pick at least one model" in str(form.query_one("#errors").render())
            form.query_one("#extra-models").value = "vit_test"
            form.query_one("#limit").value = "16"
            form.query_one("#extra-options").value = "sleep=long"
            await wait_for(pilot, lambda: form.query(".option"))
            form.query_one("#opt-repeats").value = "many"
            await pilot.press("ctrl+s")
            assert "repeats: expected an integer, got 'many'" in str(form.query_one("#errors").render())
            form.query_one("#opt-repeats").value = "2"
            await pilot.press("ctrl+s")
            assert type(app.screen).__name__ == "RunsScreen", str(form.query_one("#errors").render())
            table = app.runs_screen.table
            await wait_for(
                pilot,
                lambda: (
                    table.current_row is not None
                    and table.current_row.status == "running"
                    and table.current_row.progress
                    and table.current_row.progress.done > 0
                ),
            )
            launched = table.current_row
            assert launched.models == "vit_test"
            process = app.launcher.launches[launched.id].process
            assert os.getsid(process.pid) == process.pid  # own session: quitting the TUI leaves it running
            assert process.args[-4:] == ["--set", "repeats=2", "--set", "sleep=long"]
            await pilot.press("x")
            assert type(app.screen).__name__ == "ConfirmScreen"
            await pilot.press("n")
            assert app.index.get(launched.id).status == "running"
            await pilot.press("x", "y")
            await wait_for(pilot, lambda: app.index.get(launched.id).status == "interrupted")

    asyncio.run(scenario())


def test_launch_runs_to_done_and_failed_launch_shows_why(tmp_path, fake_program):
    async def scenario():
        app = create_app(tmp_path, program=fake_program, poll_interval=0.2)
        async with app.run_test(size=(140, 48)) as pilot:
            from vitlab.tui.launcher import LaunchRequest

            good = app.start_run(LaunchRequest(kind="occlusion", models=["vit_test"]))
            bad = app.start_run(LaunchRequest(kind="occlusion", models=["nope"]))
            await wait_for(pilot, lambda: getattr(app.index.get(good.run_dir.name), "status", "") == "done")
            await wait_for(pilot, lambda: getattr(app.index.get(bad.run_dir.name), "status", "") == "failed")
            assert app.index.get(bad.run_dir.name).reason == "error: unknown model 'nope'"
            assert app.index.get(good.run_dir.name).headline.startswith("acc@0.5")

    asyncio.run(scenario())

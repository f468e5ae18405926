"""The dashboard shows what a run holds, on the demo's kind of run: every model it trained or
evaluated, the headline its recipe names, and every picture (report plots, attention grids).

The run (tests/sample_runs.make_demo_run) is built with the RunStore API as `vitlab recipe run
demo` lays it out; no TensorFlow.
"""

import asyncio

from sample_runs import DEMO_ATTENTION_PNG as ATTENTION_PNG
from sample_runs import DEMO_HEADLINE as HEADLINE
from sample_runs import DEMO_MODELS as MODELS
from sample_runs import DEMO_REPORT_PNGS as REPORT_PNGS
from sample_runs import make_demo_run

from vitlab.results import RunStore
from vitlab.tui.app import create_app
from vitlab.tui.widgets.run_cells import headline_lines, model_lines


async def _until(pilot, predicate, timeout=20.0):
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached in time")


def test_the_demo_run_shows_every_model_its_named_headline_and_its_pictures(tmp_path):
    named = make_demo_run(tmp_path)
    unnamed = make_demo_run(tmp_path, headline="", path_name="20240101-090000-demo-bbbbbb")

    async def scenario():
        app = create_app(tmp_path, poll_interval=3600)
        async with app.run_test(size=(150, 44)) as pilot:
            table = app.runs_screen.table
            await _until(pilot, lambda: table.row_count == 2)
            assert table.visible_ids == [named.id, unnamed.id]  # newest first
            columns = [column.key.value for column in table.ordered_columns]
            models_cell = str(table.get_cell_at((0, columns.index("models"))))
            assert models_cell.splitlines() == [
                "brief_vit; zoo: vit,",
                "vit_nopos, resnet,",
                "resnet_sin, deit_shape,",
                "deit_tex, deit_sin",
            ]
            assert table.ordered_rows[0].height == 4
            assert table.all_rows[named.id].models == ", ".join(MODELS)
            # the recipe's headline wins over the first summary key (adversarial/…, sorted first),
            # wrapped over the tall row so that its value shows in a narrow terminal
            assert table.all_rows[named.id].headline == f"{HEADLINE} 0.8125"
            cell = str(table.get_cell_at((0, columns.index("headline"))))
            assert cell.splitlines() == ["occlusion/", "top1_random_0.50/vit", "0.8125"]
            assert table.all_rows[unnamed.id].headline == "adversarial/fgsm@4_255/resnet 0.11"
            await pilot.press("slash", *"deit_tex")  # the filter finds a run by any of its models
            await _until(pilot, lambda: table.filter_text == "deit_tex")
            assert table.row_count == 2
            await pilot.press("escape", "enter")
            await _until(pilot, lambda: type(app.screen).__name__ == "DetailScreen")
            facts = str(app.screen.query_one("#facts").render())
            assert f"models: {', '.join(MODELS)}" in facts
            assert f"headline: {HEADLINE} 0.8125 (named by the run)" in facts
            await pilot.press("4")
            await _until(pilot, lambda: app.screen.query("ImagePanel"))
            listing = app.screen.query_one("#image-list")
            options = [listing.get_option_at_index(i) for i in range(listing.option_count)]
            assert [o.id for o in options] == [None, *REPORT_PNGS, None, ATTENTION_PNG]  # headings, then files
            assert [str(o.prompt) for o in options] == [
                "report plots (2)",
                "adversarial-0-FGSM_accuracy_vs_epsilon.png",
                "occlusion-0-PatchDrop_random.png",
                "attention/ (1)",
                "vit-image3-clean.png",
            ]
            listing.focus()
            listing.highlighted = 1
            area = app.screen.query_one("#image-area")
            await _until(pilot, lambda: area.children and "Image" in type(area.children[0]).__name__)
            assert area.children[0].image == str(named.path / REPORT_PNGS[0])

    asyncio.run(scenario())


def test_a_run_without_pictures_says_so(tmp_path):
    run = RunStore(tmp_path).create(name="shuffle", kind="eval", config={}, models=["vit_test"])
    run.update(status="done")

    async def scenario():
        app = create_app(tmp_path, poll_interval=3600)
        async with app.run_test(size=(120, 36)) as pilot:
            await _until(pilot, lambda: app.runs_screen.table.row_count == 1)
            await pilot.press("enter", "4")
            await _until(pilot, lambda: app.screen.query("#image-hint"))
            assert str(app.screen.query_one("#image-hint").render()) == "This run has no images."

    asyncio.run(scenario())


def test_a_row_grows_when_its_run_records_more_models(tmp_path):
    run = RunStore(tmp_path).create(name="demo", kind="recipe", config={}, models=["brief_vit"])

    async def scenario():
        app = create_app(tmp_path, poll_interval=3600)
        async with app.run_test(size=(150, 30)) as pilot:
            table = app.runs_screen.table
            await _until(pilot, lambda: table.row_count == 1)
            assert table.ordered_rows[0].height == 1
            run.update(models=MODELS)
            app.refresh_runs()
            await _until(pilot, lambda: table.ordered_rows[0].height == 4)
            assert table.current_row.models == ", ".join(MODELS)

    asyncio.run(scenario())


def test_long_headlines_wrap_only_in_rows_tall_enough():
    assert headline_lines("occlusion/top1_random_0.50/vit 0.8125", 4) == [
        "occlusion/",
        "top1_random_0.50/vit",
        "0.8125",
    ]
    assert headline_lines("occlusion/top1_random_0.50/vit 0.8125", 2) == ["occlusion/top1_random_0.50/vit 0.8125"]
    assert headline_lines("unknown dataset 'tfds:nope'", 2) == ["unknown dataset", "'tfds:nope'"]
    assert headline_lines("acc@0.5 0.6732", 3) == ["acc@0.5 0.6732"]
    assert headline_lines("x" * 50, 4) == ["x" * 39 + "…"]  # no place to break: one clipped line


def test_models_wrap_in_the_column_and_count_what_does_not_fit():
    assert model_lines(["vit_test", "resnet_test"]) == ["vit_test, resnet_test"]
    assert model_lines(["zoo:vit"]) == ["zoo:vit"]
    assert model_lines(["a", "zoo:vit", "b"]) == ["a; zoo:vit; b"]
    assert model_lines(["deit_tiny_patch16_224", "resnet50"]) == ["deit_tiny_patch16_224,", "resnet50"]
    many = model_lines([f"model_number_{i:02d}" for i in range(40)])
    assert many == ["model_number_00,", "model_number_01,", "model_number_02,", "model_number_03, +36"]
    assert model_lines(["x" * 30]) == ["x" * 23 + "…"]

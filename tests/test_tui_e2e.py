"""End to end: launch a tiny real occlusion run from the form and see it finish with charts."""

import asyncio

import pytest

from vitlab.tui.app import create_app


@pytest.mark.slow
def test_launch_real_occlusion_run_from_the_form(tmp_path):
    async def scenario():
        app = create_app(tmp_path / "runs", poll_interval=0.5)
        async with app.run_test(size=(140, 48)) as pilot:
            await pilot.press("n")
            form = app.screen
            form.query_one("#extra-models").value = "vit_test"
            form.query_one("#dataset").value = "shapes"
            form.query_one("#limit").value = "16"
            await pilot.press("ctrl+s")
            table = app.runs_screen.table
            run_id = None
            for _ in range(600):  # up to 5 minutes on a loaded 2-core machine
                row = table.current_row
                run_id = run_id or (row.id if row else None)
                row = app.index.get(run_id) if run_id else None
                if row is not None and row.status in ("done", "failed", "interrupted"):
                    break
                await pilot.pause(0.5)
            assert row is not None and row.status == "done", row and (row.status, row.reason, app.launch_log(row.id))
            assert row.models == "vit_test" and row.headline
            table.move_cursor(row=table.visible_ids.index(run_id))
            await pilot.press("enter", "2")
            for _ in range(100):
                if app.screen.query("CurvePlot"):
                    break
                await pilot.pause(0.1)
            assert app.screen.query("CurvePlot")

    asyncio.run(scenario())

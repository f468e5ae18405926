"""Result.to_frame / Result.plot and `runs export`, on hand-made results (no TensorFlow)."""

import json
import math
import sys

import numpy as np
import pytest
from helpers import run_cli

from vitlab.results import Curve, Result, RunStore, Table
from vitlab.results.frames import COLUMNS, MissingExtraError, split_label

pandas = pytest.importorskip("pandas")


def hand_made():
    """Two models, a DeiT with two heads: the shapes of labels experiments actually use."""
    return Result(
        experiment="adversarial",
        config={"eps": [1, 2]},
        models=["vit", "deit"],
        curves=[
            Curve(
                "FGSM accuracy vs epsilon",
                "epsilon (x/255, L-inf)",
                "top-1 accuracy",
                x=[0, 1, 2],
                series={"vit": [0.5, 0.25, 0.125], "deit/class": [0.75, 0.5, None], "deit/dist": [1.0, 0.5, 0.0]},
                errors={"vit": [0.01, 0.02, 0.03]},
            ),
            Curve(
                "shape bias per model and head",
                "model / head",
                "shape bias",
                x=[0, 1],
                kind="bar",
                x_ticks=["vit", "deit/dist"],
                series={"shape bias": [0.3, 0.6]},
            ),
            Curve(
                "Feature correlation, clean vs PatchDrop: deit",
                "block",
                "correlation",
                x=[1, 2],
                series={"50% dropped": [0.9, 0.8]},
            ),
        ],
        tables=[Table("t", ["a"], [[1]])],
        summary={"deit/dist/fgsm@2": 0.0, "top1_none/vit": 0.5, "deit/mCE": 1.25},
    )


@pytest.mark.parametrize(
    "key, expected",
    [
        ("top1_random_0.50/vit", ("top1_random_0.50", "vit", "")),
        ("deit/dist/fgsm@8/255", ("fgsm@8/255", "deit", "dist")),
        ("vit/pgd@0.5", ("pgd@0.5", "vit", "")),
        ("deit/mCE", ("mCE", "deit", "")),
        ("deit best block top1", ("best block top1", "deit", "")),
        ("visible_share_last/deit/class", ("visible_share_last", "deit", "class")),
        ("vit_small/shape_bias", ("shape_bias", "vit_small", "")),
        ("overall", ("overall", "", "")),
    ],
)
def test_summary_keys_split_in_every_form_experiments_use(key, expected):
    from vitlab.results.frames import split_summary_key

    assert split_summary_key(key, ["vit", "deit", "vit_small"]) == expected


def test_split_label_prefers_the_longest_model_name():
    assert split_label("deit/dist", ["deit", "deit/x"]) == ("deit", "dist")
    assert split_label("vit_small", ["vit", "vit_small"]) == ("vit_small", "")
    assert split_label("50% dropped", ["vit"]) == (None, "")


def test_to_frame_is_tidy_with_one_row_per_number():
    frame = hand_made().to_frame()
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 9 + 2 + 2 + 3  # curve points + bars + correlation + summary
    fgsm = frame[frame.curve == "FGSM accuracy vs epsilon"]
    dist = fgsm[(fgsm.model == "deit") & (fgsm["head"] == "dist")]
    assert dist.value.tolist() == [1.0, 0.5, 0.0] and dist.x.tolist() == [0, 1, 2]
    assert fgsm[fgsm.model == "vit"].error.tolist() == [0.01, 0.02, 0.03]
    assert math.isnan(fgsm[fgsm.series == "deit/class"].value.iloc[2])  # a missing point stays NaN
    assert (fgsm.x_name == "epsilon (x/255, L-inf)").all() and (fgsm.metric == "top-1 accuracy").all()
    bars = frame[frame.curve == "shape bias per model and head"]
    assert list(zip(bars.model, bars["head"], bars.x, bars.value)) == [
        ("vit", "", "vit", 0.3),
        ("deit", "dist", "deit/dist", 0.6),
    ]
    correlation = frame[frame.metric == "correlation"]
    assert set(correlation.model) == {"deit"} and set(correlation.series) == {"50% dropped"}


def test_summary_keys_are_split_into_metric_model_head():
    frame = hand_made().to_frame()
    summary = frame[frame.curve == "summary"].set_index("metric")
    assert summary.loc["fgsm@2", ["model", "head", "value"]].tolist() == ["deit", "dist", 0.0]
    assert summary.loc["top1_none", ["model", "head", "value"]].tolist() == ["vit", "", 0.5]
    assert summary.loc["mCE", ["model", "value"]].tolist() == ["deit", 1.25]
    assert len(hand_made().to_frame(summary=False)) == 13


def test_missing_pandas_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'vitlab\[frames\]'"):
        hand_made().to_frame()


def test_plot_gives_the_report_figure():
    from matplotlib.figure import Figure

    result = hand_made()
    grid = result.plot()
    assert isinstance(grid, Figure) and len([ax for ax in grid.axes if ax.get_visible()]) == 3
    one = result.plot("shape bias")
    assert [t.get_text() for t in one.axes[0].get_xticklabels()] == ["vit", "deit/dist"]
    lines = result.plot(0).axes[0].get_lines()
    assert any(list(line.get_ydata()) == [1.0, 0.5, 0.0] for line in lines)
    with pytest.raises(KeyError, match="no curve titled 'nope'"):
        result.plot("nope")
    with pytest.raises(ValueError, match="no curves"):
        Result("x", {}, []).plot()


@pytest.fixture
def stored_run(tmp_path):
    run = RunStore(tmp_path / "runs").create(name="adv", kind="eval", config={})
    run.write_result(hand_made(), key="adversarial")
    other = hand_made()
    other.experiment, other.curves = "shuffle", other.curves[1:2]
    run.write_result(other, key="shuffle")
    return run


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_export_round_trips_every_result(stored_run, tmp_path, fmt):
    from vitlab.results.frames import export_run

    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    paths = export_run(stored_run, fmt, tmp_path / "out")
    assert sorted(p.name for p in paths) == sorted([f"adversarial.{fmt}", f"shuffle.{fmt}", f"all.{fmt}"])
    read = {
        "csv": pandas.read_csv,
        "json": lambda p: pandas.DataFrame(json.loads(p.read_text())),
        "parquet": pandas.read_parquet,
    }[fmt]
    back = read(tmp_path / "out" / f"all.{fmt}")
    assert list(back.columns) == ["run", "key", *COLUMNS] and len(back) == 16 + 2 + 3
    assert set(back.run) == {stored_run.id} and set(back.key) == {"adversarial", "shuffle"}
    dist = back[(back.key == "adversarial") & (back["head"] == "dist") & (back.metric == "top-1 accuracy")]
    np.testing.assert_allclose(dist.value.to_numpy(dtype=float), [1.0, 0.5, 0.0])


def test_runs_export_command_and_its_errors(stored_run, tmp_path, capsys):
    code, out, _ = run_cli(
        capsys, "runs", "export", str(stored_run.path), "--format", "json", "-o", str(tmp_path / "t")
    )
    assert code == 0 and f"wrote {tmp_path / 't' / 'all.json'}" in out
    code, _, _ = run_cli(capsys, "runs", "export", str(stored_run.path))  # default: csv into RUN/tables
    assert code == 0 and (stored_run.path / "tables" / "all.csv").exists()
    for argv, message in [
        (["runs", "export", str(stored_run.path), "--format", "xlsx"], "choose from csv"),
        (["runs", "export", str(tmp_path / "nope")], "no run.json"),
    ]:
        code, _, err = run_cli(capsys, *argv)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_tui_detail_exports_tables_and_says_where(stored_run):
    import asyncio

    from vitlab.tui.app import create_app

    async def scenario():
        app = create_app(stored_run.path.parent, poll_interval=3600)
        async with app.run_test(size=(120, 36)) as pilot:
            for _ in range(200):
                if app.runs_screen.table.row_count == 1:
                    break
                await pilot.pause(0.05)
            await pilot.press("enter", "e")
            for _ in range(200):
                if app._notifications:
                    break
                await pilot.pause(0.05)
            return [n.message for n in app._notifications]

    messages = asyncio.run(scenario())
    assert messages == [f"wrote 3 CSV tables to {stored_run.path / 'tables'}"]
    back = pandas.read_csv(stored_run.path / "tables" / "all.csv")
    assert len(back) == 21 and set(back.key) == {"adversarial", "shuffle"}

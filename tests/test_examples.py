"""examples/*.py run as a user runs them (in-process, `__main__`), on tiny models and data."""

import runpy
import sys
import time
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
pandas = pytest.importorskip("pandas")


def run_example(name, monkeypatch, *args):
    """Run examples/NAME with argv; returns (CPU seconds it took, the module's globals).

    The 20 s budget is checked in CPU time, which other jobs on a shared machine do not inflate.
    """
    monkeypatch.setattr(sys, "argv", [str(EXAMPLES / name), *map(str, args)])
    started = time.process_time()
    namespace = runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    return time.process_time() - started, namespace


def test_every_example_is_tested():
    tested = {"occlusion_zoo.py", "compare_runs.py", "timm_shape_bias.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


def test_occlusion_zoo(tmp_path, monkeypatch, capsys):
    from vitlab import models

    model = models.create("vit_test", num_classes=10)
    args = ["--limit", 16, "--levels", "0,0.5", "--out", tmp_path / "occ.png"]
    try:
        import vitlab.zoo  # noqa: F401  (the zoo: a folder of ROLE.keras + ROLE.json cards)

        monkeypatch.setenv("VITLAB_ZOO", str(tmp_path / "zoo"))
        (tmp_path / "zoo").mkdir()
        model.save(tmp_path / "zoo" / "vit.keras")
        (tmp_path / "zoo" / "vit.json").write_text('{"role": "vit"}')
    except ImportError:  # no zoo in this build: the same model as a .keras file
        model.save(tmp_path / "vit.keras")
        args += ["--model", tmp_path / "vit.keras"]
    seconds, _ = run_example("occlusion_zoo.py", monkeypatch, *args)
    out = capsys.readouterr().out
    assert "PatchDrop random" in out and f"wrote {tmp_path / 'occ.png'}" in out
    assert (tmp_path / "occ.png").stat().st_size > 10_000
    assert seconds < 20, seconds


def test_compare_runs(tmp_path, monkeypatch, capsys):
    from vitlab.results import Curve, Result, RunStore

    store, paths = RunStore(tmp_path), []
    for index, accuracy in enumerate([0.5, 0.75]):
        run = store.create(name=f"r{index}", kind="eval", config={}, path=tmp_path / f"run{index}")
        run.write_result(
            Result(
                "shuffle",
                {},
                ["vit"],
                curves=[Curve("c", "grid", "top-1", [1], {"vit": [accuracy]})],
                summary={"top1_none/vit": accuracy},
            )
        )
        paths.append(run.path)
    seconds, namespace = run_example("compare_runs.py", monkeypatch, *paths, "--csv", tmp_path / "c.csv")
    table = namespace["main"]([str(p) for p in paths])
    assert list(table.columns) == ["run0", "run1", "difference"]
    assert table.loc[("shuffle", "top1_none", "vit", "")].tolist() == [0.5, 0.75, 0.25]
    assert (tmp_path / "c.csv").exists() and seconds < 20


def test_timm_shape_bias(tmp_path, monkeypatch, capsys):
    from PIL import Image
    from test_api_weights import build_cache

    from vitlab import models

    source = models.create("deit_test_distilled", num_classes=1000)
    build_cache(tmp_path / "hub", source, repo="timm/deit_test_distilled.fake_in1k")
    folder = tmp_path / "cue-conflict"
    rng = np.random.default_rng(0)
    for shape, texture in [("cat", "dog"), ("dog", "cat"), ("car", "clock")]:
        (folder / shape).mkdir(parents=True, exist_ok=True)
        for n in range(2):
            pixels = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / shape / f"{shape}{n + 1}-{texture}{n + 1}.png")
    seconds, namespace = run_example(
        "timm_shape_bias.py",
        monkeypatch,
        "--name",
        "timm/deit_test_distilled.fake_in1k",
        "--cue-conflict",
        folder,
        "--cache-dir",
        tmp_path / "hub",
    )
    out = capsys.readouterr().out
    assert "shape_bias" in out and {"class", "dist", "average"} <= set(out.split())
    assert seconds < 20, seconds

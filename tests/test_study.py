"""The study's design and runner: every cell's recipe loads, teachers train first, a pack
carries a cell to a new cache, and a snapshot is measured on the study's sets."""

import json
import math

import pytest

from vitlab.errors import UserError
from vitlab.study import design, runner


def test_every_cell_is_a_valid_recipe_on_one_schedule(tmp_path):
    from vitlab.training import recipe as recipe_lib

    seen = set()
    for name, cell in design.CELLS.items():
        path = tmp_path / f"{name}.toml"
        path.write_text(design.recipe_text(name, 3, "teacher.keras" if cell.teacher else None))
        recipe = recipe_lib.load(str(path), check_data=False)
        step = recipe.train[0]
        assert recipe.top.seed == 3 and step.model == cell.model and step.optim.snapshots
        assert step.augment.preset == cell.preset and step.drop_path_rate == cell.drop_path
        seen.add(
            (
                step.optim.batch_size,
                step.optim.epochs // cell.budget,
                step.optim.steps_per_epoch,
                step.data.dataset.split(",")[1],
            )
        )
        assert step.optim.epochs == design.SCHEDULE.epochs * cell.budget
        assert step.optim.batch_size % step.augment.repeats == 0
    assert len(seen) == 1  # equal images seen, equal schedule, for every cell (of one budget)
    assert {c.budget for c in design.CELLS.values() if c.group == "budget"} == {4}
    ablation = recipe_lib.load(str(tmp_path / "vit_deit_no_occlusion.toml"), check_data=False).train[0].augment
    assert (ablation.cutmix_alpha, ablation.erasing_prob, ablation.mixup_alpha) == (0.0, 0.0, 0.8)
    with pytest.raises(ValueError, match="taught by resnet_sin"):
        design.recipe_text("deit_shape", 0)


def test_teachers_train_before_their_students():
    assert runner.order(["deit_tex", "deit_shape", "vit_deit"]) == [
        "resnet_basic",
        "deit_tex",
        "resnet_sin",
        "deit_shape",
        "vit_deit",
    ]
    with pytest.raises(UserError, match="unknown study cell 'vit_dieT'"):
        runner.order(["vit_dieT"])


def _fake_cell(monkeypatch, tmp_path, status):
    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path / "cache"))
    cell = runner.cell_dir(1, "vit_basic")
    (cell / "checkpoints" / "vit_basic").mkdir(parents=True)
    (cell / "run.json").write_text(json.dumps({"status": status, "recipe": str(runner.root() / "seed-1/x.toml")}))
    events = [
        {"kind": "progress", "done": 1900, "total": 20000, "time": 100.0},
        {"kind": "metric", "name": "val_accuracy", "value": 0.5, "done": 2000},
        {"kind": "metric", "name": "val_accuracy", "value": 0.75, "done": 4000},
        {"kind": "step", "time": 900.0},  # a resumed process
        {"kind": "progress", "done": 4000, "total": 20000, "time": 1000.0},
        {"kind": "progress", "done": 4100, "total": 20000, "time": 1050.0},
    ]
    (cell / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events) + '{"torn')
    (cell / runner.METRICS).write_text(json.dumps({"epoch-001": {}, "epoch-002": {}}))
    checkpoints = cell / "checkpoints" / "vit_basic"
    (checkpoints / "old.weights.h5").write_bytes(b"old")
    (checkpoints / "new.weights.h5").write_bytes(b"new")
    (checkpoints / "state.json").write_text(json.dumps({"weights": "new.weights.h5", "epoch": 2, "batch": 0}))
    return cell


def test_a_pack_carries_the_newest_checkpoint_to_a_new_cache(monkeypatch, tmp_path):
    cell = _fake_cell(monkeypatch, tmp_path, "interrupted")
    runner.pack("vit_basic", 1, tmp_path / "pack")
    packed = tmp_path / "pack" / "seed-1" / "vit_basic"
    assert sorted(p.name for p in (packed / "checkpoints" / "vit_basic").iterdir()) == ["new.weights.h5", "state.json"]
    assert runner.summary(1, ["vit_basic"]) == [
        {
            "cell": "vit_basic",
            "status": "interrupted",
            "val_accuracy": 0.75,
            "steps": 4000,
            "snapshots": 2,
            "done": 4100,
            "total": 20000,
            "s_per_step": 0.5,  # (1050 - 1000) s / (4100 - 4000) steps; the resume's gap is not counted
        }
    ]
    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path / "fresh"))
    assert runner.unpack("vit_basic", 1, tmp_path / "pack") and runner.status(1, "vit_basic") == "interrupted"
    assert not runner.unpack("vit_basic", 1, tmp_path / "pack")  # never over a cache that has the cell
    assert (runner.cell_dir(1, "vit_basic") / "checkpoints" / "vit_basic" / "new.weights.h5").read_bytes() == b"new"
    assert str(tmp_path) not in (packed / "run.json").read_text()  # no machine path in a committed pack
    restored = json.loads((runner.cell_dir(1, "vit_basic") / "run.json").read_text())
    assert restored["recipe"] == str(tmp_path / "fresh" / "study" / "seed-1" / "x.toml")  # this cache's path
    assert cell.exists()


def test_a_finished_cell_packs_its_model_not_its_checkpoints(monkeypatch, tmp_path):
    cell = _fake_cell(monkeypatch, tmp_path, "done")
    (cell / "models").mkdir()
    (cell / "models" / "vit_basic.keras").write_bytes(b"model")
    runner.pack("vit_basic", 1, tmp_path / "pack")
    packed = tmp_path / "pack" / "seed-1" / "vit_basic"
    assert sorted(p.name for p in packed.iterdir()) == ["events.jsonl", "models", "run.json", runner.METRICS]


def test_a_student_without_its_teacher_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path))
    with pytest.raises(UserError, match="needs its teacher resnet_sin trained first"):
        runner.train_cell("deit_shape", 0, schedule=design.SMOKE)


def test_a_snapshot_is_measured_on_test_and_stylized(monkeypatch, tmp_path):
    from vitlab import models
    from vitlab.study import snapshot_eval

    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "net.keras"
    models.create("resnet_test", num_classes=10, image_size=64).save(str(path))
    sets = {"test": "objects64,test_size=40", "stylized": "objects64:stylized,test_size=40"}
    measured = snapshot_eval.measure(path, limit=16, sets=sets)
    assert set(measured) == {"test", "stylized"}
    for levels in measured.values():
        assert list(levels) == ["0.00", "0.25", "0.50"]
        assert all(v in {k / 16 for k in range(17)} for v in levels.values())  # fractions of 16 images


def _metrics(*epochs):
    """snapshot_metrics.json from (clean, at 25%, at 50%) per epoch, the same on both sets."""
    return {
        f"epoch-{i:03d}": {s: {"0.00": c, "0.25": a, "0.50": b} for s in ("test", "stylized")}
        for i, (c, a, b) in enumerate(epochs, 1)
    }


def test_retention_is_the_accuracy_kept_above_chance():
    from vitlab.study import analysis

    assert analysis.retention(0.9, 0.5) == pytest.approx(0.5)  # (0.5 - 0.1) / (0.9 - 0.1)
    assert analysis.retention(0.9, 0.1) == 0.0 and analysis.retention(0.9, 0.9) == 1.0
    assert analysis.retention(0.1, 0.1) != analysis.retention(0.1, 0.1)  # nan at chance
    assert math.isnan(analysis.retention(0.19, 0.3))  # within MIN_MARGIN of chance: mostly noise
    assert analysis.retention(0.2, 0.15) == pytest.approx(0.5)  # (0.15 - 0.1) / (0.2 - 0.1)


def test_snapshots_are_ordered_by_the_steps_behind_them():
    from vitlab.study import analysis

    metrics = {
        key: {"test": {"0.00": clean, "0.25": clean, "0.50": clean}}
        for key, clean in (("epoch-002", 0.7), ("step-0000250", 0.3), ("epoch-001", 0.6), ("step-0001000", 0.5))
    }
    assert analysis.in_training_order(metrics) == ["step-0000250", "step-0001000", "epoch-001", "epoch-002"]
    assert analysis.steps_of("epoch-003", 2000) == 6000 and analysis.steps_of("step-0000500") == 500
    assert analysis.final(metrics)["test"]["0.00"] == 0.7
    clean, _ = analysis.along_training(metrics, "0.50")
    assert list(clean) == [0.3, 0.5, 0.6, 0.7]


def test_interaction_pairs_the_2x2_by_seed():
    from vitlab.study import analysis

    # retention at 25%: vit_deit 0.75, resnet_deit 0.5, vit_basic 0.5, resnet_basic 0.375 (clean 0.9)
    cells = {
        "vit_deit": _metrics((0.9, 0.7, 0.3)),
        "resnet_deit": _metrics((0.9, 0.5, 0.2)),
        "vit_basic": _metrics((0.9, 0.5, 0.2)),
        "resnet_basic": _metrics((0.9, 0.4, 0.1)),
    }
    shifted = {
        name: {
            k: {
                s: {x: v + 0.0125 * (name == "vit_deit") * (x != "0.00") for x, v in levels.items()}
                for s, levels in point.items()
            }
            for k, point in m.items()
        }
        for name, m in cells.items()
    }
    result = analysis.interaction({0: cells, 1: cells, 2: shifted, 3: {"vit_deit": cells["vit_deit"]}}, "0.25")
    # per seed: deit 0.25, basic 0.125, interaction 0.125, paper 0.375; seed 2's ViT keeps 0.0125/0.8 more
    assert result["interaction"].n == 3  # seed 3 lacks three cells
    assert result["deit"].mean == pytest.approx((0.25 * 3 + 0.0125 / 0.8) / 3)
    assert result["basic"].mean == pytest.approx(0.125)
    assert result["paper"].mean == pytest.approx(0.375 + 0.0125 / 0.8 / 3)
    assert result["interaction"].low < result["interaction"].mean < result["interaction"].high


def test_retention_at_matched_clean_accuracy_interpolates_along_training():
    from vitlab.study import analysis

    # clean 0.5 then 0.9; retention at 50%: (0.3-0.1)/(0.5-0.1) = 0.5, then (0.1-0.1)/0.8 = 0
    metrics = _metrics((0.5, 0.4, 0.3), (0.9, 0.5, 0.1))
    matched = analysis.at_matched_accuracy(metrics, "0.50", grid=(0.4, 0.5, 0.7, 0.9))
    assert matched[0.5] == pytest.approx(0.5) and matched[0.7] == pytest.approx(0.25) and matched[0.9] == 0.0
    assert matched[0.4] != matched[0.4]  # never that low while measured: nan


def test_report_tables_every_cell_and_the_endpoint(monkeypatch, tmp_path):
    from vitlab.study import report

    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path / "cache"))
    values = {
        "vit_deit": (0.9, 0.7, 0.3),
        "resnet_deit": (0.9, 0.5, 0.2),
        "vit_basic": (0.9, 0.5, 0.2),
        "resnet_basic": (0.9, 0.4, 0.1),
    }
    for seed in (0, 1):
        for name, point in values.items():
            folder = tmp_path / "packs" / f"seed-{seed}" / name
            folder.mkdir(parents=True)
            (folder / "run.json").write_text(json.dumps({"status": "done"}))
            (folder / "events.jsonl").write_text(
                json.dumps(
                    {
                        "kind": "metric",
                        "name": "val_accuracy",
                        "value": 0.9,
                        "done": 20000,
                        "step": f"train:{name}",
                        "cpu_s": 10.0,
                    }
                )
                + "\n"
            )
            (folder / runner.METRICS).write_text(json.dumps(_metrics((0.5, 0.4, 0.3), point)))
    out = report.write([0, 1], tmp_path / "results.md", packs=tmp_path / "packs")
    text = out.read_text()
    assert text.count("| done |") == 8 and "| 0 | vit_deit | done | 20,000 | 0.900 |" in text
    assert "| test | 0.25 | 0.250 | 0.125 | 0.125 | 0.375 | 2 |" in text  # two seeds: means, no interval yet
    assert out.with_suffix(".png").stat().st_size > 10_000


def test_thread_env_gives_each_job_its_share_of_the_cores_unless_the_user_chose(monkeypatch):
    monkeypatch.setattr(runner.os, "cpu_count", lambda: 2)
    env = runner.thread_env(2, {"PATH": "/bin"})
    assert (env["TF_NUM_INTRAOP_THREADS"], env["OMP_NUM_THREADS"], env["TF_NUM_INTEROP_THREADS"]) == ("1", "1", "1")
    assert env["PATH"] == "/bin"
    assert runner.thread_env(3, {})["TF_NUM_INTRAOP_THREADS"] == "1"  # never below one
    assert runner.thread_env(2, {"TF_NUM_INTRAOP_THREADS": "2"})["TF_NUM_INTRAOP_THREADS"] == "2"


def test_parallel_cells_overlap_and_a_student_waits_for_its_teacher(monkeypatch):
    import threading
    import time

    spans, lock = {}, threading.Lock()

    def fake_cell(name, seed, pack_to, quiet, schedule, env=None, children=None):
        start = time.monotonic()
        time.sleep(0.3)
        with lock:
            spans[name] = (start, time.monotonic(), env["TF_NUM_INTRAOP_THREADS"])

    monkeypatch.setattr(runner.os, "cpu_count", lambda: 2)
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    monkeypatch.setattr(runner, "train_cell", fake_cell)
    runner.train(["deit_shape", "vit_basic"], 0, jobs=2)
    assert set(spans) == {"resnet_sin", "deit_shape", "vit_basic"}
    assert spans["deit_shape"][0] >= spans["resnet_sin"][1]  # the teacher first
    assert spans["vit_basic"][0] < spans["resnet_sin"][1]  # the other cell beside it
    assert {threads for _, _, threads in spans.values()} == {"1"}


def test_an_unexpected_error_in_one_cell_is_reported_and_the_others_train(monkeypatch):
    trained = []

    def fake_cell(name, seed, pack_to, quiet, schedule, env=None, children=None):
        if name == "vit_basic":
            raise OSError("disk full")
        trained.append(name)

    monkeypatch.setattr(runner, "train_cell", fake_cell)
    with pytest.raises(UserError, match="disk full"):
        runner.train(["vit_basic", "resnet_basic", "vit_deit"], 0, jobs=2)
    assert sorted(trained) == ["resnet_basic", "vit_deit"]


def test_a_failed_teacher_stops_its_student_and_the_others_finish(monkeypatch):
    trained = []

    def fake_cell(name, seed, pack_to, quiet, schedule, env=None, children=None):
        if name == "resnet_sin":
            raise UserError("study cell resnet_sin (seed 0) stopped with exit code 1; run again to resume")
        trained.append(name)

    monkeypatch.setattr(runner, "train_cell", fake_cell)
    with pytest.raises(UserError, match="resnet_sin .* exit code 1.*deit_shape .* not trained"):
        runner.train(["deit_shape", "vit_basic"], 0, jobs=2)
    assert trained == ["vit_basic"]


# A parallel train whose cells are light stand-ins for `vitlab recipe run`: each sleeps until
# SIGTERM, then records it and leaves with 130, as the CLI does.
PARALLEL_PARENT = """
import sys
from pathlib import Path
from vitlab.errors import UserError
from vitlab.study import runner
from vitlab import child_process as build
out = Path(sys.argv[1])
CHILD = '''
import signal, sys, time
from pathlib import Path
def stopped(signum, frame):
    Path(sys.argv[1] + "-stopped").write_text(str(signum))
    sys.exit(130)
signal.signal(signal.SIGTERM, stopped)
Path(sys.argv[1] + "-started").write_text("yes")
time.sleep(60)
'''
def cell(name, seed, pack_to, quiet, schedule, env=None, children=None):
    code = build.run_child([sys.executable, "-c", CHILD, str(out / name)], env=env, children=children)
    if code:
        raise UserError(f"{name} stopped with exit code {code}")
runner.train_cell = cell
try:
    runner.train(["vit_basic", "resnet_basic", "vit_deit"], 0, jobs=2)
except UserError as error:
    print(error)
    sys.exit(1)
"""


def test_sigterm_to_a_parallel_train_stops_every_cell_and_starts_no_other(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    parent = subprocess.Popen([sys.executable, "-c", PARALLEL_PARENT, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not all((tmp_path / f"{c}-started").exists() for c in ("vit_basic", "resnet_basic")):
        assert time.time() < deadline, "the cells did not start"
        time.sleep(0.05)
    os.kill(parent.pid, signal.SIGTERM)
    assert parent.wait(timeout=30) == 1
    for cell in ("vit_basic", "resnet_basic"):
        assert (tmp_path / f"{cell}-stopped").read_text() == str(int(signal.SIGTERM))
    assert not (tmp_path / "vit_deit-started").exists()  # the third cell is not started after the stop
    said = parent.stdout.read()
    assert "exit code 130" in said and "vit_deit (seed 0) not started: stopped" in said


def test_only_whole_snapshots_are_measured(monkeypatch, tmp_path):
    """A snapshot being written is a hidden partial (vitlab.atomic) with a .keras suffix too."""
    import subprocess

    from vitlab.study import analysis

    folder = tmp_path / "cell" / "snapshots" / "vit_basic"
    folder.mkdir(parents=True)
    for name in ("epoch-001.keras", "step-0000250.keras", ".epoch-002.keras.123-abcd.tmp.keras", "notes.txt"):
        (folder / name).write_bytes(b"")
    measured = []

    def fake_run(command, **kwargs):
        snapshot, out = command[-3], command[-2]
        measured.append(snapshot.rsplit("/", 1)[-1])
        with open(out, "w") as handle:
            json.dump({"test": {"0.00": 0.5}}, handle)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(runner.subprocess, "run", fake_run)
    metrics = runner.measure_snapshots(tmp_path / "cell", "vit_basic", steps_per_epoch=100)
    assert sorted(measured) == ["epoch-001.keras", "step-0000250.keras"]
    assert sorted(metrics) == ["epoch-001", "step-0000250"]
    assert runner.measure_snapshots(tmp_path / "cell", "vit_basic") == metrics and len(measured) == 2  # once each
    # the steps behind each, from the cell's own schedule: 100 steps per epoch puts epoch 1 first
    assert [metrics[k]["steps"] for k in ("epoch-001", "step-0000250")] == [100, 250]
    assert analysis.in_training_order(metrics) == ["epoch-001", "step-0000250"]


@pytest.mark.slow
def test_a_smoke_cell_trains_snapshots_measures_packs_and_reports(tmp_path):
    """`vitlab study train --smoke` end to end on one cell: the recipe the design writes trains,
    every snapshot (an epoch end and step 2) is measured, the pack holds the final model, and the
    report tables the cell from the cache."""
    import os

    from helpers import run_cli_process

    env = {**os.environ, "VITLAB_CACHE": str(tmp_path / "cache")}
    packs = tmp_path / "packs"
    done = run_cli_process(
        "study", "train", "--smoke", "--seed", "0", "--cells", "vit_basic", "--pack-to", packs, "-q", env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    cell = tmp_path / "cache" / "study" / "seed-0" / "vit_basic"
    metrics = json.loads((cell / runner.METRICS).read_text())
    assert sorted(metrics) == ["epoch-001", "epoch-002", "step-0000002"]
    assert (packs / "seed-0" / "vit_basic" / "models" / "vit_basic.keras").exists()
    out = tmp_path / "results.md"
    done = run_cli_process("study", "report", "--seeds", "0", "--packs", packs, "-o", out, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| 0 | vit_basic | done | 6 |" in out.read_text() and out.with_suffix(".png").exists()


def test_controls_measure_the_newest_model_once(monkeypatch, tmp_path):
    from vitlab.study import controls

    cell = tmp_path / "vit_basic"
    snapshots = cell / "snapshots" / "vit_basic"
    snapshots.mkdir(parents=True)
    for name in ("step-0001000.keras", "epoch-002.keras", "epoch-001.keras"):
        (snapshots / name).write_bytes(b"")
    assert controls.newest_model(cell).name == "epoch-002.keras"  # 4,000 steps beat 1,000
    calls = []
    monkeypatch.setattr(controls, "measure", lambda path, limit: calls.append(path.name) or {"black": {}})
    assert list(controls.measure_cell(cell)) == ["epoch-002"]
    assert list(controls.measure_cell(cell)) == ["epoch-002"] and calls == ["epoch-002.keras"]
    (cell / "models").mkdir()
    (cell / "models" / "vit_basic.keras").write_bytes(b"")
    assert list(controls.measure_cell(cell)) == ["epoch-002", "final"]
    assert controls.measure_cell(tmp_path / "absent") == {}


def test_the_controls_table_gives_retention_per_control():
    from vitlab.study import controls, report

    measured = {c: {"0.00": 0.9, "0.25": 0.7, "0.50": 0.5} for c in controls.CONTROLS}
    measured["foreground"]["0.50"] = 0.1  # at chance: nothing kept
    records = {0: {"vit_deit": {"controls": {"epoch-006": measured}}}}
    row = next(line for line in report.controls_table(records) if line.startswith("| 0 | vit_deit"))
    assert row == "| 0 | vit_deit | epoch-006 | 0.900 | 0.500 | 0.500 | 0.500 | 0.500 | 0.000 | 0.500 |"
    assert report.controls_table({0: {"vit_deit": {"controls": {}}}}) == []


def test_controls_run_each_occlusion_option_on_a_model(monkeypatch, tmp_path):
    from vitlab import models
    from vitlab.study import controls

    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "net.keras"
    models.create("resnet_test", num_classes=10, image_size=64).save(str(path))
    measured = controls.measure(path, limit=16, dataset="objects64,test_size=40")
    assert list(measured) == list(controls.CONTROLS)
    for levels in measured.values():
        assert list(levels) == ["0.00", "0.25", "0.50"]
    assert len({levels["0.00"] for levels in measured.values()}) == 1  # nothing dropped: one clean accuracy


def test_a_study_spec_names_a_cell_s_final_model_or_snapshot(monkeypatch, tmp_path):
    from vitlab import model_spec

    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path))
    final = runner.model_file(2, "vit_deit")
    snapshot = runner.cell_dir(2, "vit_deit") / "snapshots" / "vit_deit" / "epoch-003.keras"
    for path in (final, snapshot):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    assert model_spec.expand("study:vit_deit@2") == model_spec.ModelRef("file", str(final))
    assert model_spec.expand("study:vit_deit@2/epoch-003").target == str(snapshot)
    assert "no final model yet" in model_spec.problem("study:vit_deit", {})  # seed 0 is not trained
    assert "snapshots: epoch-003" in model_spec.problem("study:vit_deit@2/epoch-009", {})
    assert "unknown study cell 'vit'" in model_spec.problem("study:vit@2", {})
    assert "bad seed 'two'" in model_spec.problem("study:vit_deit@two", {})

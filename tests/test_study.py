"""The study's design and runner: every cell's recipe loads, teachers train first, a pack
carries a cell to a new cache, and a snapshot is measured on the study's sets."""

import json

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
        seen.add((step.optim.batch_size, step.optim.epochs, step.optim.steps_per_epoch, step.data.dataset.split(",")[1]))
        assert step.optim.batch_size % step.augment.repeats == 0
    assert len(seen) == 1  # equal images seen, equal schedule, for every cell
    ablation = recipe_lib.load(str(tmp_path / "vit_deit_no_occlusion.toml"), check_data=False).train[0].augment
    assert (ablation.cutmix_alpha, ablation.erasing_prob, ablation.mixup_alpha) == (0.0, 0.0, 0.8)
    with pytest.raises(ValueError, match="taught by resnet_sin"):
        design.recipe_text("deit_shape", 0)


def test_teachers_train_before_their_students():
    assert runner.order(["deit_tex", "deit_shape", "vit_deit"]) == ["resnet_basic", "deit_tex", "resnet_sin",
                                                                   "deit_shape", "vit_deit"]
    with pytest.raises(UserError, match="unknown study cell 'vit_dieT'"):
        runner.order(["vit_dieT"])


def _fake_cell(monkeypatch, tmp_path, status):
    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path / "cache"))
    cell = runner.cell_dir(1, "vit_basic")
    (cell / "checkpoints" / "vit_basic").mkdir(parents=True)
    (cell / "run.json").write_text(json.dumps({"status": status}))
    events = [{"kind": "metric", "name": "val_accuracy", "value": 0.5, "done": 2000},
              {"kind": "metric", "name": "val_accuracy", "value": 0.75, "done": 4000}]
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
    assert runner.summary(1, ["vit_basic"]) == [{"cell": "vit_basic", "status": "interrupted", "val_accuracy": 0.75,
                                                  "steps": 4000, "snapshots": 2}]
    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path / "fresh"))
    assert runner.unpack("vit_basic", 1, tmp_path / "pack") and runner.status(1, "vit_basic") == "interrupted"
    assert not runner.unpack("vit_basic", 1, tmp_path / "pack")  # never over a cache that has the cell
    assert (runner.cell_dir(1, "vit_basic") / "checkpoints" / "vit_basic" / "new.weights.h5").read_bytes() == b"new"
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

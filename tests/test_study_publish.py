"""Publishing a study cell: the final model beside a card read from the cell's own records."""

import hashlib
import json

import pytest

from vitlab.errors import UserError
from vitlab.study import design, publish, runner


def _finished_cell(tmp_path, name, val, stylized):
    folder = runner.cell_dir(0, name)
    (folder / "models").mkdir(parents=True)
    runner.model_file(0, name).write_bytes(b"weights of " + name.encode())
    info = {"status": "done", "training": {name: {"val_accuracy": val, "dataset": "objects64:train", "seconds": 9.0}}}
    (folder / "run.json").write_text(json.dumps(info))
    events = [{"kind": "progress", "cpu_s": 100.0}, {"kind": "progress", "cpu_s": 250.5}, {"kind": "other"}]
    (folder / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    metrics = {
        "epoch-002": {"test": {"0.00": val, "0.50": 0.1}, "stylized": {"0.00": stylized}, "steps": 4000},
        "epoch-001": {"test": {"0.00": 0.3, "0.50": 0.3}, "stylized": {"0.00": 0.1}, "steps": 2000},
    }
    (folder / runner.METRICS).write_text(json.dumps(metrics))


def test_a_finished_cell_is_published_with_its_card(monkeypatch, tmp_path):
    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path / "cache"))
    _finished_cell(tmp_path, "vit_basic", 0.9, 0.6)
    _finished_cell(tmp_path, "resnet_sin", 0.95, 0.65)  # trained on stylized: its target is there
    cards = publish.publish(0, ["vit_basic", "resnet_sin"], tmp_path / "zoo")
    vit = json.loads((tmp_path / "zoo" / "vit_basic.json").read_text())
    assert vit == cards[0]
    assert (tmp_path / "zoo" / "vit_basic.keras").read_bytes() == b"weights of vit_basic"
    assert vit["sha256"] == hashlib.sha256(b"weights of vit_basic").hexdigest()
    assert vit["training_cpu_seconds"] == 250.5 and vit["images_seen"] == design.SCHEDULE.images
    # the last snapshot by training steps, not by file order: 0.1 at 50% from 0.9 clean is chance
    assert (vit["clean_accuracy"], vit["stylized_accuracy"], vit["retention_50"]) == (0.9, 0.6, 0.0)
    assert vit["target_reached"] and vit["target_split"] == "test"
    sin = cards[1]
    assert sin["target_split"] == "stylized" and not sin["target_reached"]  # 0.65 < 0.70 on stylized


def test_an_unfinished_cell_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path))
    with pytest.raises(UserError, match="vit_deit .*has not finished training"):
        publish.publish(0, ["vit_deit"], tmp_path / "zoo")
    with pytest.raises(UserError, match="unknown study cell 'vit'"):
        publish.publish(0, ["vit"], tmp_path / "zoo")


def test_the_x4_budget_counts_four_times_the_images(monkeypatch, tmp_path):
    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path))
    _finished_cell(tmp_path, "vit_deit_x4", 0.8, 0.2)
    card = publish.card(0, "vit_deit_x4")
    assert card["images_seen"] == 4 * design.SCHEDULE.images and card["schedule"]["epochs"] == 40

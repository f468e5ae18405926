"""benchmarks/learning_curves.py carries a long candidate run across sessions through the
repository (state/curves): its pack must hold each step's newest checkpoint and nothing older,
and a new pack must replace the old one whole."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_curves(monkeypatch, cache):
    spec = importlib.util.spec_from_file_location("learning_curves", ROOT / "benchmarks" / "learning_curves.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "CACHE", cache)
    return module


def fake_run(run, newest):
    (run / "checkpoints" / "vit").mkdir(parents=True, exist_ok=True)
    (run / "run.json").write_text(json.dumps({"status": "running"}))
    (run / "events.jsonl").write_text('{"kind": "progress", "done": 1}\n')
    for name in ("ckpt-00001-0000000.weights.h5", newest):
        (run / "checkpoints" / "vit" / name).write_bytes(name.encode())
    (run / "checkpoints" / "vit" / "state.json").write_text(json.dumps({"epoch": 2, "batch": 0, "weights": newest}))


def test_a_pack_holds_the_newest_checkpoint_and_replaces_the_older_pack(tmp_path, monkeypatch):
    curves = load_curves(monkeypatch, tmp_path / "cache")
    run = tmp_path / "cache" / "cand"
    fake_run(run, "ckpt-00002-0000000.weights.h5")
    curves.pack("cand", tmp_path / "state")
    packed = tmp_path / "state" / "cand"
    assert sorted(p.name for p in (packed / "checkpoints" / "vit").iterdir()) == [
        "ckpt-00002-0000000.weights.h5",
        "state.json",
    ]
    assert (packed / "run.json").read_text() == (run / "run.json").read_text()

    (run / "checkpoints" / "vit" / "ckpt-00001-0000000.weights.h5").unlink()
    fake_run(run, "ckpt-00003-0000500.weights.h5")
    curves.pack("cand", tmp_path / "state")
    assert sorted(p.name for p in (packed / "checkpoints" / "vit").iterdir()) == [
        "ckpt-00003-0000500.weights.h5",
        "state.json",
    ]
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == ["cand"]  # no temp or old copy left


def test_no_run_yet_packs_nothing(tmp_path, monkeypatch):
    curves = load_curves(monkeypatch, tmp_path / "cache")
    curves.pack("cand", tmp_path / "state")
    assert not (tmp_path / "state").exists()

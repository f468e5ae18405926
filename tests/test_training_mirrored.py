"""MirroredStrategy on a CPU split into two logical devices, through the CLI (a fresh
process: the split must happen before TensorFlow initialises its devices)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

RECIPE = """
name = "mirrored"
strategy = "mirrored"
[data]
dataset = "shapes"
limit = 32
eval_limit = 16
[optim]
epochs = 1
batch_size = 8
warmup_epochs = 0.5
[model]
name = "vit_test"
"""


@pytest.mark.slow
def test_mirrored_on_two_logical_cpus(tmp_path):
    (tmp_path / "r.toml").write_text(RECIPE)
    vitlab = str(Path(sys.executable).with_name("vitlab"))
    done = subprocess.run([vitlab, "recipe", "run", str(tmp_path / "r.toml"), "--out", str(tmp_path / "run")],
                          capture_output=True, text=True, timeout=300, env={"VITLAB_CPU_REPLICAS": "2",
                                                                            **__import__("os").environ})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "[1/1] train final: vit_test on shapes:train" in done.stdout  # prints where it is
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    trained = info["training"]["final"]
    assert (trained["strategy"], trained["replicas"]) == ("MirroredStrategy", 2)
    assert info["status"] == "done" and 0.0 <= trained["val_accuracy"] <= 1.0

"""kill -9 in the middle of training, then --resume: training continues from the last
checkpoint, ends at the same epoch count, and finished steps are not redone."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

RECIPE = """
name = "resume"
log_every = 1
[data]
dataset = "shapes"
limit = 64
eval_split = ""
[optim]
epochs = 3
batch_size = 8
steps_per_epoch = 6
warmup_epochs = 0.5
[[train]]
name = "first"
model = "resnet_test"
optim.epochs = 1
[[train]]
name = "second"
model = "vit_test"
"""


def events(run):
    path = run / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


@pytest.mark.slow
def test_kill_during_an_epoch_then_resume(tmp_path):
    (tmp_path / "r.toml").write_text(RECIPE)
    run = tmp_path / "run"
    vitlab = str(Path(sys.executable).with_name("vitlab"))
    process = subprocess.Popen([vitlab, "recipe", "run", str(tmp_path / "r.toml"), "--out", str(run), "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        if any(e["kind"] == "progress" and e.get("step") == "train:second" and e.get("epoch") == 2
               for e in events(run)):
            break
        time.sleep(0.05)
    assert process.poll() is None, "training finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = len(events(run))
    assert json.loads((run / "run.json").read_text())["steps"]["train:second"] == "running"

    done = subprocess.run([vitlab, "recipe", "run", "--resume", str(run), "--quiet"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    after = events(run)[killed_at:]
    assert any(e.get("message") == "train:first: already done, skipped" for e in after)
    resumed_epochs = [e["epoch"] for e in after if e["kind"] == "metric" and e["name"] == "loss"]
    assert resumed_epochs and resumed_epochs[0] >= 2 and resumed_epochs[-1] == 3  # not restarted from epoch 1
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "done" and info["steps"]["train:second"] == "done"
    assert (run / "models" / "second.keras").exists()

"""Two worker processes on 127.0.0.1 train one recipe together (MultiWorkerMirroredStrategy,
the custom strategy.run loop) and end with identical weights."""

import json
import os
import socket
import subprocess

import numpy as np
import pytest
from helpers import VITLAB

RECIPE = """
name = "two_workers"
strategy = "multi_worker"
log_every = 1
[data]
dataset = "shapes"
limit = 64
eval_split = ""
[optim]
epochs = 2
batch_size = 16
steps_per_epoch = 2
warmup_epochs = 0.5
[[train]]
name = "final"
model = "vit_test"
"""


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


@pytest.mark.slow
def test_two_workers_train_to_identical_weights(tmp_path):
    (tmp_path / "r.toml").write_text(RECIPE)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    workers = []
    for index in range(2):
        env = {
            **os.environ,
            "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
            "CUDA_VISIBLE_DEVICES": "",
        }
        out = tmp_path / f"worker{index}"
        workers.append(
            (
                out,
                subprocess.Popen(
                    [*VITLAB, "recipe", "run", str(tmp_path / "r.toml"), "--out", str(out), "--quiet"],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                ),
            )
        )
    for _, process in workers:
        output, _ = process.communicate(timeout=400)
        assert process.returncode == 0, output[-3000:]

    from vitlab import models

    first, second = (models.load(str(out / "models" / "final.keras")) for out, _ in workers)
    initial = models.create("vit_test", num_classes=first.num_classes)
    for a, b in zip(first.weights, second.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert any(not np.allclose(a.numpy(), b.numpy()) for a, b in zip(first.weights, initial.weights))
    info = json.loads((workers[0][0] / "run.json").read_text())
    assert info["status"] == "done" and info["training"]["final"]["epochs"] == 2
    events = [json.loads(line) for line in (workers[0][0] / "events.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in events if e["kind"] == "metric" and e["name"] == "loss"] == [1, 2]

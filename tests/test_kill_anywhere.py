"""Kill anywhere: SIGKILL a small recipe at seeded random moments across training, evaluation,
result writing and report rendering, resuming each time. The run must end `done` in the same
directory, training must resume at its checkpointed batch, no finished step may run twice, run.json / results.h5 / events.jsonl must be
readable after every kill, and the final results must equal an uninterrupted run's."""

import json
import random
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest
from helpers import VITLAB, keras_file_weights, run_cli

SEED = 19
RECIPE = """
name = "kill-anywhere"
seed = 3
log_every = 1
[data]
dataset = "shapes"
limit = 96
eval_split = ""
image_size = 32
[optim]
epochs = 2
batch_size = 8
steps_per_epoch = 12
warmup_epochs = 0.5
checkpoint_every_steps = 1
checkpoint_minutes = 0
[[train]]
name = "net"
model = "vit_test"  # training 7.8 s vs resnet_test 22.3 s, side by side; BatchNorm: test_training_backup
[[evaluate]]
experiment = "occlusion"
models = ["net"]
dataset = "shapes"
limit = 16
batch_size = 8
set = { levels = [0.0, 0.5], modes = ["random"], repeats = 1 }
"""


def _events(run):
    path = run / "events.jsonl"
    if not path.exists():
        return []
    lines = path.read_bytes().split(b"\n")
    return [json.loads(line) for line in lines[:-1] if line.strip()]  # the last piece may be torn


TRIGGERS = {  # phase: (has this process got there, then the random delay before the kill, seconds)
    "train": (lambda e, m: e["kind"] == "progress", 0.6),
    "evaluate": (lambda e, m: m.startswith("occlusion: started"), 1.5),  # computing, writing results.h5
    "report": (lambda e, m: m.startswith(("occlusion: done", "occlusion: already done")), 0.25),
}


def _phase_seconds(events):
    """How long evaluation and the report took in an uninterrupted run: a kill delay longer than
    its phase lands after the run is done (a fast machine), so the delays are capped by these."""

    def time_of(test):
        return next((e["time"] for e in events if test(str(e.get("message", "")), e)), None)

    started = time_of(lambda m, e: m.startswith("occlusion: started"))
    done = time_of(lambda m, e: m.startswith("occlusion: done"))
    finished = time_of(lambda m, e: e["kind"] == "done")
    if None in (started, done, finished):
        return {}
    return {"evaluate": done - started, "report": finished - done}


def _reached(phase, new_events):
    test, _ = TRIGGERS[phase]
    return any(test(event, str(event.get("message", ""))) for event in new_events)


def _start(args):
    return subprocess.Popen(
        [*VITLAB, "recipe", "run", *args, "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _check_readable(run):
    info = json.loads((run / "run.json").read_text())  # replaced atomically: always whole
    assert info["format_version"] == 1
    if (run / "results.h5").exists():
        with h5py.File(run / "results.h5", "r") as handle:
            list(handle.keys())
    _events(run)
    return info


def _summary(run):
    with h5py.File(run / "results.h5", "r") as handle:
        return {key: json.loads(handle[key].attrs["summary"]) for key in handle}


@pytest.mark.slow
def test_kill_anywhere_then_resume_ends_like_an_uninterrupted_run(tmp_path, capsys):
    recipe = tmp_path / "r.toml"
    recipe.write_text(RECIPE)
    reference = tmp_path / "reference"
    code, _, err = run_cli(capsys, "recipe", "run", str(recipe), "--out", str(reference), "--quiet")  # uninterrupted
    assert code == 0, err[-2000:]

    took = _phase_seconds(_events(reference))
    rng = random.Random(SEED)
    # where each kill aims: most in training, then evaluation, then result writing and the report
    phases = ["train"] * 4 + ["evaluate"] * 3 + ["report"] * 3  # at least 10 kills
    run = tmp_path / "run"
    kills, killed_in = 0, []
    process = _start([str(recipe), "--out", str(run)])
    # First a cancel, as the TUI sends it (SIGTERM) mid-training: the run records `interrupted`
    # and the process ends at once (a normal interpreter exit waited 6-64 s for tf.data threads).
    deadline = time.time() + 300
    while not _reached("train", _events(run)) and process.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    sent = time.time()
    assert process.wait(timeout=60) == 130
    assert time.time() - sent < 5, f"SIGTERM took {time.time() - sent:.1f} s to end the process"
    assert b"interrupted" in process.stderr.read()
    assert _check_readable(run)["status"] == "interrupted"
    process = _start(["--resume", str(run)])
    for phase in phases:
        seen = len(_events(run))
        deadline = time.time() + 300
        while process.poll() is None and time.time() < deadline:
            if _reached(phase, _events(run)[seen:]):
                break
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, min(TRIGGERS[phase][1], 0.8 * took.get(phase, TRIGGERS[phase][1]))))
        if process.poll() is not None:
            break  # it finished first
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
        killed_in.append((phase, _events(run)[-1]["kind"] if _events(run) else "none"))
        info = _check_readable(run)
        assert info["status"] in ("created", "running", "done")  # done: killed after the last write
        process = _start(["--resume", str(run)])
    assert process.wait(timeout=600) == 0, process.stderr.read().decode()[-2000:]
    assert kills >= 10, f"only {kills} kills landed: {killed_in}"

    info = _check_readable(run)
    assert info["status"] == "done" and info["steps"] == {"train:net": "done", "occlusion": "done"}
    events = _events(run)
    # resumed at the checkpointed batch, not at the epoch or step start: each kill in training
    # costs at most the one batch trained after the last checkpoint (checkpoint_every_steps = 1)
    trained = sum(e["kind"] == "progress" and "loss" in e for e in events)
    assert trained <= 2 * 12 + sum(phase == "train" for phase, _ in killed_in), (trained, killed_in)
    for step_done in ("train:net: done", "occlusion: done"):
        assert sum(str(e.get("message", "")).startswith(step_done) for e in events) == 1, step_done
    assert (run / "report" / "index.md").exists()

    mine, theirs = (
        keras_file_weights(run / "models" / "net.keras"),
        keras_file_weights(reference / "models" / "net.keras"),
    )
    assert mine.keys() == theirs.keys()
    for name in mine:
        np.testing.assert_allclose(mine[name], theirs[name], rtol=1e-4, atol=1e-5, err_msg=name)
    expected, got = _summary(reference), _summary(run)
    assert got.keys() == expected.keys()
    for key in expected:
        for metric, value in expected[key].items():
            assert got[key][metric] == pytest.approx(value, rel=1e-4, abs=1e-5), (key, metric)

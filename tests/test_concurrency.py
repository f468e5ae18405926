"""Two or more vitlab processes at once, for real: a shared feature cache, one runs root, a
run read (as the TUI reads it) while another process writes it, two resumes of one run."""

import json
import subprocess
import sys
import textwrap
import time

import h5py
import pytest
from helpers import VITLAB


def _vitlab(*args):
    return subprocess.Popen([*VITLAB, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process, timeout=600):
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out + err


@pytest.mark.slow
def test_two_extractions_of_the_same_features_share_one_complete_file(tmp_path):
    cache = tmp_path / "cache"
    args = [
        "features",
        "extract",
        "-m",
        "vit_test",
        "-d",
        "shapes",
        "--limit",
        "24",
        "--blocks",
        "last",
        "--cache-dir",
        str(cache),
        "--chunk-rows",
        "8",
    ]
    first, second = _vitlab(*args), _vitlab(*args)
    results = [_finish(first), _finish(second)]
    for code, output in results:
        assert code == 0, output[-2000:]
    files = sorted(cache.glob("*.h5"))
    assert len(files) == 1, files
    with h5py.File(files[0], "r") as handle:
        assert bool(handle.attrs["complete"]) and int(handle.attrs["rows_done"]) == 24
        assert handle["labels"].shape == (24,)
    # one of the two extracted, the other waited for it and read the finished file
    assert sum("cache hit" in output for _, output in results) >= 1, [o[-500:] for _, o in results]


@pytest.mark.slow
def test_two_launches_into_one_runs_root_get_their_own_directories(tmp_path):
    runs = tmp_path / "runs"
    args = [
        "eval",
        "occlusion",
        "-m",
        "resnet_test",
        "--limit",
        "4",
        "--batch-size",
        "4",
        "--set",
        "levels=0,0.5",
        "--set",
        "modes=random",
        "--set",
        "repeats=1",
        "--runs",
        str(runs),
        "--quiet",
    ]
    same_out = ["--out", str(tmp_path / "shared")]
    processes = [_vitlab(*args), _vitlab(*args), _vitlab(*args, *same_out), _vitlab(*args, *same_out)]
    results = [_finish(p) for p in processes]
    assert results[0][0] == 0 and results[1][0] == 0, [r[1][-800:] for r in results[:2]]
    directories = sorted(p for p in runs.iterdir() if p.is_dir())
    assert len(directories) == 2
    for directory in directories:
        assert json.loads((directory / "run.json").read_text())["status"] == "done"
    codes = sorted(code for code, _ in results[2:])
    assert codes == [0, 2], [r[1][-800:] for r in results[2:]]  # one claims --out, the other is refused
    refused = next(output for code, output in results[2:] if code == 2)
    assert "already holds a run" in refused and "Traceback" not in refused
    assert json.loads((tmp_path / "shared" / "run.json").read_text())["status"] == "done"


WRITER = textwrap.dedent("""
    import sys, numpy as np
    from vitlab.results import Result, RunStore
    run = RunStore(sys.argv[1]).create("busy", "eval", {}, path=sys.argv[2])
    run.set_status("running")
    for i in range(40):
        run.write_result(Result(experiment=f"e{i}", config={}, models=["m"], summary={"i": i},
                                arrays={"x": np.arange(2000) * i}))
        run.event("progress", step=f"e{i}", done=i, total=40, message="x" * 3000)
    run.set_status("done")
""")


def test_a_run_read_while_another_process_writes_it(tmp_path):
    """The TUI's reader (tui.run_index, no TensorFlow) never sees a torn run.json, events line or results.h5."""
    from vitlab.results import Run
    from vitlab.tui import run_index

    run_dir = tmp_path / "runs" / "busy"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path / "runs"), str(run_dir)], stderr=subprocess.PIPE, text=True
    )
    reads, seen_results, offset, events = 0, 0, 0, []
    index = run_index.RunIndex(tmp_path / "runs")
    while writer.poll() is None or reads == 0:
        index.refresh()
        if (run_dir / "run.json").exists():
            row = run_index.read_row(run_dir)
            assert row.status in ("created", "running", "done"), row
            run = Run(run_dir)
            new, offset = run.events(offset)
            events += new
            seen_results = max(seen_results, len(run.results()))
            reads += 1
        time.sleep(0.005)
    assert writer.wait() == 0, writer.stderr.read()
    assert reads > 5 and Run(run_dir).status() == "done" and len(Run(run_dir).results()) == 40
    progress = [e for e in events + Run(run_dir).events(offset)[0] if e["kind"] == "progress"]
    assert [e["done"] for e in progress] == list(range(40))  # every line whole, in order, once


HOLDER = textwrap.dedent("""
    import sys, time
    from vitlab.results import RunStore
    from vitlab.results.run_status import exclusive
    run = RunStore(sys.argv[1]).create("held", "eval", {}, path=sys.argv[2])
    with exclusive(run):
        print("holding", flush=True)
        time.sleep(60)
""")


def test_a_second_process_cannot_work_in_a_run_that_is_in_use(tmp_path):
    from vitlab.results import Run, RunStoreError
    from vitlab.results.run_status import exclusive

    run_dir = tmp_path / "runs" / "held"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "runs"), str(run_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(RunStoreError, match=rf"in use by process {holder.pid}"):
            with exclusive(Run(run_dir)):
                pass
    finally:
        holder.kill()
        holder.wait()
    with exclusive(Run(run_dir)):  # the kernel dropped the dead holder's lock: usable again
        pass

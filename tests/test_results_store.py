"""RunStore: run directories, crash-safe files, readable results, bad directories reported."""

import json
import os

import numpy as np
import pytest

from vitlab.report.markdown import write_report
from vitlab.results import Curve, Result, RunStore, RunStoreError, Table
from vitlab.results.run_status import active


def _result():
    return Result(
        experiment="occlusion",
        config={"levels": [0.0, 0.5]},
        models=["a", "b"],
        arrays={"random/a/top1": np.array([0.9, 0.5]), "names": np.array(["x", "y"])},
        curves=[
            Curve(
                "Random PatchDrop",
                "information loss",
                "top-1",
                [0.0, 0.5],
                {"a": [0.9, 0.5], "b": [0.8, 0.2]},
                errors={"a": [0.01, 0.02]},
            )
        ],
        tables=[Table("top-1", ["model", "0.0", "0.5"], [["a", 0.9, 0.5], ["b", 0.8, 0.2]])],
        summary={"a/top1@0.5": 0.5},
    )


def test_create_write_and_read_back(tmp_path):
    store = RunStore(tmp_path)
    run = store.create("occlusion", kind="eval", config={"x": 1}, seed=3, models=["a", "b"], dataset="shapes")
    run.write_result(_result())
    run.write_result(_result(), key="occlusion-again")
    results = run.results()
    assert set(results) == {"occlusion", "occlusion-again"}
    result = results["occlusion"]
    np.testing.assert_array_equal(result.arrays["random/a/top1"], [0.9, 0.5])
    assert list(result.arrays["names"]) == ["x", "y"]
    assert result.curves[0].series["b"] == [0.8, 0.2] and result.curves[0].errors["a"] == [0.01, 0.02]
    assert result.tables[0].rows[1] == ["b", 0.8, 0.2]
    info = run.read_info()
    assert info["seed"] == 3 and info["summary"]["occlusion/a/top1@0.5"] == 0.5
    assert not list(tmp_path.glob("**/.*.tmp"))


def test_two_runs_never_share_a_directory(tmp_path):
    store = RunStore(tmp_path)
    paths = {store.create("same", kind="eval", config={}).path for _ in range(5)}
    assert len(paths) == 5
    explicit = tmp_path / "mine"
    store.create("x", kind="eval", config={}, path=explicit)
    with pytest.raises(RunStoreError, match="already holds a run"):
        store.create("x", kind="eval", config={}, path=explicit)


def test_lifecycle_records_how_a_run_ended(tmp_path):
    store = RunStore(tmp_path)
    run = store.create("ok", kind="eval", config={})
    with active(run):
        run.write_result(_result())
    assert run.status() == "done"
    assert (run.path / "report" / "index.md").read_text().count(".png") == 1

    failing = store.create("bad", kind="eval", config={})
    with pytest.raises(RuntimeError):
        with active(failing):
            raise RuntimeError("boom")
    assert failing.status() == "failed" and failing.read_info()["error"] == "boom"

    stopped = store.create("stop", kind="eval", config={})
    with pytest.raises(KeyboardInterrupt):
        with active(stopped):
            raise KeyboardInterrupt
    assert stopped.status() == "interrupted"
    kinds = [e["kind"] for e in stopped.events()[0]]
    assert kinds[-1] == "error"


def test_a_sigterm_whose_interrupt_is_swallowed_still_cancels_the_run(tmp_path):
    """Python drops an exception raised in a __del__ or callback: a cancel landing there must not
    be lost. The next progress event raises it again; a block that ends without one ends interrupted."""
    import os
    import signal

    store = RunStore(tmp_path)
    for emits_again in (True, False):
        run = store.create(f"swallowed-{emits_again}", kind="eval", config={})
        steps = []
        with pytest.raises(KeyboardInterrupt):
            with active(run):
                try:
                    os.kill(os.getpid(), signal.SIGTERM)  # the handler runs here, in this frame
                    signal.pthread_sigmask(signal.SIG_BLOCK, [])  # a bytecode boundary for it to run at
                except KeyboardInterrupt:
                    pass  # what a __del__ or callback does to it
                if emits_again:
                    run.event("progress", done=1)
                    steps.append("after the cancel")
        assert steps == [] and run.status() == "interrupted", emits_again
        assert not run.cancel_requested and run.event("progress", done=2)  # one cancel raises once


def test_a_sigterm_that_comes_back_as_another_error_still_ends_interrupted(tmp_path):
    """TensorFlow turns what a Python callback raises inside its C++ loop into its own error: a
    cancel that surfaces so is an interrupt (exit 130, resumable), not a failure."""
    import os
    import signal

    run = RunStore(tmp_path).create("wrapped", kind="eval", config={})
    with pytest.raises(KeyboardInterrupt):
        with active(run):
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                signal.pthread_sigmask(signal.SIG_BLOCK, [])
            except KeyboardInterrupt as interrupt:
                raise RuntimeError("UnknownError: KeyboardInterrupt in a callback") from interrupt
    assert run.status() == "interrupted" and not run.cancel_requested
    # the second chance (the next event re-raises a swallowed cancel) comes back wrapped too
    run = RunStore(tmp_path).create("wrapped-again", kind="eval", config={})
    with pytest.raises(KeyboardInterrupt):
        with active(run):
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                signal.pthread_sigmask(signal.SIG_BLOCK, [])
            except KeyboardInterrupt:
                pass  # swallowed
            try:
                run.event("progress", done=1)
            except KeyboardInterrupt as interrupt:
                raise RuntimeError("UnknownError: KeyboardInterrupt in a callback") from interrupt
    assert run.status() == "interrupted" and not run.cancelled
    # Ctrl-C, wrapped the same way
    run = RunStore(tmp_path).create("wrapped-ctrl-c", kind="eval", config={})
    with pytest.raises(KeyboardInterrupt):
        with active(run):
            try:
                os.kill(os.getpid(), signal.SIGINT)
                signal.pthread_sigmask(signal.SIG_BLOCK, [])
            except KeyboardInterrupt as interrupt:
                raise RuntimeError("UnknownError: KeyboardInterrupt in a callback") from interrupt
    assert run.status() == "interrupted" and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    run = RunStore(tmp_path).create("failed", kind="eval", config={})
    with pytest.raises(RuntimeError):
        with active(run):
            raise RuntimeError("a real failure")
    assert run.status() == "failed"


def test_a_resumed_runs_duration_counts_every_process_that_ended(tmp_path):
    run = RunStore(tmp_path).create("x", kind="eval", config={})
    run.set_status("running")
    run.update(started_unix=run.read_info()["started_unix"] - 100.0)  # the first process ran 100 s
    run.set_status("interrupted")
    assert run.read_info()["duration_s"] == pytest.approx(100.0, abs=1.0)
    run.set_status("running")  # the resume: 30 s more
    run.update(started_unix=run.read_info()["started_unix"] - 30.0)
    run.set_status("done")
    assert run.read_info()["duration_s"] == pytest.approx(130.0, abs=1.0)


def test_a_running_run_whose_process_died_reads_as_interrupted(tmp_path):
    run = RunStore(tmp_path).create("x", kind="eval", config={})
    run.update(status="running", pid=2**22 + 12345)
    assert run.status() == "interrupted"


def test_events_skip_a_torn_last_line(tmp_path):
    run = RunStore(tmp_path).create("x", kind="eval", config={})
    run.event("progress", done=1, total=2)
    with open(run.path / "events.jsonl", "a") as handle:
        handle.write('{"kind": "progr')
    events, offset = run.events()
    assert [e["kind"] for e in events] == ["step", "progress"]
    with open(run.path / "events.jsonl", "a") as handle:
        handle.write('ess", "done": 2}\n')
    more, _ = run.events(offset)
    assert more == [{"kind": "progress", "done": 2}]


def test_bad_directories_are_listed_with_a_reason(tmp_path):
    store = RunStore(tmp_path)
    good = store.create("good", kind="eval", config={})
    (tmp_path / "half").mkdir()
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "run.json").write_text("{not json")
    future = tmp_path / "future"
    future.mkdir()
    (future / "run.json").write_text(json.dumps({"format_version": 99}))
    entries = {run.path.name: error for run, info, error in store.list()}
    assert entries[good.path.name] is None
    assert "no run.json" in entries["half"]
    assert "unreadable" in entries["corrupt"]
    assert "format version 99" in entries["future"]


def test_a_stale_temp_file_does_not_break_the_results(tmp_path):
    run = RunStore(tmp_path).create("x", kind="eval", config={})
    run.write_result(_result())
    (run.path / f".results.h5.{os.getpid() + 1}.tmp").write_bytes(b"garbage from a killed writer")
    assert "occlusion" in run.results()
    (run.path / "results.h5").write_bytes(b"not hdf5")
    with pytest.raises(RunStoreError, match="unreadable"):
        run.results()


def test_report_lists_curves_and_tables(tmp_path):
    run = RunStore(tmp_path).create("x", kind="eval", config={})
    run.write_result(_result())
    index = write_report(run)
    text = index.read_text()
    assert "| a | 0.9000 | 0.5000 |" in text
    pngs = list(index.parent.glob("*.png"))
    assert len(pngs) == 1 and pngs[0].stat().st_size > 5000

"""`vitlab features extract|info` and `vitlab eval linear-probe` from the command line."""

import json

import pytest
from helpers import run_cli


def test_extract_writes_the_file_and_a_rerun_reads_it(tmp_path, capsys):
    cache = tmp_path / "vit.h5"
    argv = [
        "features",
        "extract",
        "-m",
        "deit_test_distilled",
        "-d",
        "fashion_mnist",
        "--limit",
        "24",
        "--blocks",
        "last",
        "--out",
        cache,
        "--chunk-rows",
        "8",
    ]
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert "cache miss" in out and "24 rows, complete" in out and "kinds class, dist, patch_mean" in out
    code, out, _ = run_cli(capsys, *argv)
    assert code == 0 and "cache hit" in out
    code, out, _ = run_cli(capsys, "features", "info", cache)
    assert code == 0 and "model deit_test_distilled" in out and "blocks 1;" in out


def test_extract_and_info_refuse_bad_input(tmp_path, capsys):
    code, _, err = run_cli(
        capsys,
        "features",
        "extract",
        "-m",
        "vit_test",
        "-d",
        "fashion_mnist",
        "--limit",
        "8",
        "--blocks",
        "5",
        "--out",
        tmp_path / "x.h5",
    )
    assert code == 2 and "error: blocks: index 5 is out of range for vit_test" in err
    code, _, err = run_cli(capsys, "features", "info", tmp_path / "missing.h5")
    assert code == 2 and "missing.h5: no such feature cache file" in err


@pytest.mark.slow
def test_eval_linear_probe_twice_reuses_the_cache(tmp_path, capsys, monkeypatch):
    import keras

    from vitlab import models

    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path / "cache"))
    keras.utils.set_random_seed(0)
    for name in ("vit_test", "resnet_test"):
        models.create(name).save(tmp_path / f"{name}.keras")
    argv = [
        "eval",
        "linear-probe",
        "-m",
        str(tmp_path / "vit_test.keras"),
        "-m",
        str(tmp_path / "resnet_test.keras"),
        "-d",
        "fashion_mnist",
        "--limit",
        "60",
        "--set",
        "limit_train=120",
        "--set",
        "c_grid=1.0",
        "--set",
        "epochs=2",
        "-q",
    ]
    for run in ("first", "second"):
        code, _, err = run_cli(capsys, *argv, "--out", tmp_path / run)
        assert code == 0, err
    events = [json.loads(line) for line in (tmp_path / "second" / "events.jsonl").read_text().splitlines()]
    messages = [e.get("message", "") for e in events if e["kind"] == "log"]
    assert sum(m.startswith("cache hit") for m in messages) == 4  # 2 models x (train, test)
    assert not any(m.startswith("cache miss") for m in messages)
    report = (tmp_path / "second" / "report" / "index.md").read_text()
    assert "| last 2 class concat | 64 |" in report and ".png" in report

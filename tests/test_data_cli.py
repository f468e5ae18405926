"""`vitlab data show|list|prepare` through the real entry point (errors exit 2 with one line)."""

import pytest
from helpers import run_cli


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path / "cache"))


def test_show_cue_conflict_writes_a_png(tmp_path, capsys):
    out = tmp_path / "x.png"
    code, stdout, _ = run_cli(capsys, "data", "show", "shapes:cue_conflict", "-o", str(out), "-n", "8")
    assert code == 0 and "8 samples" in stdout
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


def test_show_unknown_dataset_exits_2_with_one_line(tmp_path, capsys):
    code, _, stderr = run_cli(capsys, "data", "show", "nope", "-o", str(tmp_path / "y.png"))
    assert code == 2
    assert stderr.startswith("error: unknown dataset 'nope'") and stderr.count("\n") == 1
    assert not (tmp_path / "y.png").exists()


def test_prepare_shapes_builds_the_cache_then_reuses_it(tmp_path, capsys):
    argv = ["data", "prepare", "shapes", "--variant", "cue_conflict", "--train-size", "30", "--test-size", "20"]
    code, stdout, _ = run_cli(capsys, *argv)
    assert code == 0 and stdout.count("built in") == 2
    assert len(list((tmp_path / "cache" / "shapes").glob("cue_conflict-*.npz"))) == 2
    code, stdout, _ = run_cli(capsys, *argv)
    assert code == 0 and stdout.count("cached") == 2
    code, _, stderr = run_cli(capsys, "data", "prepare", "shapes", "--variant", "zebra")
    assert code == 2 and "zebra" in stderr


def test_list_names_every_source(capsys):
    code, stdout, _ = run_cli(capsys, "data", "list")
    assert code == 0
    for name in ("shapes:cue_conflict", "fashion_mnist", "tfds:NAME", "PATH"):
        assert name in stdout


def test_prepare_stylized_reports_missing_inputs(tmp_path, capsys):
    base = [
        "data",
        "prepare",
        "stylized",
        "--dataset",
        "shapes,test_size=4",
        "-o",
        str(tmp_path / "out"),
        "--image-size",
        "32",
    ]
    code, _, stderr = run_cli(capsys, *base, "--styles", tmp_path / "nostyles", "--decoder", "d.weights.h5")
    assert code == 2 and "style folder" in stderr and stderr.count("\n") == 1
    (tmp_path / "styles").mkdir()
    (tmp_path / "styles" / "s.png").write_bytes(b"not a png")
    code, _, stderr = run_cli(capsys, *base, "--styles", tmp_path / "styles", "--decoder", "d.weights.h5")
    assert code == 2 and "no readable images" in stderr
    import tensorflow as tf

    (tmp_path / "styles" / "t.png").write_bytes(tf.io.encode_png(tf.zeros((8, 8, 3), tf.uint8)).numpy())
    code, _, stderr = run_cli(capsys, *base, "--styles", tmp_path / "styles", "--decoder", tmp_path / "d.weights.h5")
    assert code == 2 and "decoder weights" in stderr and "no such file" in stderr

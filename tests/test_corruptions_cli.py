"""`vitlab data prepare corruptions` then `vitlab eval corruption` on that set, and the error path."""

import h5py
import pytest
from helpers import run_cli


@pytest.mark.slow
def test_prepare_then_evaluate_from_the_cli(tmp_path, capsys):
    prepared = tmp_path / "set"
    code, out, err = run_cli(
        capsys,
        "data",
        "prepare",
        "corruptions",
        "--dataset",
        "shapes",
        "--limit",
        "8",
        "--corruptions",
        "fog,contrast",
        "--severities",
        "2",
        "--workers",
        "1",
        "--out",
        prepared,
    )
    assert code == 0, out + err
    assert (prepared / "fog" / "2.npz").exists() and (prepared / "contrast" / "2.npz").exists()
    run_dir = tmp_path / "run"
    code, out, err = run_cli(
        capsys,
        "eval",
        "corruption",
        "--model",
        "vit_test",
        "--model",
        "resnet_test",
        "--dataset",
        "shapes",
        "--limit",
        "8",
        "--quiet",
        "--out",
        run_dir,
        "--set",
        "corruptions=fog,contrast",
        "--set",
        "severities=2",
        "--set",
        f"corruption_dir={prepared}",
    )
    assert code == 0, out + err
    with h5py.File(run_dir / "results.h5") as handle:
        assert handle["corruption/arrays/errors"].shape == (2, 2, 1)
    assert len(list((run_dir / "report").glob("*.png"))) == 3  # weather, digital, CE bars


def test_unknown_corruption_from_the_cli_is_one_line(tmp_path, capsys):
    code, _, err = run_cli(capsys, "data", "prepare", "corruptions", "--out", tmp_path, "--corruptions", "fog,smog")
    assert code == 2 and err.startswith("error: unknown corruption 'smog'") and err.count("\n") == 1

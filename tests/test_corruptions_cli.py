"""`vitlab data prepare corruptions` then `vitlab eval corruption` on that set, and the error path."""

import h5py
import pytest


@pytest.mark.slow
def test_prepare_then_evaluate_from_the_cli(tmp_path):
    from typer.testing import CliRunner

    from vitlab.cli import app

    runner = CliRunner()
    prepared = tmp_path / "set"
    outcome = runner.invoke(app, ["data", "prepare", "corruptions", "--dataset", "shapes", "--limit", "8",
                                  "--corruptions", "fog,contrast", "--severities", "2", "--workers", "1",
                                  "--out", str(prepared)])
    assert outcome.exit_code == 0, outcome.output
    assert (prepared / "fog" / "2.npz").exists() and (prepared / "contrast" / "2.npz").exists()
    run_dir = tmp_path / "run"
    outcome = runner.invoke(app, ["eval", "corruption", "--model", "vit_test", "--model", "resnet_test",
                                  "--dataset", "shapes", "--limit", "8", "--quiet", "--out", str(run_dir),
                                  "--set", "corruptions=fog,contrast", "--set", "severities=2",
                                  "--set", f"corruption_dir={prepared}"])
    assert outcome.exit_code == 0, outcome.output
    with h5py.File(run_dir / "results.h5") as handle:
        assert handle["corruption/arrays/errors"].shape == (2, 2, 1)
    assert len(list((run_dir / "report").glob("*.png"))) == 3  # weather, digital, CE bars


def test_unknown_corruption_from_the_cli_is_one_line(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "vitlab.cli", "data", "prepare", "corruptions", "--out",
                           str(tmp_path), "--corruptions", "fog,smog"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: unknown corruption 'smog'")

"""SavedModel export: reloaded in a fresh process it gives the Keras model's outputs."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

RELOAD = """
import json, sys
import numpy as np, tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
serve = loaded.signatures["serving_default"]
out = {}
for shape in ([3, 32, 32, 3], [2, 48, 40, 3]):
    images = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    result = serve(images=tf.constant(images))
    out[str(shape)] = {k: (v.numpy().astype(str) if v.dtype == tf.string else v.numpy()).tolist() for k, v in result.items()}
print(json.dumps(out))
"""


@pytest.mark.slow
def test_saved_model_round_trip_in_a_fresh_process(tmp_path):
    import keras
    import tensorflow as tf

    from vitlab import models
    from vitlab.export import export_saved_model, preprocess

    keras.utils.set_random_seed(3)
    model = models.create("deit_test_distilled", num_classes=10)
    names = [f"class{i}" for i in range(10)]
    export_saved_model(model, tmp_path / "sm", class_names=names, top_k=3)
    done = subprocess.run(
        [sys.executable, "-c", RELOAD, str(tmp_path / "sm")], capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-2000:]
    served = json.loads(done.stdout.strip().splitlines()[-1])
    for shape in ([3, 32, 32, 3], [2, 48, 40, 3]):
        images = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
        expected = tf.nn.softmax(model(preprocess(images, 32), training=False)).numpy()
        got = served[str(shape)]
        np.testing.assert_allclose(got["probabilities"], expected, atol=1e-5)
        top = np.argsort(-expected, axis=1)[:, :3]
        np.testing.assert_array_equal(got["top_k_indices"], top)
        assert got["top_k_names"] == [[names[i] for i in row] for row in top]
    cli_path = str(Path(sys.executable).with_name("saved_model_cli"))
    cli = subprocess.run(
        [cli_path, "show", "--dir", str(tmp_path / "sm"), "--tag_set", "serve", "--signature_def", "serving_default"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 0, cli.stderr[-2000:]
    assert "DT_UINT8" in cli.stdout and "(-1, -1, -1, 3)" in cli.stdout and "top_k_names" in cli.stdout


def test_export_command_reads_class_names_from_the_run_and_refuses_bad_targets(tmp_path, capsys):
    from helpers import run_cli

    from vitlab import models
    from vitlab.results import RunStore

    run = RunStore(tmp_path / "runs").create(name="r", kind="recipe", config={})
    run.subdir("models")
    models.create("vit_test", num_classes=3).save(str(run.path / "models" / "final.keras"))
    run.update(training={"final": {"class_names": ["circle", "square", "star"]}})
    from vitlab.export import export_source

    model, names = export_source(str(run.path))
    assert names == ["circle", "square", "star"] and model.num_classes == 3
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("x")
    for argv, message in (
        [[str(run.path), "-o", str(tmp_path / "taken")], "already exists and is not empty"],
        [[str(tmp_path / "nothing.keras"), "-o", str(tmp_path / "o")], "no such model file"],
        [[str(run.path), "-o", str(tmp_path / "o"), "--top-k", "0"], "--top-k"],
    ):
        code, _, err = run_cli(capsys, "export", *argv)
        assert code == 2 and message in err

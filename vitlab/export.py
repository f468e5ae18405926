"""SavedModel export for TF Serving.

The `serving_default` signature takes what a client has: uint8 images [N, H, W, 3] of any
size. It resizes them to the model's input (bilinear), scales to [0, 1] (the model
normalises itself) and returns probabilities, the top-k class indices, their
probabilities and their class names, so a REST client needs nothing but the JSON.
"""

import os
from pathlib import Path

from vitlab import atomic
from vitlab.errors import UserError


def preprocess(images, image_size):
    """uint8 [N, H, W, 3] -> float32 [N, S, S, 3] in [0, 1]; the exact transform the signature applies."""
    import tensorflow as tf

    images = tf.cast(images, tf.float32) / 255.0
    return tf.image.resize(images, (image_size, image_size), method="bilinear")


def export_saved_model(model, directory, class_names=None, top_k=5):
    """Write `model` as a SavedModel in `directory` (must not exist) and return its path."""
    import keras

    directory = check_target(directory)
    if keras.backend.backend() != "tensorflow":
        return _export_in_tensorflow(model, directory, class_names, top_k)
    with atomic.replacing_dir(directory) as staging:  # a SavedModel appears whole or not at all
        _write_saved_model(model, staging, class_names, top_k)
    return directory


def check_target(directory):
    """The export folder: new or empty, never an existing file; its parent must be writable."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise UserError(f"{directory}: is an existing file; -o names a new folder for the SavedModel")
    if directory.is_dir() and any(directory.iterdir()):
        raise UserError(f"{directory} already exists and is not empty; choose another -o")
    parent = directory.parent
    parent.mkdir(parents=True, exist_ok=True)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"{parent}: not writable; choose another -o")
    return directory


def _write_saved_model(model, directory, class_names, top_k):
    import keras
    import tensorflow as tf

    image_size = int(getattr(model, "image_size", None) or model.input_shape[1])
    num_classes = int(getattr(model, "num_classes", None) or model.output_shape[-1])
    names = [str(n) for n in (class_names or range(num_classes))]
    if len(names) != num_classes:
        raise UserError(f"{len(names)} class names for a model with {num_classes} classes")
    k = min(int(top_k), num_classes)
    name_table = tf.constant(names)

    def serve(images):
        logits = tf.cast(model(preprocess(images, image_size), training=False), tf.float32)
        probabilities = tf.nn.softmax(logits, axis=-1)
        top = tf.math.top_k(probabilities, k=k)
        return {
            "probabilities": probabilities,
            "top_k_indices": top.indices,
            "top_k_probabilities": top.values,
            "top_k_names": tf.gather(name_table, top.indices),
        }

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "serving_default", serve, input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")]
    )
    archive.write_out(str(directory), verbose=False)


def _export_in_tensorflow(model, directory, class_names, top_k):
    """A SavedModel's serving function is TensorFlow: on another backend, save the model as
    .keras (backend-neutral) and export it from a TensorFlow process."""
    import json
    import os
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="vitlab-export-") as folder:
        path = Path(folder) / "model.keras"
        model.save(str(path))
        done = subprocess.run(
            [sys.executable, "-m", "vitlab.export", str(path), str(directory), str(top_k), json.dumps(class_names)],
            capture_output=True,
            text=True,
            env={**os.environ, "KERAS_BACKEND": "tensorflow"},
        )
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise UserError(f"export in a TensorFlow process failed: {lines[-1] if lines else done.returncode}")
    return directory


def export_source(model_or_run):
    """(keras model, class names) from a .keras file or a run directory (its `final` or only model)."""
    import json

    from vitlab import models

    path = Path(model_or_run.split(":")[0] if not model_or_run.endswith(".keras") else model_or_run)
    if not path.exists():
        raise UserError(f"{model_or_run}: no such model file or run directory")
    class_names = None
    if path.is_dir():
        from vitlab.experiments.runner import resolve_model

        adapter = resolve_model(model_or_run)
        stem = adapter.name.rsplit(":", 1)[-1]
        try:
            info = json.loads((path / "run.json").read_text())
            class_names = info.get("training", {}).get(stem, {}).get("class_names")
        except (OSError, json.JSONDecodeError):
            pass
        return adapter.model, class_names
    return models.load(str(path)), class_names


if __name__ == "__main__":  # python -m vitlab.export MODEL.keras DIRECTORY TOP_K CLASS_NAMES_JSON
    import json
    import sys

    from vitlab import models

    model_file, target, k, names_json = sys.argv[1:5]
    try:
        export_saved_model(models.load(model_file), target, class_names=json.loads(names_json), top_k=int(k))
    except UserError as error:
        sys.exit(f"error: {error}")

"""The bad-input battery: every file a user can hand in, driven through the real CLI entry point.

Each row is (case, setup, expected exit code, words the message must hold). `setup(tmp)`
(tests/bad_input_cases.py) builds the input in a fresh folder and returns the argv. For every row: the exit code
matches, stderr holds no traceback and at most a few lines, the words are there, and the
files that existed before the command are byte for byte the same afterwards.
"""

import errno
import os

import bad_input_cases as cases
import numpy as np
import pytest
from helpers import run_cli

pytestmark = pytest.mark.xdist_group("bad_input")  # one worker: shares the tiny models

MAX_STDERR_LINES = 4


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A tiny vitlab model, an unrelated Keras model, a Lambda model, a custom-class model, timm weights."""
    import keras

    from vitlab import models
    from vitlab.models import timm_convert

    folder = tmp_path_factory.mktemp("models")
    vit = models.create("vit_test", num_classes=3, image_size=32)
    vit.save(folder / "vit.keras")
    unrelated = keras.Sequential([keras.Input((7,)), keras.layers.Dense(2)])
    unrelated.save(folder / "dense.keras")
    inputs = keras.Input((8, 8, 3))
    lam = keras.Model(inputs, keras.layers.Flatten()(keras.layers.Lambda(lambda x: x * 2.0)(inputs)))
    lam.save(folder / "lambda.keras")

    @keras.saving.register_keras_serializable(package="battery_only")
    class Doubler(keras.layers.Layer):
        def call(self, x):
            return x * 2.0

    custom = keras.Model(inputs, keras.layers.Flatten()(Doubler()(inputs)))
    custom.save(folder / "custom.keras")
    keras.saving.get_custom_objects().pop("battery_only>Doubler")  # as in a fresh process: not registered
    state = {key: np.asarray(value) for key, value in timm_convert.export_timm_state(vit).items()}
    return folder, state


CASES = [
    # case, setup, exit code, words in the message (lower case)
    ("model missing", cases.model_missing, 2, ["nope.keras", "no such model file"]),
    ("model empty", cases.model_empty, 2, ["m.keras", "empty file"]),
    ("model truncated", cases.model_truncated, 2, ["m.keras", "not a zip"]),
    ("model text file", cases.model_text, 2, ["m.keras", "not a zip"]),
    ("model zip without config", cases.model_zip_without_config, 2, ["m.keras", "without config.json"]),
    ("model unrelated keras", cases.model_unrelated, 2, ["not an image classifier", "(none, 7)"]),
    ("model lambda", cases.model_lambda, 2, ["m.keras", "holds code", "safe mode"]),
    ("model custom class", cases.model_custom_class, 2, ["m.keras", "doubler", "not loaded"]),
    ("checkpoint missing key", cases.checkpoint_missing_key, 2, ["w.npz", "missing keys", "cls_token"]),
    ("checkpoint extra key", cases.checkpoint_extra_key, 2, ["w.npz", "unexpected keys", "blocks.99"]),
    ("checkpoint wrong shape", cases.checkpoint_wrong_shape, 2, ["w.npz", "wrong shapes", "cls_token"]),
    ("checkpoint other architecture", cases.checkpoint_other_architecture, 2, ["w.npz", "resnet_test", "missing keys"]),
    ("folder missing", cases.folder_missing, 2, ["nothing-here", "no such folder"]),
    ("folder empty", cases.folder_empty, 2, ["no class folders"]),
    ("folder without images", cases.folder_classes_without_images, 2, ["has no images", "2 class folders"]),
    ("folder one class to train", cases.folder_one_class_for_training, 2, ["has 1 class", "cat", "two or more"]),
    ("folder gray rgba cmyk 16-bit exif", cases.folder_modes_converted, 0, ["wrote", "8 samples"]),
    (
        "folder unreadable skipped",
        cases.folder_unreadable_files_skipped,
        0,
        ["skipped 3 unreadable files", "zero.jpg", "cut.png", "notes.jpg"],
    ),
    ("folder huge image", cases.folder_huge_image_refused, 0, ["skipped 1 unreadable files", "huge.png"]),
    ("folder unicode names", cases.folder_unicode_and_spaces, 0, ["wrote", "2 samples"]),
    ("folder symlink loop", cases.folder_symlink_loop, 2, ["loop", "symlink loop"]),
    ("folder file symlink loop", cases.folder_file_symlink_loop_ignored, 0, ["wrote", "2 samples"]),
    ("recipe syntax error", cases.recipe_syntax_error, 2, ["r.toml", "line 3"]),
    ("recipe unknown key", cases.recipe_unknown_key, 2, ["r.toml", "epochz", "did you mean epochs"]),
    ("recipe wrong type", cases.recipe_wrong_type, 2, ["r.toml", "epochs", "expected int", "three"]),
    ("recipe teacher cycle", cases.recipe_teacher_cycle, 2, ["r.toml", "teacher", "must come before"]),
    ("recipe teacher itself", cases.recipe_teacher_itself, 2, ["r.toml", "teacher", "'a' must come before 'a'"]),
    ("recipe duplicate steps", cases.recipe_duplicate_steps, 2, ["r.toml", "unique", "['a', 'a']"]),
    ("recipe impossible batch split", cases.recipe_impossible_batch_split, 2, ["repeats", "3", "batch_size 10"]),
    ("option bad value", cases.option_bad_set, 2, ["epochs", "many"]),
    ("option unknown key", cases.option_unknown_set, 2, ["nonsense"]),
    ("output existing file", cases.output_existing_file, 2, ["out", "existing file"]),
    ("output read-only folder", cases.output_read_only, 2, ["ro", "not writable"]),
    ("output disk full", cases.output_disk_full, 2, ["results.h5", "disk is full"]),
    ("run corrupt run.json", cases.run_corrupt_json, 2, ["run.json", "unreadable"]),
    (
        "run truncated results.h5",
        cases.run_truncated_results,
        0,
        ["status:", "results.h5", "unreadable"],
    ),  # the rest shows
    ("run torn events line", cases.run_torn_events, 0, ["occlusion"]),
    ("run future version", cases.run_future_version, 2, ["run.json", "newer vitlab", "format version 7"]),
    ("run models deleted", cases.run_models_deleted, 2, ["models there: none"]),
    ("run missing", cases.run_missing, 2, ["no-run"]),
]


def _snapshot(folder):
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file() and not path.is_symlink()}


@pytest.mark.parametrize("case, setup, code, words", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_one_clear_line(case, setup, code, words, tmp_path, saved, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VITLAB_DEBUG", raising=False)
    wants_patch = "monkeypatch" in setup.__code__.co_varnames[: setup.__code__.co_argcount]
    argv = setup(tmp_path, saved, monkeypatch) if wants_patch else setup(tmp_path, saved)
    before = _snapshot(tmp_path)
    capsys.readouterr()
    exit_code, out, err = run_cli(capsys, *argv)
    assert exit_code == code, f"{case}: exit {exit_code}\n{out}\n{err}"
    assert "Traceback" not in err and "Traceback" not in out
    message = (err if code else out + err).lower()
    for word in words:
        assert word.lower() in message, f"{case}: {word!r} not in {message!r}"
    if code:
        lines = [line for line in err.splitlines() if line.strip()]
        assert 1 <= len(lines) <= MAX_STDERR_LINES, err
        assert lines[-1].startswith("error: ")
    after = _snapshot(tmp_path)
    for path, data in before.items():  # nothing the user had is damaged
        assert after.get(path) == data, f"{case}: {path} changed"


def test_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    (tmp_path / "m.keras").write_text("not a model")
    for enable in (lambda: monkeypatch.setenv("VITLAB_DEBUG", "1"), lambda: None):
        enable()
        argv = ["export", str(tmp_path / "m.keras"), "-o", str(tmp_path / "out")]
        code, _, err = run_cli(capsys, *(argv if os.environ.get("VITLAB_DEBUG") else ["--debug", *argv]))
        assert code == 2
        assert "Traceback" in err and err.strip().splitlines()[-1].startswith("error: ")
        monkeypatch.delenv("VITLAB_DEBUG", raising=False)


def test_a_bug_is_one_line_and_exit_1(tmp_path, capsys, monkeypatch):
    from vitlab.results import store

    def broken(self):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(store.RunStore, "list", broken)
    code, _, err = run_cli(capsys, "runs", "list", "--runs", tmp_path)
    assert code == 1 and "Traceback" not in err
    assert "unexpected ZeroDivisionError: division by zero" in err and "--debug" in err


CONVERTED = [
    # what the file is, how to write it, expected (height, width) and pixel value at [0, 0]
    ("grayscale", lambda p: cases._image(p, mode="L"), (24, 20), None),
    ("rgba over black", lambda p: _rgba(p), (4, 4), (0, 0, 0)),
    ("cmyk jpeg", lambda p: cases._image(p.with_suffix(".jpg"), mode="CMYK"), (24, 20), None),
    ("16-bit png", cases._png16, (12, 10), (100, 100, 100)),
    ("exif rotated", lambda p: cases._exif_rotated(p.with_suffix(".jpg")), (30, 10), None),
]


def _rgba(path):
    from PIL import Image

    pixels = np.zeros((4, 4, 4), np.uint8)
    pixels[..., 0] = 255  # red, fully transparent
    Image.fromarray(pixels, "RGBA").save(path)


@pytest.mark.parametrize("kind, write, shape, corner", CONVERTED, ids=[c[0] for c in CONVERTED])
def test_image_modes_decode_to_rgb_as_a_viewer_shows_them(kind, write, shape, corner, tmp_path):
    from vitlab.data.folder import read_rgb

    write(tmp_path / "x.png")
    path = next(tmp_path.iterdir())
    pixels = read_rgb(str(path))
    assert pixels.dtype == np.uint8 and pixels.shape == (*shape, 3)
    if corner is not None:
        assert tuple(int(v) for v in pixels[0, 0]) == corner


def test_a_huge_jpeg_is_decoded_reduced(tmp_path, monkeypatch):
    """Draft decoding: a JPEG over the pixel limit is reduced at decode time, not refused."""
    from vitlab.data.folder import read_rgb

    cases._image(tmp_path / "big.jpg", size=(1600, 1200))
    monkeypatch.setenv("VITLAB_MAX_IMAGE_PIXELS", str(400 * 400))
    assert max(read_rgb(str(tmp_path / "big.jpg"), image_size=64).shape[:2]) <= 400
    with pytest.raises(ValueError, match="too large: 1600x1200"):
        read_rgb(str(tmp_path / "big.jpg"))  # no target size: no draft, so the limit refuses it


def test_a_failed_results_write_keeps_the_previous_results(tmp_path, monkeypatch):
    from vitlab.results import Result, store

    run = cases._run(tmp_path)
    before = (run.path / "results.h5").read_bytes()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store.Run, "_write_group", staticmethod(full))
    with pytest.raises(OSError):
        run.write_result(Result(experiment="shuffle", config={}, models=["m"], summary={"acc": 0.1}))
    assert (run.path / "results.h5").read_bytes() == before
    assert list(run.results()) == ["occlusion"] and not list(run.path.glob(".*.tmp"))

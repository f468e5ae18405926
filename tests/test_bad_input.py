"""The bad-input battery: every file a user can hand in, driven through the real CLI entry point.

Each row is (case, setup, expected exit code, words the message must hold). `setup(tmp)`
builds the input in a fresh folder and returns the argv. For every row: the exit code
matches, stderr holds no traceback and at most a few lines, the words are there, and the
files that existed before the command are byte for byte the same afterwards.
"""

import errno
import json
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from vitlab.cli import main

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


def _copy(src, dst):
    dst.write_bytes(Path(src).read_bytes())
    return dst


# --- model files ------------------------------------------------------------------------
def model_missing(tmp, saved):
    return ["export", str(tmp / "nope.keras"), "-o", str(tmp / "out")]


def model_empty(tmp, saved):
    (tmp / "m.keras").write_bytes(b"")
    return ["export", str(tmp / "m.keras"), "-o", str(tmp / "out")]


def model_truncated(tmp, saved):
    data = (saved[0] / "vit.keras").read_bytes()
    (tmp / "m.keras").write_bytes(data[: len(data) // 2])
    return ["export", str(tmp / "m.keras"), "-o", str(tmp / "out")]


def model_text(tmp, saved):
    (tmp / "m.keras").write_text("this is not a model\n")
    return ["eval", "occlusion", "-m", str(tmp / "m.keras"), "--limit", "2", "--runs", str(tmp / "runs")]


def model_zip_without_config(tmp, saved):
    with zipfile.ZipFile(tmp / "m.keras", "w") as archive:
        archive.writestr("metadata.json", "{}")
    return ["export", str(tmp / "m.keras"), "-o", str(tmp / "out")]


def model_unrelated(tmp, saved):
    return ["eval", "occlusion", "-m", str(_copy(saved[0] / "dense.keras", tmp / "m.keras")), "--limit", "2",
            "--runs", str(tmp / "runs")]


def model_lambda(tmp, saved):
    return ["export", str(_copy(saved[0] / "lambda.keras", tmp / "m.keras")), "-o", str(tmp / "out")]


def model_custom_class(tmp, saved):
    return ["eval", "occlusion", "-m", str(_copy(saved[0] / "custom.keras", tmp / "m.keras")), "--limit", "2",
            "--runs", str(tmp / "runs")]


def _checkpoint(tmp, saved, change):
    state = dict(saved[1])
    change(state)
    np.savez(tmp / "w.npz", **state)
    return ["weights", "import", "vit_test", str(tmp / "w.npz"), "-o", str(tmp / "m.keras"), "--num-classes", "3",
            "--image-size", "32"]


def checkpoint_missing_key(tmp, saved):
    return _checkpoint(tmp, saved, lambda s: s.pop("cls_token"))


def checkpoint_extra_key(tmp, saved):
    return _checkpoint(tmp, saved, lambda s: s.update({"blocks.99.attn.qkv.weight": np.zeros((3, 3))}))


def checkpoint_wrong_shape(tmp, saved):
    return _checkpoint(tmp, saved, lambda s: s.update({"cls_token": np.zeros((1, 1, 5), np.float32)}))


def checkpoint_other_architecture(tmp, saved):
    argv = _checkpoint(tmp, saved, lambda s: None)
    argv[2] = "resnet_test"
    return argv


# --- image folders ----------------------------------------------------------------------
def _image(path, size=(20, 24), mode="RGB", **save):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(str(path)))
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).convert(mode).save(path, **save)
    return path


def _two_classes(tmp):
    _image(tmp / "data" / "cat" / "a.png")
    _image(tmp / "data" / "dog" / "b.jpg")
    return tmp / "data"


def _show(folder, tmp):
    return ["data", "show", str(folder), "-o", str(tmp / "grid.png"), "--image-size", "16", "-n", "8"]


def folder_missing(tmp, saved):
    return _show(tmp / "nothing-here", tmp)


def folder_empty(tmp, saved):
    (tmp / "data").mkdir()
    return _show(tmp / "data", tmp)


def folder_classes_without_images(tmp, saved):
    (tmp / "data" / "cat").mkdir(parents=True)
    (tmp / "data" / "dog").mkdir()
    (tmp / "data" / "dog" / "readme.txt").write_text("no images here")
    return _show(tmp / "data", tmp)


def folder_one_class_for_training(tmp, saved):
    _image(tmp / "data" / "cat" / "a.png")
    (tmp / "r.toml").write_text(f'[data]\ndataset = "{tmp / "data"}"\nsplit = "train"\neval_split = ""\n'
                                '[[train]]\nname = "s"\nmodel = "vit_test"\n')
    return ["recipe", "run", str(tmp / "r.toml"), "--runs", str(tmp / "runs"), "--quiet"]


def folder_modes_converted(tmp, saved):
    folder = _two_classes(tmp)
    _image(folder / "cat" / "gray.png", mode="L")
    _image(folder / "cat" / "rgba.png", mode="RGBA")
    _image(folder / "dog" / "cmyk.jpg", mode="CMYK")
    _image(folder / "dog" / "palette.gif", mode="P")
    _png16(folder / "dog" / "sixteen.png")
    _exif_rotated(folder / "cat" / "rotated.jpg")
    return _show(folder, tmp)


def folder_unreadable_files_skipped(tmp, saved):
    folder = _two_classes(tmp)
    (folder / "cat" / "zero.jpg").write_bytes(b"")
    good = _image(folder / "dog" / "cut.png").read_bytes()
    (folder / "dog" / "cut.png").write_bytes(good[:60])
    (folder / "dog" / "notes.jpg").write_text("a text file with an image suffix")
    return _show(folder, tmp)


def folder_huge_image_refused(tmp, saved):
    folder = _two_classes(tmp)
    _png_header_only(folder / "cat" / "huge.png", 20000, 20000)
    return _show(folder, tmp)


def folder_unicode_and_spaces(tmp, saved):
    _image(tmp / "data" / "chat noir" / "été à Paris.png")
    _image(tmp / "data" / "犬" / "写真 1.jpg")
    return _show(tmp / "data", tmp)


def folder_symlink_loop(tmp, saved):
    folder = _two_classes(tmp)
    os.symlink(folder, folder / "loop")
    return _show(folder, tmp)


def folder_file_symlink_loop_ignored(tmp, saved):
    folder = _two_classes(tmp)
    os.symlink(folder / "cat" / "y.png", folder / "cat" / "x.png")
    os.symlink(folder / "cat" / "x.png", folder / "cat" / "y.png")
    return _show(folder, tmp)


def _png16(path):
    from PIL import Image

    Image.fromarray(np.full((12, 10), 257 * 100, dtype=np.uint16)).save(path)


def _exif_rotated(path):
    from PIL import Image

    image = Image.fromarray(np.zeros((10, 30, 3), np.uint8))
    exif = image.getexif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    image.save(path, exif=exif.tobytes())


def _png_header_only(path, width, height):
    """A PNG that claims width x height: decoding it in full would need gigabytes."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


# --- recipes and options ----------------------------------------------------------------
def _recipe(tmp, text):
    (tmp / "r.toml").write_text(text)
    return ["recipe", "show", str(tmp / "r.toml"), "--resolved"]


TRAIN = '[[train]]\nname = "{name}"\nmodel = "vit_test"\n{extra}\n'


def recipe_syntax_error(tmp, saved):
    return _recipe(tmp, 'name = "x"\n[optim]\nepochs = = 3\n')


def recipe_unknown_key(tmp, saved):
    return _recipe(tmp, TRAIN.format(name="a", extra="[train.optim]\nepochz = 3"))


def recipe_wrong_type(tmp, saved):
    return _recipe(tmp, TRAIN.format(name="a", extra='[train.optim]\nepochs = "three"'))


def recipe_teacher_cycle(tmp, saved):
    return _recipe(tmp, TRAIN.format(name="a", extra='distill.teacher = "b"')
                   + TRAIN.format(name="b", extra='distill.teacher = "a"'))


def recipe_teacher_itself(tmp, saved):
    return _recipe(tmp, TRAIN.format(name="a", extra='distill.teacher = "a"'))


def recipe_duplicate_steps(tmp, saved):
    return _recipe(tmp, TRAIN.format(name="a", extra="") + TRAIN.format(name="a", extra=""))


def recipe_impossible_batch_split(tmp, saved):
    return _recipe(tmp, TRAIN.format(name="a", extra="optim.batch_size = 10\naugment.repeats = 3"))


def option_bad_set(tmp, saved):
    return ["recipe", "show", "quickstart", "--set", "optim.epochs=many", "--resolved"]


def option_unknown_set(tmp, saved):
    return ["recipe", "show", "quickstart", "--set", "optim.nonsense=1", "--resolved"]


# --- output paths -----------------------------------------------------------------------
def output_existing_file(tmp, saved):
    (tmp / "out").write_text("keep me")
    return ["export", str(_copy(saved[0] / "vit.keras", tmp / "m.keras")), "-o", str(tmp / "out")]


def output_read_only(tmp, saved, monkeypatch):
    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if str(path) == str(tmp / "ro") else real(
        path, mode, **kw))  # root ignores chmod: refuse the way a user without write access would be
    (tmp / "ro").mkdir()
    return ["export", str(_copy(saved[0] / "vit.keras", tmp / "m.keras")), "-o", str(tmp / "ro" / "out")]


def output_disk_full(tmp, saved, monkeypatch):
    from vitlab.results import store

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp / "run" / ".results.h5.tmp"))

    monkeypatch.setattr(store.Run, "_write_group", staticmethod(full))
    return ["eval", "occlusion", "-m", "vit_test", "--limit", "2", "--batch-size", "2", "--set", "levels=0,0.5",
            "--out", str(tmp / "run"), "--quiet"]


# --- run directories --------------------------------------------------------------------
def _run(tmp, with_model=False):
    from vitlab.results import Result, RunStore

    run = RunStore(tmp / "runs").create("r", "eval", {}, path=tmp / "run")
    run.write_result(Result(experiment="occlusion", config={}, models=["m"], summary={"acc": 0.5},
                            arrays={"x": np.arange(3)}))
    if with_model:
        (run.path / "models").mkdir()
    return run


def run_corrupt_json(tmp, saved):
    run = _run(tmp)
    (run.path / "run.json").write_text('{"format_version": 1, "status": ')
    return ["runs", "show", str(run.path)]


def run_truncated_results(tmp, saved):
    run = _run(tmp)
    data = (run.path / "results.h5").read_bytes()
    (run.path / "results.h5").write_bytes(data[: len(data) // 3])
    return ["runs", "show", str(run.path)]


def run_torn_events(tmp, saved):
    run = _run(tmp)
    with open(run.path / "events.jsonl", "a") as handle:
        handle.write('{"time": 1, "kind": "progr')
    return ["runs", "show", str(run.path)]


def run_future_version(tmp, saved):
    run = _run(tmp)
    info = json.loads((run.path / "run.json").read_text())
    (run.path / "run.json").write_text(json.dumps({**info, "format_version": 7}))
    return ["runs", "show", str(run.path)]


def run_models_deleted(tmp, saved):
    run = _run(tmp, with_model=True)
    return ["export", str(run.path), "-o", str(tmp / "out")]


def run_missing(tmp, saved):
    return ["runs", "show", str(tmp / "no-run")]


CASES = [
    # case, setup, exit code, words in the message (lower case)
    ("model missing", model_missing, 2, ["nope.keras", "no such model file"]),
    ("model empty", model_empty, 2, ["m.keras", "empty file"]),
    ("model truncated", model_truncated, 2, ["m.keras", "not a zip"]),
    ("model text file", model_text, 2, ["m.keras", "not a zip"]),
    ("model zip without config", model_zip_without_config, 2, ["m.keras", "without config.json"]),
    ("model unrelated keras", model_unrelated, 2, ["not an image classifier", "(none, 7)"]),
    ("model lambda", model_lambda, 2, ["m.keras", "holds code", "safe mode"]),
    ("model custom class", model_custom_class, 2, ["m.keras", "doubler", "not loaded"]),
    ("checkpoint missing key", checkpoint_missing_key, 2, ["w.npz", "missing keys", "cls_token"]),
    ("checkpoint extra key", checkpoint_extra_key, 2, ["w.npz", "unexpected keys", "blocks.99"]),
    ("checkpoint wrong shape", checkpoint_wrong_shape, 2, ["w.npz", "wrong shapes", "cls_token"]),
    ("checkpoint other architecture", checkpoint_other_architecture, 2, ["w.npz", "resnet_test", "missing keys"]),
    ("folder missing", folder_missing, 2, ["nothing-here", "no such folder"]),
    ("folder empty", folder_empty, 2, ["no class folders"]),
    ("folder without images", folder_classes_without_images, 2, ["has no images", "2 class folders"]),
    ("folder one class to train", folder_one_class_for_training, 2, ["has 1 class", "cat", "two or more"]),
    ("folder gray rgba cmyk 16-bit exif", folder_modes_converted, 0, ["wrote", "8 samples"]),
    ("folder unreadable skipped", folder_unreadable_files_skipped, 0,
     ["skipped 3 unreadable files", "zero.jpg", "cut.png", "notes.jpg"]),
    ("folder huge image", folder_huge_image_refused, 0, ["skipped 1 unreadable files", "huge.png"]),
    ("folder unicode names", folder_unicode_and_spaces, 0, ["wrote", "2 samples"]),
    ("folder symlink loop", folder_symlink_loop, 2, ["loop", "symlink loop"]),
    ("folder file symlink loop", folder_file_symlink_loop_ignored, 0, ["wrote", "2 samples"]),
    ("recipe syntax error", recipe_syntax_error, 2, ["r.toml", "line 3"]),
    ("recipe unknown key", recipe_unknown_key, 2, ["r.toml", "epochz", "did you mean epochs"]),
    ("recipe wrong type", recipe_wrong_type, 2, ["r.toml", "epochs", "expected int", "three"]),
    ("recipe teacher cycle", recipe_teacher_cycle, 2, ["r.toml", "teacher", "must come before"]),
    ("recipe teacher itself", recipe_teacher_itself, 2, ["r.toml", "teacher", "'a' must come before 'a'"]),
    ("recipe duplicate steps", recipe_duplicate_steps, 2, ["r.toml", "unique", "['a', 'a']"]),
    ("recipe impossible batch split", recipe_impossible_batch_split, 2, ["repeats", "3", "batch_size 10"]),
    ("option bad value", option_bad_set, 2, ["epochs", "many"]),
    ("option unknown key", option_unknown_set, 2, ["nonsense"]),
    ("output existing file", output_existing_file, 2, ["out", "existing file"]),
    ("output read-only folder", output_read_only, 2, ["ro", "not writable"]),
    ("output disk full", output_disk_full, 2, ["results.h5", "disk is full"]),
    ("run corrupt run.json", run_corrupt_json, 2, ["run.json", "unreadable"]),
    ("run truncated results.h5", run_truncated_results, 0, ["status:", "results.h5", "unreadable"]),  # the rest shows
    ("run torn events line", run_torn_events, 0, ["occlusion"]),
    ("run future version", run_future_version, 2, ["run.json", "newer vitlab", "format version 7"]),
    ("run models deleted", run_models_deleted, 2, ["models there: none"]),
    ("run missing", run_missing, 2, ["no-run"]),
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
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    out, err = capsys.readouterr()
    assert (exit_info.value.code or 0) == code, f"{case}: exit {exit_info.value.code}\n{out}\n{err}"
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
        with pytest.raises(SystemExit) as exit_info:
            main(argv if os.environ.get("VITLAB_DEBUG") else ["--debug", *argv])
        err = capsys.readouterr().err
        assert exit_info.value.code == 2
        assert "Traceback" in err and err.strip().splitlines()[-1].startswith("error: ")
        monkeypatch.delenv("VITLAB_DEBUG", raising=False)


def test_a_bug_is_one_line_and_exit_1(tmp_path, capsys, monkeypatch):
    from vitlab.results import store

    def broken(self):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(store.RunStore, "list", broken)
    with pytest.raises(SystemExit) as exit_info:
        main(["runs", "list", "--runs", str(tmp_path)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and "Traceback" not in err
    assert "unexpected ZeroDivisionError: division by zero" in err and "--debug" in err


CONVERTED = [
    # what the file is, how to write it, expected (height, width) and pixel value at [0, 0]
    ("grayscale", lambda p: _image(p, mode="L"), (24, 20), None),
    ("rgba over black", lambda p: _rgba(p), (4, 4), (0, 0, 0)),
    ("cmyk jpeg", lambda p: _image(p.with_suffix(".jpg"), mode="CMYK"), (24, 20), None),
    ("16-bit png", _png16, (12, 10), (100, 100, 100)),
    ("exif rotated", lambda p: _exif_rotated(p.with_suffix(".jpg")), (30, 10), None),
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

    _image(tmp_path / "big.jpg", size=(1600, 1200))
    monkeypatch.setenv("VITLAB_MAX_IMAGE_PIXELS", str(400 * 400))
    assert max(read_rgb(str(tmp_path / "big.jpg"), image_size=64).shape[:2]) <= 400
    with pytest.raises(ValueError, match="too large: 1600x1200"):
        read_rgb(str(tmp_path / "big.jpg"))  # no target size: no draft, so the limit refuses it


def test_a_failed_results_write_keeps_the_previous_results(tmp_path, monkeypatch):
    from vitlab.results import Result, store

    run = _run(tmp_path)
    before = (run.path / "results.h5").read_bytes()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store.Run, "_write_group", staticmethod(full))
    with pytest.raises(OSError):
        run.write_result(Result(experiment="shuffle", config={}, models=["m"], summary={"acc": 0.1}))
    assert (run.path / "results.h5").read_bytes() == before
    assert list(run.results()) == ["occlusion"] and not list(run.path.glob(".*.tmp"))

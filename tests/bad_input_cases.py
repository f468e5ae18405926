"""The bad-input battery's inputs: each function builds one case's files in a fresh folder
and returns the argv (tests/test_bad_input.py holds the table and the checks)."""

import errno
import json
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np


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
    return [
        "eval",
        "occlusion",
        "-m",
        str(_copy(saved[0] / "dense.keras", tmp / "m.keras")),
        "--limit",
        "2",
        "--runs",
        str(tmp / "runs"),
    ]


def model_lambda(tmp, saved):
    return ["export", str(_copy(saved[0] / "lambda.keras", tmp / "m.keras")), "-o", str(tmp / "out")]


def model_custom_class(tmp, saved):
    return [
        "eval",
        "occlusion",
        "-m",
        str(_copy(saved[0] / "custom.keras", tmp / "m.keras")),
        "--limit",
        "2",
        "--runs",
        str(tmp / "runs"),
    ]


def _checkpoint(tmp, saved, change):
    state = dict(saved[1])
    change(state)
    np.savez(tmp / "w.npz", **state)
    return [
        "weights",
        "import",
        "vit_test",
        str(tmp / "w.npz"),
        "-o",
        str(tmp / "m.keras"),
        "--num-classes",
        "3",
        "--image-size",
        "32",
    ]


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
    (tmp / "r.toml").write_text(
        f'[data]\ndataset = "{tmp / "data"}"\nsplit = "train"\neval_split = ""\n'
        '[[train]]\nname = "s"\nmodel = "vit_test"\n'
    )
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
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


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
    return _recipe(
        tmp,
        TRAIN.format(name="a", extra='distill.teacher = "b"') + TRAIN.format(name="b", extra='distill.teacher = "a"'),
    )


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
    monkeypatch.setattr(
        os, "access", lambda path, mode, **kw: False if str(path) == str(tmp / "ro") else real(path, mode, **kw)
    )  # root ignores chmod: refuse the way a user without write access would be
    (tmp / "ro").mkdir()
    return ["export", str(_copy(saved[0] / "vit.keras", tmp / "m.keras")), "-o", str(tmp / "ro" / "out")]


def output_disk_full(tmp, saved, monkeypatch):
    from vitlab.results import store

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp / "run" / ".results.h5.tmp"))

    monkeypatch.setattr(store.Run, "_write_group", staticmethod(full))
    return [
        "eval",
        "occlusion",
        "-m",
        "vit_test",
        "--limit",
        "2",
        "--batch-size",
        "2",
        "--set",
        "levels=0,0.5",
        "--out",
        str(tmp / "run"),
        "--quiet",
    ]


# --- run directories --------------------------------------------------------------------
def _run(tmp, with_model=False):
    from vitlab.results import Result, RunStore

    run = RunStore(tmp / "runs").create("r", "eval", {}, path=tmp / "run")
    run.write_result(
        Result(experiment="occlusion", config={}, models=["m"], summary={"acc": 0.5}, arrays={"x": np.arange(3)})
    )
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

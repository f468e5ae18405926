"""vitlab.atomic: a write either lands whole or leaves the old file (or folder) as it was, with no
temporary left behind."""

import os
import shutil

import pytest

from vitlab import atomic


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_write_lands_whole(tmp_path):
    target = tmp_path / "a.json"
    atomic.write_json(target, {"b": [1, 2]}, indent=1)
    assert target.read_text() == '{\n "b": [\n  1,\n  2\n ]\n}\n'
    atomic.write_text(target, "é" * 100_000)  # replaces, in UTF-8 whatever the locale
    assert target.read_text(encoding="utf-8") == "é" * 100_000
    atomic.write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert _leftovers(tmp_path) == []


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "results.h5"
    target.write_bytes(b"old")
    with pytest.raises(OSError, match="disk full"):
        with atomic.replacing(target) as temp:
            temp.write_bytes(b"half of the ne")
            raise OSError("disk full")
    assert target.read_bytes() == b"old" and _leftovers(tmp_path) == []
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C mid-write: the same
        with atomic.replacing(target) as temp:
            temp.write_bytes(b"x")
            raise KeyboardInterrupt
    assert target.read_bytes() == b"old" and _leftovers(tmp_path) == []


def test_the_temporary_sits_beside_the_target_hidden_with_the_suffix_asked(tmp_path):
    target = tmp_path / "ckpt.weights.h5"
    with atomic.replacing(target, suffix=".weights.h5") as temp:
        assert temp.parent == tmp_path and temp.name.startswith(".ckpt.weights.h5.")
        assert temp.name.endswith(".tmp.weights.h5") and not temp.exists()
        temp.write_bytes(b"w")
    assert target.read_bytes() == b"w"
    with pytest.raises(FileNotFoundError):  # a writer that wrote nothing is an error, not an empty file
        with atomic.replacing(tmp_path / "never"):
            pass
    assert not (tmp_path / "never").exists()


def test_the_file_and_with_sync_dir_its_folder_are_flushed(tmp_path, monkeypatch):
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.path.isdir(f"/proc/self/fd/{fd}")), real(fd)))
    atomic.write_text(tmp_path / "a", "x")
    assert synced == [False]
    atomic.write_text(tmp_path / "a", "y", sync_dir=True)
    assert synced == [False, False, True]


def test_create_text_claims_a_name_once(tmp_path):
    target = tmp_path / "run.json"
    atomic.create_text(target, "first")
    with pytest.raises(FileExistsError):
        atomic.create_text(target, "second")
    assert target.read_text() == "first" and _leftovers(tmp_path) == []


def test_a_folder_is_replaced_whole_or_not_at_all(tmp_path):
    target = tmp_path / "pack"
    with atomic.replacing_dir(target) as temp:
        (temp / "models").mkdir()
        (temp / "models" / "vit.keras").write_bytes(b"v1")
    assert (target / "models" / "vit.keras").read_bytes() == b"v1"
    with pytest.raises(RuntimeError):
        with atomic.replacing_dir(target) as temp:
            (temp / "run.json").write_text("{}")
            raise RuntimeError("copy failed")
    assert sorted(p.name for p in target.rglob("*")) == ["models", "vit.keras"] and _leftovers(tmp_path) == []
    with atomic.replacing_dir(target) as temp:
        (temp / "run.json").write_text("{}")
    assert sorted(p.name for p in target.iterdir()) == ["run.json"] and _leftovers(tmp_path) == []


def test_a_folder_of_read_only_files_is_flushed_and_swapped(tmp_path, monkeypatch):
    source = tmp_path / "source"
    source.mkdir()
    (source / "model.keras").write_bytes(b"m")
    (source / "model.keras").chmod(0o444)  # copytree keeps the mode, as unpacking a pack does
    real = os.open

    def as_a_user(path, flags, *args, **kwargs):  # root may write anything: refuse as the mode says
        if flags & os.O_RDWR and str(path).endswith("model.keras"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", as_a_user)
    with atomic.replacing_dir(tmp_path / "copy") as temp:
        shutil.copytree(source, temp, dirs_exist_ok=True)
    assert (tmp_path / "copy" / "model.keras").read_bytes() == b"m"


def test_a_failed_swap_puts_the_old_folder_back(tmp_path, monkeypatch):
    target = tmp_path / "export"
    target.mkdir()
    (target / "keep").write_text("old")
    real = os.replace

    def refuse_the_new(source, destination):
        if str(destination) == str(target) and not str(source).endswith(".old"):  # the new one only
            raise PermissionError(13, "denied", str(destination))
        return real(source, destination)

    monkeypatch.setattr(os, "replace", refuse_the_new)
    with pytest.raises(PermissionError):
        with atomic.replacing_dir(target) as temp:
            (temp / "new").write_text("new")
    monkeypatch.undo()
    assert (target / "keep").read_text() == "old" and not (target / "new").exists()
    assert _leftovers(tmp_path) == []

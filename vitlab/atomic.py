"""Atomic file and folder writes: a reader sees the old content or the new, never a torn one.

Everything vitlab keeps (run.json, results.h5, checkpoints, zoo cards and models, caches,
packs, exports) is written beside its target under a hidden temporary name, flushed to disk
and renamed over the target. A write that fails (an exception, a full disk) removes its
temporary and leaves the target as it was; a killed process leaves at most a hidden
`.NAME.*.tmp` beside it. Renames are atomic only within one file system, which is why the
temporary always sits in the target's own folder.
"""

import contextlib
import json
import os
import secrets
import shutil
from pathlib import Path


def temp_path(path, suffix=""):
    """A fresh hidden name beside `path` (not created): `.NAME.PID-RANDOM.tmp` + `suffix`.

    `suffix` is for writers that insist on an ending (Keras: `.keras`, `.weights.h5`)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp{suffix}")


@contextlib.contextmanager
def replacing(path, suffix="", sync_dir=False):
    """Yield a temporary path for the block to write; when the block ends without error the
    file is fsynced and renamed over `path`, else it is removed and `path` is untouched.

    `sync_dir` also fsyncs the folder, so that the rename itself survives a power cut (what a
    store's index needs; a cache can do without)."""
    path = Path(path)
    temp = temp_path(path, suffix)
    try:
        yield temp
        _fsync_file(temp)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    if sync_dir:
        fsync_dir(path.parent)


def write_bytes(path, data, sync_dir=False):
    with replacing(path, sync_dir=sync_dir) as temp, open(temp, "wb") as handle:
        handle.write(data)


def write_text(path, text, sync_dir=False):
    with replacing(path, sync_dir=sync_dir) as temp, open(temp, "w", encoding="utf-8") as handle:
        handle.write(text)


def write_json(path, value, indent=None, sync_dir=False):
    """`value` as JSON (a trailing newline when indented, as a person would save it)."""
    write_text(path, json.dumps(value, indent=indent) + ("\n" if indent is not None else ""), sync_dir)


def create_text(path, text):
    """Create `path` holding `text` whole, or raise FileExistsError when it exists: of two
    processes that race to create it, exactly one succeeds (a hard link never replaces)."""
    path = Path(path)
    temp = temp_path(path)
    try:
        with open(temp, "w", encoding="utf-8") as handle:
            handle.write(text)
        _fsync_file(temp)
        os.link(temp, path)
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


@contextlib.contextmanager
def replacing_dir(path):
    """Yield a fresh temporary folder beside `path` for the block to fill; when the block ends
    without error its files are fsynced and it takes the place of `path` (an existing folder
    there is moved aside first and removed after), else it is removed and `path` is untouched.
    Between the two renames a crash leaves the old folder under a hidden `.NAME.*.tmp.old` name."""
    path = Path(path)
    temp = temp_path(path)
    temp.mkdir(parents=True)
    try:
        yield temp
        for file in sorted(p for p in temp.rglob("*") if p.is_file() and not p.is_symlink()):
            _fsync_file(file)
        old = None
        if path.exists() or path.is_symlink():
            old = temp.with_name(temp.name + ".old")
            os.replace(path, old)
        try:
            os.replace(temp, path)
        except BaseException:
            if old is not None:
                os.replace(old, path)  # the old folder back where it was
            raise
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(path.parent)


def fsync_dir(folder):
    """Flush a folder's entries (renames, new names); a no-op where the platform cannot."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass  # some file systems refuse to fsync a folder; the rename has still happened
    finally:
        os.close(handle)


def _fsync_file(path):
    try:
        handle = os.open(path, os.O_RDWR)  # Windows refuses fsync on a read-only descriptor
    except PermissionError:
        handle = os.open(path, os.O_RDONLY)  # a read-only file (copied with its mode): POSIX fsyncs it so
    try:
        os.fsync(handle)
    finally:
        os.close(handle)

"""The one error type the CLI turns into a one-line message, and the translation of known failures.

Anything a user can fix (a name, a file, a value) raises a subclass of UserError with a
message that says what was wrong and where, so `except vitlab.UserError` catches every
such mistake in one clause. The subclasses `vitlab` exports: ConfigError (an option, a
recipe key or value), DatasetError (a dataset name, split or folder), RunStoreError (a run
directory missing, corrupt or from a newer vitlab). UserError subclasses ValueError, so code
that already catches ValueError keeps working.

`describe` turns the failures the world causes (a full disk, a read-only folder, memory)
into the same kind of line; anything else is a bug: one line naming it, and the traceback
with --debug or VITLAB_DEBUG=1.
"""

import errno
import os

EXIT_USER = 2  # bad input or an environment the user can fix
EXIT_BUG = 1  # an unexpected failure: a bug to report
EXIT_INTERRUPTED = 130


class UserError(ValueError):
    """Bad input the user can fix: the message names the file, key or value and what was expected.

    The common base of vitlab's errors (ConfigError, DatasetError, RunStoreError...); the CLI
    prints its message as one line and exits 2.
    """


_OS_ADVICE = {
    errno.ENOSPC: "the disk is full; free space or write elsewhere",
    errno.EDQUOT: "the disk quota is exceeded; free space or write elsewhere",
    errno.EACCES: "permission denied; choose a folder you can write to",
    errno.EPERM: "operation not permitted; choose a folder you can write to",
    errno.EROFS: "the file system is read-only; write elsewhere",
    errno.ENOENT: "no such file or folder",
    errno.EISDIR: "is a folder, expected a file",
    errno.ENOTDIR: "a part of the path is a file, expected a folder",
    errno.EEXIST: "already exists",
    errno.ELOOP: "too many levels of symbolic links (a symlink loop)",
    errno.ENAMETOOLONG: "the file name is too long",
}


def debug_enabled():
    return os.environ.get("VITLAB_DEBUG", "").strip().lower() not in ("", "0", "false", "no", "off")


def describe(error):
    """(exit code, one-line message) for any exception the CLI catches."""
    if isinstance(error, UserError):
        return EXIT_USER, _first_line(error)
    if isinstance(error, OSError) and error.errno in _OS_ADVICE:
        where = error.filename or ""
        if error.filename2:
            where = f"{where} -> {error.filename2}"
        return EXIT_USER, f"{where + ': ' if where else ''}{_OS_ADVICE[error.errno]}"
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return EXIT_USER, f"{where}{error.strerror or _first_line(error)}"
    if isinstance(error, MemoryError):
        return EXIT_USER, "out of memory; use a smaller batch size, --limit or image size"
    return EXIT_BUG, (
        f"unexpected {type(error).__name__}: {_first_line(error)[:300]} "
        "(a bug: rerun with --debug or VITLAB_DEBUG=1 for the traceback and report it)"
    )


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__

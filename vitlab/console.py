"""A clean console: TensorFlow's C++ / absl start-up lines and library warnings stay off the terminal.

TensorFlow prints "All log messages before absl::InitializeLog()" and "Could not find cuda
drivers" from C++ while `import tensorflow` runs, before TF_CPP_MIN_LOG_LEVEL is read, so
the only way to keep them off is to point file descriptor 2 elsewhere for that import. What
that import wrote is replayed if it fails. `--verbose` (or `--debug`, or VITLAB_DEBUG=1)
keeps everything, for bug reports.
"""

import logging
import os
import sys
import warnings

VERBOSE_FLAG = "--verbose"
_NOISY_LOGGERS = ("tensorflow", "absl", "jax._src.xla_bridge", "h5py", "matplotlib", "PIL")
_LIBRARY_WARNINGS = (RuntimeWarning, UserWarning, FutureWarning, DeprecationWarning, PendingDeprecationWarning)


def debug_requested(argv=()):
    """True when the user asked to see everything: VITLAB_DEBUG=1, --verbose or --debug."""
    if os.environ.get("VITLAB_DEBUG", "").strip().lower() not in ("", "0", "false", "no"):
        return True
    return any(arg in (VERBOSE_FLAG, "--debug") for arg in argv)


def setup(argv=None):
    """Quiet the console unless debugging was asked for; returns argv without --verbose.

    `--verbose` is a global switch (accepted anywhere on the line); VITLAB_DEBUG=1 is set for
    it so that runs the command starts in subprocesses are verbose too.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if debug_requested(argv):
        os.environ["VITLAB_DEBUG"] = "1"
        return [arg for arg in argv if arg != VERBOSE_FLAG]
    quiet()
    return argv


def quiet():
    """Silence TensorFlow's C++ logs, noisy library loggers and warnings raised outside vitlab."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    for category in _LIBRARY_WARNINGS:
        warnings.filterwarnings("ignore", category=category)
    warnings.filterwarnings("default", module=r"vitlab(\.|$)")  # vitlab's own warnings still show
    if "tensorflow" not in sys.modules and not any(isinstance(f, _SilentImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _SilentImport("tensorflow"))


class _SilentImport:
    """A meta path finder (duck-typed: importlib.abc costs start-up time): finds `name` with the
    other finders, then runs its first import with fd 2 redirected."""

    def __init__(self, name):
        self.name = name

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)  # once: the real finders do the finding
        import importlib.util

        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _SilentLoader(spec.loader)
        return spec


class _SilentLoader:
    def __init__(self, loader):
        self.loader = loader

    def __getattr__(self, name):
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        with _stderr_to_file() as captured:
            try:
                self.loader.exec_module(module)
            except BaseException:
                captured.failed = True
                raise


class _stderr_to_file:
    """Point fd 2 at a temporary file; replay it when the block failed."""

    failed = False

    def __enter__(self):
        import tempfile

        sys.stderr.flush()
        self.file = tempfile.TemporaryFile()
        self.saved = os.dup(2)
        os.dup2(self.file.fileno(), 2)
        return self

    def __exit__(self, *exc):
        sys.stderr.flush()
        os.dup2(self.saved, 2)
        os.close(self.saved)
        if self.failed:
            self.file.seek(0)
            os.write(2, self.file.read())
        self.file.close()
        return False

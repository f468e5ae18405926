"""A clean console: TensorFlow's C++ / absl start-up lines and library warnings stay off the terminal.

TensorFlow prints "All log messages before absl::InitializeLog()" and "Could not find cuda
drivers" from C++ while `import tensorflow` runs, before TF_CPP_MIN_LOG_LEVEL is read, so
the only way to keep them off is to point file descriptor 2 elsewhere for that import. What
that import wrote is replayed if it fails. `--verbose` (or `--debug`, or VITLAB_DEBUG=1)
keeps everything, for bug reports.

The Python API is quiet the same way, for the length of each call (`library_call`): what must
be in place before TensorFlow loads (the C++ log level, the silenced first import) is set by the
call that loads it, and the host's warning filters and logger levels are back when it returns.
"""

import contextlib
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
    _quiet_native()
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    _filter_warnings()


_QUIET_DEFAULTS = {"TF_CPP_MIN_LOG_LEVEL": "3", "GRPC_VERBOSITY": "ERROR"}
_set_here = set()  # the variables of _QUIET_DEFAULTS this process set (a user's own value is never touched)
_depth = 0  # library_call nesting: the outermost call sets up and restores


def _quiet_native():
    """What only works before TensorFlow loads: its C++ log level and a silenced first import."""
    for name, value in _QUIET_DEFAULTS.items():
        if name not in os.environ:
            os.environ[name] = value
            _set_here.add(name)
    if "tensorflow" not in sys.modules and not any(isinstance(f, _SilentImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _SilentImport("tensorflow"))


def _filter_warnings():
    for category in _LIBRARY_WARNINGS:
        warnings.filterwarnings("ignore", category=category)
    warnings.filterwarnings("default", module=r"vitlab(\.|$)")  # vitlab's own warnings still show


def _remove_silent_import():
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _SilentImport)]


@contextlib.contextmanager
def library_call(verbose=False):
    """One call of the Python API, as quiet as the CLI unless `verbose` or VITLAB_DEBUG=1.

    TensorFlow reads its C++ log level once, while it loads: the call that loads it decides
    (verbose=True on that first call keeps its start-up lines). A silenced import that did not
    happen during the call is withdrawn, so a user's own `import tensorflow` later is theirs.
    """
    global _depth
    if _depth:  # inside another API call, which has set things up
        yield
        return
    verbose = verbose or debug_requested()
    if verbose and "tensorflow" not in sys.modules:  # take back what an earlier quiet call set
        for name in _set_here:
            os.environ.pop(name, None)
        _set_here.clear()
        _remove_silent_import()
    if not verbose:
        _quiet_native()
    levels = {name: logging.getLogger(name).level for name in _NOISY_LOGGERS}
    _depth += 1
    try:
        with warnings.catch_warnings():
            if not verbose:
                _filter_warnings()
                for name in _NOISY_LOGGERS:
                    logging.getLogger(name).setLevel(logging.ERROR)
            yield
    finally:
        _depth -= 1
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        _remove_silent_import()


def quiet_call(function):
    """Decorator for an API function: it runs in `library_call`, verbose when called with
    verbose=True (for functions that take a `verbose` argument)."""
    import functools
    import inspect

    takes_verbose = "verbose" in inspect.signature(function).parameters

    @functools.wraps(function)
    def call(*args, **kwargs):
        with library_call(bool(kwargs.get("verbose")) if takes_verbose else False):
            return function(*args, **kwargs)

    return call


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

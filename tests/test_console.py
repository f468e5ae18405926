"""A clean console: no TensorFlow C++ / absl lines or library warnings unless --verbose / VITLAB_DEBUG=1."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run_cli_process

from vitlab import console

FAKE_TF = """
import os, warnings
os.write(2, b"I0000 cudart_stub.cc:31] Could not find cuda drivers\\n")
warnings.warn("library noise", RuntimeWarning)
if os.environ.get("FAKE_TF_FAIL"):
    raise ImportError("libtensorflow_framework.so.2: cannot open shared object file")
MARK = "loaded"
"""

PROGRAM = """
import sys, warnings
from vitlab import console
console.setup(sys.argv[1:])
import tensorflow
print(tensorflow.MARK)
warnings.warn_explicit("ours", UserWarning, "vitlab/x.py", 1, module="vitlab.x")
"""


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "VITLAB_DEBUG")}
    env.update(extra)
    return env


@pytest.fixture
def fake_tensorflow(tmp_path):
    """A stand-in `tensorflow` that writes to fd 2 from "C++" and warns while it imports."""
    package = tmp_path / "tensorflow"
    package.mkdir()
    (package / "__init__.py").write_text(FAKE_TF)
    return tmp_path


def _run_fake(path, *args, **env):
    repo = Path(__file__).resolve().parents[1]
    environment = _clean_env(PYTHONPATH=f"{path}{os.pathsep}{repo}", **env)
    return subprocess.run(
        [sys.executable, "-c", PROGRAM, *args], capture_output=True, text=True, env=environment, timeout=60
    )


def test_quiet_console_hides_import_noise_and_library_warnings(fake_tensorflow):
    done = _run_fake(fake_tensorflow)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "loaded"
    assert "cuda" not in done.stderr and "library noise" not in done.stderr
    assert "ours" in done.stderr  # vitlab's own warnings are not hidden


@pytest.mark.parametrize("how", [{"VITLAB_DEBUG": "1"}, {"args": ["--verbose"]}])
def test_debug_shows_everything(fake_tensorflow, how):
    env = {k: v for k, v in how.items() if k != "args"}
    done = _run_fake(fake_tensorflow, *how.get("args", []), **env)
    assert done.returncode == 0, done.stderr
    assert "Could not find cuda drivers" in done.stderr
    assert "library noise" in done.stderr


def test_failed_import_replays_what_it_wrote(fake_tensorflow):
    done = _run_fake(fake_tensorflow, FAKE_TF_FAIL="1")
    assert done.returncode != 0
    assert "Could not find cuda drivers" in done.stderr  # the hidden lines explain the failure
    assert "cannot open shared object file" in done.stderr


def test_setup_strips_verbose_and_sets_debug_for_subprocesses(monkeypatch):
    monkeypatch.setenv("VITLAB_DEBUG", "0")  # recorded, so the "1" setup writes is undone afterwards
    assert console.setup(["eval", "--verbose", "occlusion"]) == ["eval", "occlusion"]
    assert os.environ["VITLAB_DEBUG"] == "1"
    monkeypatch.setenv("VITLAB_DEBUG", "0")
    assert not console.debug_requested(["models", "list"])
    assert console.debug_requested(["--debug"])


def test_real_command_has_an_empty_stderr(tmp_path):
    """The real thing: a command that imports TensorFlow and builds a model prints nothing on stderr."""
    done = run_cli_process("models", "show", "vit_nano_patch4_32", env=_clean_env(), cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "parameters: 460,906" in done.stdout
    assert done.stderr == ""


API_PROGRAM = """
import logging, os, sys, warnings
from vitlab import console
mode = sys.argv[1]
filters = list(warnings.filters)
if mode == "user-import-after-a-call":  # a call that loads nothing leaves the user's own import alone
    with console.library_call():
        pass
    import tensorflow
else:
    with console.library_call(verbose=mode == "verbose"):
        import tensorflow
print(tensorflow.MARK, os.environ.get("TF_CPP_MIN_LOG_LEVEL"), warnings.filters == filters,
      logging.getLogger("absl").level == logging.NOTSET,
      any(type(f).__name__ == "_SilentImport" for f in sys.meta_path))
"""


def _run_api(path, mode, **env):
    repo = Path(__file__).resolve().parents[1]
    environment = _clean_env(PYTHONPATH=f"{path}{os.pathsep}{repo}", **env)
    return subprocess.run(
        [sys.executable, "-c", API_PROGRAM, mode], capture_output=True, text=True, env=environment, timeout=60
    )


def test_an_api_call_is_quiet_and_gives_the_host_its_settings_back(fake_tensorflow):
    done = _run_api(fake_tensorflow, "quiet")
    assert done.returncode == 0, done.stderr
    assert "cuda" not in done.stderr and "library noise" not in done.stderr
    # loaded quietly at level 3; filters, logger level and import hook are the host's again after the call
    assert done.stdout.split() == ["loaded", "3", "True", "True", "False"]


@pytest.mark.parametrize(
    "mode, env", [("verbose", {}), ("quiet", {"VITLAB_DEBUG": "1"}), ("user-import-after-a-call", {})]
)
def test_api_verbose_debug_or_the_users_own_import_shows_everything(fake_tensorflow, mode, env):
    done = _run_api(fake_tensorflow, mode, **env)
    assert done.returncode == 0, done.stderr
    assert "Could not find cuda drivers" in done.stderr and "library noise" in done.stderr
    if mode != "user-import-after-a-call":
        assert done.stdout.split()[1] == "None"  # no C++ log level was chosen for the user


def test_api_keeps_a_users_own_log_level(fake_tensorflow):
    done = _run_api(fake_tensorflow, "quiet", TF_CPP_MIN_LOG_LEVEL="1")
    assert done.returncode == 0 and done.stdout.split()[:2] == ["loaded", "1"]


def test_a_quiet_call_then_a_verbose_one_takes_the_level_back(monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.setattr(console, "_set_here", set())
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    with console.library_call():
        assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
        with console.library_call(verbose=True):  # nested: the outer call decides
            assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
    with console.library_call(verbose=True):
        assert "TF_CPP_MIN_LOG_LEVEL" not in os.environ


def test_real_evaluate_prints_nothing_from_tensorflow(tmp_path):
    """The real thing, from Python: TensorFlow loads inside vitlab.evaluate and says nothing."""
    code = (
        "import vitlab; r = vitlab.evaluate('shuffle', models=['vit_test'], dataset='shapes', limit=8, "
        "grids=['2x2'], repeats=1); print(r.models)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_clean_env(), cwd=tmp_path, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['vit_test']"
    assert done.stderr == ""

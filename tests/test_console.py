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
    return subprocess.run([sys.executable, "-c", PROGRAM, *args], capture_output=True, text=True,
                          env=environment, timeout=60)


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

"""The one-line notice when TensorFlow was loaded before vitlab with oneDNN off."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import vitlab

ROOT = Path(__file__).resolve().parents[1]


def fake_tensorflow(tmp_path, mkl_enabled):
    """A stand-in `tensorflow` package whose oneDNN probe answers `mkl_enabled` (no real import)."""
    util = tmp_path / "tensorflow" / "python" / "util"
    util.mkdir(parents=True)
    for folder in (tmp_path / "tensorflow", tmp_path / "tensorflow" / "python", util):
        (folder / "__init__.py").write_text("")
    (util / "_pywrap_util_port.py").write_text(f"def IsMklEnabled():\n    return {mkl_enabled}\n")
    return tmp_path


def import_after_tensorflow(tmp_path, mkl_enabled, **env):
    code = textwrap.dedent("""
        import tensorflow
        import vitlab
        print("onednn:", __import__("os").environ.get("TF_ENABLE_ONEDNN_OPTS"))
    """)
    environ = {k: v for k, v in os.environ.items() if k not in ("TF_ENABLE_ONEDNN_OPTS", "VITLAB_ONEDNN_CHECK")}
    environ.update(env, PYTHONPATH=os.pathsep.join([str(fake_tensorflow(tmp_path, mkl_enabled)), str(ROOT)]))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=60)


def test_notice_when_tensorflow_came_first_with_onednn_off(tmp_path):
    done = import_after_tensorflow(tmp_path, mkl_enabled=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == vitlab.ONEDNN_NOTICE  # one line, once
    assert "import vitlab before keras" in done.stderr and "VITLAB_ONEDNN_CHECK=0" in done.stderr


def test_no_notice_when_onednn_is_on_or_silenced(tmp_path):
    assert import_after_tensorflow(tmp_path / "on", mkl_enabled=True).stderr == ""
    assert import_after_tensorflow(tmp_path / "quiet", mkl_enabled=False, VITLAB_ONEDNN_CHECK="0").stderr == ""
    chosen = import_after_tensorflow(tmp_path / "chosen", mkl_enabled=False, TF_ENABLE_ONEDNN_OPTS="0")
    assert chosen.stderr == "" and "onednn: 0" in chosen.stdout  # the user's own setting wins


def test_no_notice_before_tensorflow_loads():
    assert vitlab._onednn_notice(environ={}, modules={}) is None
    assert vitlab._onednn_notice(environ={"VITLAB_ONEDNN_CHECK": "0"}, modules={"tensorflow": object()}) is None

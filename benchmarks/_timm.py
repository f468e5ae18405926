"""Runs the timm reference (benchmarks/timm_reference.py) in its own venv, made on first use.

torch and timm are never a dependency of vitlab: they live in benchmarks/.venv-timm,
created by benchmarks/timm_env.sh, and are reached only through a subprocess.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = Path(os.environ.get("TIMM_VENV", HERE / ".venv-timm"))
PYTHON = VENV / "bin" / "python"


def ensure_venv():
    """Creates the timm venv when missing (a few minutes, once); returns its python."""
    if not (VENV / ".installed").exists():
        subprocess.run(["bash", str(HERE / "timm_env.sh")], check=True, env={**os.environ, "TIMM_VENV": str(VENV)})
    return PYTHON


def run(command, job, job_file, threads=2, timeout=1800):
    """Writes `job` to job_file and runs `timm_reference.py command job_file` in the timm venv."""
    Path(job_file).write_text(json.dumps(job))
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    done = subprocess.run(
        [str(ensure_venv()), str(HERE / "timm_reference.py"), command, str(job_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode:
        sys.stderr.write(done.stderr[-4000:])
        raise RuntimeError(f"timm reference {command} failed for {job.get('timm_name')}")


def start(command, job, job_file, threads=2, stderr=None, env=None):
    """`timm_reference.py command job_file` as a child that talks over its stdin and stdout."""
    Path(job_file).write_text(json.dumps(job))
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), **(env or {})}
    return subprocess.Popen(
        [str(ensure_venv()), str(HERE / "timm_reference.py"), command, str(job_file)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )

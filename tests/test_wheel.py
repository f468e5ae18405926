"""The wheel carries everything the installed package reads, and works in a fresh venv.

Offline: the wheel is built with --no-build-isolation (setuptools from the dev extra), and the
fresh venv gets its dependencies by a .pth pointing at a folder of links to this venv's
packages (vitlab itself left out), so nothing is downloaded.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# source folder -> where it lands in the wheel (pyproject's package-dir mapping)
PACKAGE_DIRS = {"vitlab": "vitlab", "tui": "vitlab/tui", "recipes": "vitlab/recipes", "data_prep": "vitlab/data_prep"}


def shipped_sources():
    """Every file the installed package can read: modules and their data (recipes, JSON, TCSS)."""
    files = {}
    for source, target in PACKAGE_DIRS.items():
        for path in (REPO / source).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files[f"{target}/{path.relative_to(REPO / source).as_posix()}"] = path
    return files


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    tree = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", *PACKAGE_DIRS):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(source, tree / name)
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(tree),
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = out.glob("vitlab-*.whl")
    return path


@pytest.mark.slow
def test_wheel_carries_every_module_and_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(set(shipped_sources()) - names)
    assert not missing, f"not in the wheel: {missing}"
    for needed in (
        "vitlab/recipes/quickstart.toml",
        "vitlab/experiments/options.json",
        "vitlab/experiments/imagenet_16_categories.json",
        "vitlab/tui/app.tcss",
    ):
        assert needed in names
    assert not any(n.startswith(("tests/", "examples/", "tui/", "recipes/")) for n in names)


def _deps_folder(root):
    """Links to this venv's installed packages, vitlab and its editable hook excluded."""
    site = Path(sysconfig.get_paths()["purelib"])
    folder = root / "deps"
    folder.mkdir()
    for entry in site.iterdir():
        if entry.name.startswith(("vitlab", "__editable__")) or entry.suffix == ".pth":
            continue
        (folder / entry.name).symlink_to(entry)
    return folder


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_runs(wheel, tmp_path):
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "vitlab_test_deps.pth").write_text(f"{_deps_folder(tmp_path)}\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    done = subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "-q", str(wheel)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    check = subprocess.run([*pip, "check"], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout  # every declared dependency is satisfied

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VITLAB_CACHE"] = str(tmp_path / "cache")  # no zoo models or data built on this machine

    def vitlab(*args):
        done = subprocess.run(
            [venv / "bin" / "vitlab", *args], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    where = subprocess.run(
        [python, "-c", "import vitlab; print(vitlab.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
    ).stdout
    assert where.startswith(str(venv)), where  # the installed copy, not the source tree
    assert "quickstart" in vitlab("recipe", "list")
    assert "deit_small_patch16_224" in vitlab("models", "list")
    assert "Options for --set" in vitlab("eval", "occlusion", "--help")  # options.json is there
    probe = (
        "from vitlab.experiments import shape_bias; from vitlab.tui.app import VitlabApp; import pathlib, sys; "
        "css = pathlib.Path(sys.modules[VitlabApp.__module__].__file__).with_name(VitlabApp.CSS_PATH); "
        "print(len(shape_bias.categories()), css.exists())"
    )
    numbers = subprocess.run([python, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert numbers.stdout.split() == ["16", "True"], numbers.stderr
    if (REPO / "vitlab" / "zoo").is_dir():  # the zoo's models are not in the wheel: say how to get them
        zoo = subprocess.run(
            [python, "-c", "from vitlab import zoo; zoo.model_path('zoo:vit')"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
        )
        assert zoo.returncode != 0 and "vitlab zoo build" in zoo.stderr

"""The repository a user clones: its docs build, its README is a guide, and nothing in it names
this machine or a tracker the user does not have."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEXT_SUFFIXES = {".py", ".md", ".toml", ".json", ".jsonl", ".txt", ".cfg", ".yml", ".yaml", ".tcss", ".sh", ""}


def committed_files():
    """Files git tracks (or, outside a git checkout, every file but the build folders)."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        names = [name for name in listed.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        skip = {".venv", ".git", "build", "runs", "__pycache__", ".pytest_cache"}
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file() and not skip & set(p.parts)]
    return [ROOT / name for name in names if (ROOT / name).is_file()]


def text_files():
    return [p for p in committed_files() if p.suffix in TEXT_SUFFIXES and p.stat().st_size < 5_000_000]


def machine_path_patterns():
    """This checkout's and this user's absolute paths, and any user's home folder."""
    literal = {str(ROOT), str(Path.home())} - {"/"}
    return [re.escape(p) + r"(/|\b)" for p in sorted(literal)] + [r"(?<![\w.])/(home|Users)/[A-Za-z][\w.-]*/"]


def test_no_committed_file_names_a_machine_path():
    patterns = [re.compile(p) for p in machine_path_patterns()]
    hits = []
    for path in text_files():
        text = path.read_text(errors="replace")
        for pattern in patterns:
            match = pattern.search(text)
            if match:
                line = text.count("\n", 0, match.start()) + 1
                hits.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)}")
    assert not hits, "absolute paths of a machine in committed files:\n" + "\n".join(hits)


def test_machine_path_check_catches_one(tmp_path):
    patterns = [re.compile(p) for p in machine_path_patterns()]
    home = "/" + "home/alice"  # split, so this file does not trip its own check
    planted = f'teacher = "{ROOT}/zoo/resnet.keras"\nrun = "{home}/runs/x"\n'
    assert sum(bool(p.search(line)) for line in planted.splitlines() for p in patterns) == 2
    assert not any(p.search("/usr/share/datasets/fashion-mnist and runs/x") for p in patterns)


ISSUE_REFERENCE = re.compile(r"\b[Ii]ssues? #?\d+|\b[Tt]asks? #\d+")


def test_no_file_cites_an_issue_number():
    hits = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in text_files()
        if p.suffix in {".py", ".md", ".toml"}
        for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
        if ISSUE_REFERENCE.search(line)
    ]
    assert not hits, "issue numbers a user cannot look up: " + ", ".join(hits)


def test_readme_is_a_guide():
    readme = (ROOT / "README.md").read_text()
    lines = readme.splitlines()
    assert len(lines) <= 260, f"README.md has {len(lines)} lines; move reference material into docs/"
    dated = [line for line in lines if re.search(r"20\d\d-[01]\d-[0-3]\d", line)]
    assert len(dated) <= 2, f"dated lines belong in CHANGELOG.md or benchmarks/README.md: {dated}"
    assert "make demo" in readme and "make test" in readme
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    local = [link for link in links if "://" not in link]
    missing = [link for link in local if not (ROOT / link).exists()]
    assert local and not missing, f"README links to missing files: {missing}"


def test_public_api_is_documented():
    """Every name `vitlab` exports has a docstring (the API reference is generated from them)."""
    init = ast.parse((ROOT / "vitlab" / "__init__.py").read_text())
    public = next(
        ast.literal_eval(node.value)
        for node in init.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_PUBLIC"
    )
    undocumented = []
    for name, module in public.items():
        tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text())
        found = [
            node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name
        ]
        if not found or not ast.get_docstring(found[0]):
            undocumented.append(f"{module}.{name}")
    assert not undocumented, f"public names without a docstring: {undocumented}"


def test_docs_site_builds_strict(tmp_path):
    """`mkdocs build --strict`: a broken link, a missing page or a reference that does not resolve fails."""
    if not (ROOT / "mkdocs.yml").exists():
        pytest.fail("mkdocs.yml is missing")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (tmp_path / "site" / "reference" / "index.html").exists()

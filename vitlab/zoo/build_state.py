"""A seed's build in the cache: where its training run lives, which roles it has finished and
which vitlab commits trained it. Shared by the build (vitlab.zoo.build), the cards
(vitlab.zoo.cards) and the packs (vitlab.zoo.pack); import-light: no TensorFlow."""

import json
import subprocess
import time
from pathlib import Path

from vitlab import atomic
from vitlab.zoo import catalog


def run_dir(seed):
    return catalog.cache_root() / "runs" / f"seed-{int(seed)}"


def commits_file(seed):
    """The vitlab commit of every process that trained the seed (its start and each resume)."""
    return run_dir(seed).with_name(f"seed-{int(seed)}.commits.json")


def record_commit(seed):
    path = commits_file(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        commits = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        commits = []
    commits.append({"commit": vitlab_commit(), "started": time.strftime("%Y-%m-%dT%H:%M:%S")})
    atomic.write_json(path, commits, indent=1)


def training_commits(seed):
    try:
        return [entry["commit"] for entry in json.loads(commits_file(seed).read_text())]
    except (OSError, json.JSONDecodeError, KeyError, TypeError):
        return []


def vitlab_commit():
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return done.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def finished_roles(run):
    """Roles whose training step is done in `run` (a build stopped between roles has some)."""
    run = Path(run)
    try:
        info = json.loads((run / "run.json").read_text())
    except (OSError, json.JSONDecodeError):
        return []
    steps = info.get("steps", {})
    return [
        role
        for role in catalog.ROLES
        if steps.get(f"train:{role}") == "done" and (run / "models" / f"{role}.keras").exists()
    ]


def run_finished(run):
    """Whether the seed's run ended `done` with every role trained: then there is nothing to
    resume, and no `recipe run` process (a TensorFlow start) is spent finding that out."""
    try:
        info = json.loads((Path(run) / "run.json").read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return info.get("status") == "done" and finished_roles(run) == list(catalog.ROLES)

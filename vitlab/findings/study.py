"""Run the findings recipe once per seed (each in its own `vitlab recipe run` process, resuming
a seed's run directory when it exists), then aggregate the runs into the report."""

import subprocess
import sys
import time
from pathlib import Path

from vitlab.errors import UserError

RECIPE = "findings"


def seed_dir(root, seed):
    return Path(root) / f"seed-{seed}"


def run_seed(root, seed, overrides=(), recipe=RECIPE, quiet=False):
    """One seed's run; resumes (skipping finished steps) when its directory already holds a run."""
    target = seed_dir(root, seed)
    command = [sys.executable, "-m", "vitlab.cli", "recipe", "run"]
    if (target / "run.json").exists():
        command += ["--resume", str(target), "--runs", str(root)]
    else:
        command += [recipe, "--out", str(target), "--runs", str(root), "--set", f"seed={seed}",
                    *[f"--set={o}" for o in overrides]]
    if quiet:
        command.append("--quiet")
    started = time.time()
    completed = subprocess.run(command)
    if completed.returncode != 0:
        raise UserError(f"seed {seed}: `{' '.join(command)}` failed with exit code {completed.returncode}; "
                        f"rerun the same command to resume {target}")
    return target, time.time() - started


def run_study(root, seeds, output, overrides=(), recipe=RECIPE, quiet=False):
    """Every seed, then docs/findings.md; returns (output path, seconds per seed)."""
    from vitlab.findings import aggregate, write

    seconds, paths = {}, []
    for seed in seeds:
        path, elapsed = run_seed(root, seed, overrides, recipe, quiet)
        paths.append(str(path))
        seconds[seed] = elapsed
    findings = aggregate.evaluate(aggregate.load_runs(paths))
    header = [f"Recipe `{recipe}`{' with ' + ', '.join(overrides) if overrides else ''}; wall time per seed "
              f"(this invocation; resumed seeds count only what was left): "
              + ", ".join(f"seed {s}: {t / 60:.1f} min" for s, t in seconds.items()) + ".", ""]
    return write.write(findings, output, header), seconds

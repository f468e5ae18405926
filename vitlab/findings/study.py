"""Run the findings recipe once per seed (each in its own `vitlab recipe run` process, resuming
a seed's run directory when it exists), then aggregate the runs into the report."""

import sys
import time
from pathlib import Path

from vitlab.child_process import run_child
from vitlab.errors import EXIT_INTERRUPTED, UserError
from vitlab.zoo.build import build as build_zoo

RECIPE = "findings"


def seed_dir(root, seed):
    return Path(root) / f"seed-{seed}"


def zoo_roles(recipe, seed, overrides=()):
    """The zoo roles a recipe's evaluate steps name for `seed` (zoo:ROLE@SEED specs)."""
    from vitlab import zoo
    from vitlab.training import recipe as recipe_lib

    loaded = recipe_lib.load(recipe, [*overrides, f"seed={seed}"], check_data=False)
    specs = [m for step in loaded.evaluate for m in step.fields.models if zoo.is_zoo_spec(m)]
    return list(dict.fromkeys(zoo.parse(spec)[0] for spec in specs))


def ensure_zoo(seed, roles, quiet=False):
    """Build the seed's zoo (resumable) when a role it needs is missing; the stored cards."""
    from vitlab import zoo

    missing = [role for role in roles if not zoo.role_path(role, seed).exists()]
    if missing:
        print(f"findings: seed {seed}: zoo models missing ({', '.join(missing)}); building them", flush=True)
        build_zoo([seed], quiet=quiet)
    return [zoo.read_card(zoo.role_path(role, seed)) for role in roles]


def run_seed(root, seed, overrides=(), recipe=RECIPE, quiet=False):
    """One seed's run; resumes (skipping finished steps) when its directory already holds a run.
    The zoo models it evaluates are built first when missing, and their cards stored beside it."""
    import json

    from vitlab.findings.aggregate import ZOO_CARDS

    target = seed_dir(root, seed)
    started = time.time()
    roles = zoo_roles(recipe, seed, overrides)
    cards = ensure_zoo(seed, roles, quiet) if roles else []
    command = [sys.executable, "-m", "vitlab.cli", "recipe", "run"]
    if (target / "run.json").exists():
        command += ["--resume", str(target), "--runs", str(root)]
    else:
        command += [
            recipe,
            "--out",
            str(target),
            "--runs",
            str(root),
            "--set",
            f"seed={seed}",
            *[f"--set={o}" for o in overrides],
        ]
    if quiet:
        command.append("--quiet")
    code = run_child(command)  # a stop sent to the study reaches the seed's run
    if code == EXIT_INTERRUPTED:
        print(f"findings: seed {seed}: interrupted; rerun the same command to resume {target}", flush=True)
        raise KeyboardInterrupt
    if code != 0:
        raise UserError(
            f"seed {seed}: `{' '.join(command)}` failed with exit code {code}; "
            f"rerun the same command to resume {target}"
        )
    if cards:
        (target / ZOO_CARDS).write_text(json.dumps(cards, indent=1) + "\n")
    return target, time.time() - started


def run_study(root, seeds, output, overrides=(), recipe=RECIPE, quiet=False):
    """Every seed, then docs/findings_32px.md; returns (output path, seconds per seed)."""
    from vitlab.findings import aggregate, write

    seconds, paths = {}, []
    for seed in seeds:
        path, elapsed = run_seed(root, seed, overrides, recipe, quiet)
        paths.append(str(path))
        seconds[seed] = elapsed
    findings = aggregate.evaluate(aggregate.load_runs(paths))
    header = [
        f"Recipe `{recipe}`{' with ' + ', '.join(overrides) if overrides else ''}; wall time per seed "
        f"(this invocation; resumed seeds count only what was left): "
        + ", ".join(f"seed {s}: {t / 60:.1f} min" for s, t in seconds.items())
        + ".",
        "",
    ]
    return write.write(findings, output, header), seconds


def run_long(root, output, study_root=None, overrides=(), quiet=False):
    """The long-trained ViTs' run (recipe findings_long, seed 0, resumed), then its report,
    compared with the three-seed study's runs in `study_root` when it holds any."""
    import json

    from vitlab.findings import long_vit

    run, _ = run_seed(root, 0, overrides, long_vit.RECIPE, quiet)
    study_runs = sorted(Path(study_root).glob("seed-*")) if study_root and Path(study_root).is_dir() else []
    info = json.loads((Path(run) / "run.json").read_text())
    seconds = float(info.get("duration_s") or 0)  # resumes included (vitlab.results.store)
    header = [f"Evaluation wall time {seconds / 60:.1f} min on {info.get('finished', '?')[:10]}; run `{run}`.", ""]
    return long_vit.write(run, output, [str(s) for s in study_runs if (s / "run.json").exists()], header)

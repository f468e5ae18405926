"""Carry a zoo build's finished work to another machine or a later session.

A seed's build (vitlab.zoo.build) lives in the cache, which a fresh machine does not have.
`vitlab zoo pack` copies what a restart needs and what cost the time: the run's run.json,
events.jsonl, the commits that trained it and every finished model; not the checkpoints of
the role in training (three times a model's size, optimizer state included), so that role
starts over. `vitlab zoo unpack` puts it back into an empty cache, where `vitlab zoo build`
resumes it and trains only the roles left. Import-light: no TensorFlow.
"""

import json
import shutil
from pathlib import Path

from vitlab import atomic
from vitlab.errors import UserError
from vitlab.zoo import build_state, catalog

COMMITS = "commits.json"


def pack(seed, out):
    """Copy seed `seed`'s build state into OUT/seed-N (replacing an older pack); returns
    (that folder, finished roles)."""
    run = build_state.run_dir(seed)
    if not (run / "run.json").exists():
        raise UserError(f"zoo seed {seed}: no build in {run}; `vitlab zoo build --seeds {seed}` starts one")
    roles = build_state.finished_roles(run)
    target = Path(out) / f"seed-{int(seed)}"
    with atomic.replacing_dir(target) as temp:  # the new pack is whole before the old one goes
        (temp / "models").mkdir()
        shutil.copyfile(run / "run.json", temp / "run.json")
        _copy_finished_events(run / "events.jsonl", temp / "events.jsonl", roles)
        if build_state.commits_file(seed).exists():
            shutil.copyfile(build_state.commits_file(seed), temp / COMMITS)
        for role in roles:
            shutil.copyfile(run / "models" / f"{role}.keras", temp / "models" / f"{role}.keras")
    return target, roles


def _copy_finished_events(source, target, roles):
    """The run's events less those of an unfinished role, which starts over after unpacking:
    its CPU-seconds would otherwise be counted into the card of the retrained model."""
    if not source.exists():
        return
    unfinished = {f"train:{role}" for role in catalog.ROLES if role not in roles}
    kept = []
    for line in source.read_text().splitlines(keepends=True):
        try:
            step = json.loads(line).get("step")
        except (json.JSONDecodeError, AttributeError):
            continue  # a line torn by a kill
        if step not in unfinished and line.endswith("\n"):
            kept.append(line)
    target.write_text("".join(kept))


def unpack(source, seed=None):
    """Restore a pack (SOURCE/seed-N, or SOURCE itself) as the cache's build of its seed;
    refuses when the cache already holds a build of that seed. Returns (seed, finished roles)."""
    source = Path(source)
    if seed is not None and (source / f"seed-{int(seed)}").is_dir():
        source = source / f"seed-{int(seed)}"
    try:
        info = json.loads((source / "run.json").read_text())
    except FileNotFoundError:
        raise UserError(
            f"{source}: not a zoo pack (no run.json); `vitlab zoo pack --seed N -o DIR` makes one"
        ) from None
    except (OSError, json.JSONDecodeError) as error:
        raise UserError(f"{source}/run.json: unreadable ({error})") from None
    if info.get("name") != catalog.RECIPE or not isinstance(info.get("seed"), int):
        raise UserError(
            f"{source}: run.json is not a zoo build (recipe {info.get('name')!r}, seed {info.get('seed')!r})"
        )
    packed_seed = info["seed"]
    if seed is not None and int(seed) != packed_seed:
        raise UserError(f"{source}: holds seed {packed_seed}, not seed {seed}")
    run = build_state.run_dir(packed_seed)
    if (run / "run.json").exists():
        raise UserError(
            f"zoo seed {packed_seed}: the cache already holds a build ({run}); "
            f"`vitlab zoo build --seeds {packed_seed}` resumes it (remove it to unpack instead)"
        )
    with atomic.replacing_dir(run) as temp:
        shutil.copytree(source, temp, ignore=shutil.ignore_patterns(COMMITS), dirs_exist_ok=True)
        if (source / COMMITS).exists():
            atomic.write_bytes(build_state.commits_file(packed_seed), (source / COMMITS).read_bytes())
    return packed_seed, build_state.finished_roles(run)

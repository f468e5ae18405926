"""`vitlab zoo build`: train the study's models for some seeds, then card and publish them.

Each seed is one run of the `zoo` recipe in the cache (zoo/runs/seed-N: vitlab.zoo.build_state),
in its own `vitlab recipe run` process, resumed when its directory exists: a killed build
restarts where it stopped and never retrains a finished model. Publishing copies each trained
model next to its card (vitlab.zoo.cards) once it has been measured; a model whose card
already matches its file's hash is left alone.
"""

import sys
import time
from pathlib import Path

from vitlab import atomic
from vitlab.child_process import run_child
from vitlab.errors import EXIT_INTERRUPTED, UserError
from vitlab.zoo import build_state, cards, catalog, pack

PACK_POLL_S = 30  # how often a build with `pack_to` looks for a newly finished role


def train_seed(seed, overrides=(), quiet=False, pack_to=None, say=print):
    """The seed's training run (resumed when present); returns its directory. With `pack_to`,
    the run's finished roles are packed there (vitlab.zoo.pack) each time one more finishes,
    so a build whose cache does not last keeps what it trained."""
    target = build_state.run_dir(seed)
    if build_state.run_finished(target):
        _pack_new(seed, pack_to, None, say)
        return target
    build_state.record_commit(seed)
    command = [sys.executable, "-m", "vitlab.cli", "recipe", "run", "--runs", str(target.parent)]
    if (target / "run.json").exists():
        command += ["--resume", str(target)]
    else:
        command += [
            catalog.RECIPE,
            "--out",
            str(target),
            "--set",
            f"seed={int(seed)}",
            *[f"--set={o}" for o in overrides],
        ]
    if quiet:
        command.append("--quiet")
    packed = None  # the first poll refreshes a pack folder older than the run

    def poll():
        nonlocal packed
        packed = _pack_new(seed, pack_to, packed, say)

    try:
        code = run_child(command, PACK_POLL_S if pack_to else None, poll)
    finally:
        poll()  # what finished is kept, however the child ended
    if code == EXIT_INTERRUPTED:
        say(f"zoo seed {seed}: training interrupted; rerun `vitlab zoo build --seeds {seed}` to resume {target}")
        raise KeyboardInterrupt
    if code != 0:
        raise UserError(
            f"zoo seed {seed}: training failed (exit {code}); rerun `vitlab zoo build --seeds {seed}` "
            f"to resume {target}"
        )
    return target


def _pack_new(seed, pack_to, packed, say):
    """Pack the seed's build when it has finished a role since `packed`; the roles now packed."""
    if not pack_to:
        return packed
    roles = build_state.finished_roles(build_state.run_dir(seed))  # none while the child is still creating the run
    if not roles or (roles == packed and (Path(pack_to) / f"seed-{int(seed)}").exists()):
        return packed
    target, roles = pack.pack(seed, pack_to)
    say(f"zoo seed {seed}: packed {len(roles)} finished roles into {target}")
    return roles


def publish_finished(seed, out=None, say=print, eval_limit=None):
    """Publish the roles of seed `seed` that have finished training, without training more."""
    run = build_state.run_dir(seed)
    roles = build_state.finished_roles(run)
    if not roles:
        raise UserError(f"zoo seed {seed}: no finished model in {run}; `vitlab zoo build --seeds {seed}` trains them")
    destination = Path(out) if out else catalog.seed_dir(seed)
    publish(seed, run, destination, roles, say, eval_limit)
    return destination, roles


def publish(seed, run, destination, roles, say=print, eval_limit=None):
    """Copy each trained role into `destination` with its card; skip roles already published."""
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    for role in roles:
        source = run / "models" / f"{role}.keras"
        target = destination / f"{role}.keras"
        card = catalog.read_card(target) if target.exists() else None
        if card and card.get("sha256") == catalog.sha256(target) and card.get("seed") == int(seed):
            continue
        if not source.exists():
            raise UserError(f"zoo seed {seed}: {source} is missing; rerun `vitlab zoo build --seeds {seed}`")
        catalog.compress(source, target)
        card = cards.card_for(role, seed, run, target, eval_limit)
        atomic.write_json(catalog.card_path(target), card, indent=2)
        say(
            f"zoo seed {seed}: {role} published ({card['architecture']}, clean top-1 {card['clean_accuracy']:.3f} "
            f"on {card['eval_images']} {card['eval_dataset']} images)"
        )


def build(seeds=(0, 1, 2), out=None, overrides=(), quiet=False, say=print, eval_limit=None, pack_to=None):
    """Train and publish every seed (packing each into `pack_to` as it goes); returns {seed: destination}."""
    done = {}
    for number, seed in enumerate(seeds, 1):
        say(f"zoo: seed {seed} ({number}/{len(seeds)}): training (resumable: {build_state.run_dir(seed)})")
        started = time.time()
        run = train_seed(seed, overrides, quiet, pack_to, say)
        destination = Path(out) if out else catalog.seed_dir(seed)
        publish(seed, run, destination, list(catalog.ROLES), say, eval_limit)
        say(f"zoo: seed {seed} done in {(time.time() - started) / 60:.1f} min -> {destination}")
        done[seed] = destination
    return done

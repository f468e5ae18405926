"""`vitlab zoo build`: train the study's models for some seeds, then card and publish them.

Each seed is one run of the `zoo` recipe in the cache (zoo/runs/seed-N), in its own
`vitlab recipe run` process, resumed when its directory exists: a killed build restarts
where it stopped and never retrains a finished model. Publishing copies each trained model
next to its card (vitlab.zoo) once it has been measured; a model whose card already matches
its file's hash is left alone.
"""

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from vitlab import zoo
from vitlab.errors import EXIT_INTERRUPTED, UserError

CARD_VERSION = 1


def run_dir(seed):
    return zoo.cache_root() / "runs" / f"seed-{int(seed)}"


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
    temp = path.with_suffix(".json.tmp")
    temp.write_text(json.dumps(commits, indent=1) + "\n")
    temp.replace(path)


def training_commits(seed):
    try:
        return [entry["commit"] for entry in json.loads(commits_file(seed).read_text())]
    except (OSError, json.JSONDecodeError, KeyError, TypeError):
        return []


def run_finished(run):
    """Whether the seed's run ended `done` with every role trained: then there is nothing to
    resume, and no `recipe run` process (a TensorFlow start) is spent finding that out."""
    try:
        info = json.loads((Path(run) / "run.json").read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return info.get("status") == "done" and finished_roles(run) == list(zoo.ROLES)


PACK_POLL_S = 30  # how often a build with `pack_to` looks for a newly finished role


def train_seed(seed, overrides=(), quiet=False, pack_to=None, say=print):
    """The seed's training run (resumed when present); returns its directory. With `pack_to`,
    the run's finished roles are packed there (vitlab.zoo_state) each time one more finishes,
    so a build whose cache does not last keeps what it trained."""
    target = run_dir(seed)
    if run_finished(target):
        _pack_new(seed, pack_to, None, say)
        return target
    record_commit(seed)
    command = [sys.executable, "-m", "vitlab.cli", "recipe", "run", "--runs", str(target.parent)]
    if (target / "run.json").exists():
        command += ["--resume", str(target)]
    else:
        command += [zoo.RECIPE, "--out", str(target), "--set", f"seed={int(seed)}", *[f"--set={o}" for o in overrides]]
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
        raise UserError(f"zoo seed {seed}: training failed (exit {code}); rerun `vitlab zoo build --seeds {seed}` "
                        f"to resume {target}")
    return target


CHILD_GRACE_S = 30  # an interrupted `recipe run` records its status and leaves within a second


def run_child(command, poll_every=None, on_poll=lambda: None):
    """Run `command` to its end and return its exit code, calling `on_poll` every `poll_every`
    seconds. A SIGTERM to this process is passed on to the child, which then records its run
    as interrupted (run_status) instead of training on alone; on Ctrl-C (which the terminal sends
    to both) the child is given CHILD_GRACE_S to do that, then SIGTERM, then SIGKILL."""
    process = subprocess.Popen(command)
    forwarding = threading.current_thread() is threading.main_thread()
    if forwarding:
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: process.send_signal(signal.SIGTERM))
    try:
        while True:
            try:
                return process.wait(timeout=poll_every)
            except subprocess.TimeoutExpired:
                on_poll()
    except BaseException:
        _stop(process)
        raise
    finally:
        if forwarding:
            signal.signal(signal.SIGTERM, previous)


def _stop(process):
    for ask in (None, process.terminate, process.kill):
        if ask:
            ask()
        try:
            process.wait(timeout=CHILD_GRACE_S)
            return
        except subprocess.TimeoutExpired:
            continue


def _pack_new(seed, pack_to, packed, say):
    """Pack the seed's build when it has finished a role since `packed`; the roles now packed."""
    if not pack_to:
        return packed
    from vitlab import zoo_state

    roles = finished_roles(run_dir(seed))  # none while the child is still creating the run
    if not roles or (roles == packed and (Path(pack_to) / f"seed-{int(seed)}").exists()):
        return packed
    target, roles = zoo_state.pack(seed, pack_to)
    say(f"zoo seed {seed}: packed {len(roles)} finished roles into {target}")
    return roles


def vitlab_commit():
    try:
        done = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=Path(__file__).resolve().parent,
                              capture_output=True, text=True, timeout=10)
        return done.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def measure(model, role, limit=None, batch_size=250):
    """Clean top-1 of a zoo model (a .keras path or the loaded model) on its role's test split
    ({'average', 'class'[, 'dist']}) and the number of images."""
    import numpy as np

    from vitlab import data as data_lib
    from vitlab.models.adapter import ModelAdapter
    from vitlab import models

    loaded = models.load(str(model)) if isinstance(model, (str, Path)) else model
    adapter = ModelAdapter(loaded, name=role)
    dataset = data_lib.load(zoo.describe(role)[1], split="test", image_size=adapter.image_size,
                            batch_size=batch_size, limit=limit)
    heads = ("average", *adapter.head_names) if adapter.has_dist_token else ("average",)
    hits = {head: 0 for head in heads}
    count = 0
    for batch in dataset.pipeline:
        out = adapter.forward(batch["image"])
        labels = np.asarray(batch["label"])
        for head in heads:
            predicted = np.argmax(np.asarray(adapter.select_head(out["heads"], head)), axis=-1)
            hits[head] += int((predicted == labels).sum())
        count += len(labels)
    return {head: round(hits[head] / count, 4) for head in heads}, count


def card_for(role, seed, run, model_file, eval_limit=None, step_name=None, recipe=zoo.RECIPE, commits=None):
    """The card of one trained role: what it is, how it was made, how good it is (on the whole
    test split unless `eval_limit`; the first 500 images' figure is what tests re-measure).
    An extra (zoo.EXTRAS) was trained by step `step_name` of another recipe's run, by `commits`."""
    from vitlab import models
    from vitlab.training.trainer import steady_wall_seconds

    step_name = step_name or role
    commits = commits if commits is not None else training_commits(seed)
    info = json.loads((run / "run.json").read_text())
    events = _events(run)
    training = info.get("training", {}).get(step_name, {})
    step = next((s for s in info.get("config", {}).get("train", []) if s.get("name") == step_name), {})
    model = models.load(str(model_file))
    accuracy, count = measure(model, role, limit=eval_limit)  # loaded once for the card
    if eval_limit is not None and eval_limit <= 500:
        accuracy_500 = accuracy  # the same images
    else:
        accuracy_500, _ = measure(model, role, limit=500)
    return {
        "card_version": CARD_VERSION, "role": role, "description": zoo.describe(role)[0], "seed": int(seed),
        "architecture": training.get("model", step.get("model")), "parameters": models.parameter_count(model),
        "image_size": int(model.image_size), "recipe": recipe, "overrides": info.get("config", {}).get("overrides", []),
        "train_step": step, "trained_on": training.get("dataset"), "teacher": training.get("teacher") or None,
        "training_seconds": training.get("seconds"), "training_cpu_seconds": training_cpu_seconds(events, step_name),
        # what it takes on a quiet machine: training_seconds counts pauses and neighbours too
        "training_seconds_steady": steady_wall_seconds(events, f"train:{step_name}"),
        # the code that trained it: the build's first process, then any that resumed it
        "vitlab_commit": (commits or [vitlab_commit()])[0],
        "vitlab_commits_resumed": commits[1:], "published_by": vitlab_commit(),
        "built": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "eval_dataset": f"{zoo.describe(role)[1]}:test", "eval_images": count,
        "clean_accuracy": accuracy["average"], "clean_accuracy_heads": accuracy,
        "clean_accuracy_first_500": accuracy_500["average"] if count >= 500 else None,
        "file": Path(model_file).name, "sha256": zoo.sha256(model_file),
    }


def training_cpu_seconds(events, role):
    """The CPU-seconds the trainer logged for the role, resumes included (trainer.cumulative_cpu_seconds)."""
    from vitlab.training.trainer import cumulative_cpu_seconds

    rows = cumulative_cpu_seconds(events, f"train:{role}")
    return rows[-1][1] if rows else None


def _events(run):
    from vitlab.results import Run

    events, _ = Run(run).events()  # skips a line torn by a kill
    return events


def finished_roles(run):
    """Roles whose training step is done in `run` (a build stopped between roles has some)."""
    run = Path(run)
    try:
        info = json.loads((run / "run.json").read_text())
    except (OSError, json.JSONDecodeError):
        return []
    steps = info.get("steps", {})
    return [role for role in zoo.ROLES
            if steps.get(f"train:{role}") == "done" and (run / "models" / f"{role}.keras").exists()]


def publish_finished(seed, out=None, say=print, eval_limit=None):
    """Publish the roles of seed `seed` that have finished training, without training more."""
    run = run_dir(seed)
    roles = finished_roles(run)
    if not roles:
        raise UserError(f"zoo seed {seed}: no finished model in {run}; `vitlab zoo build --seeds {seed}` trains them")
    destination = Path(out) if out else zoo.cache_root() / f"seed-{int(seed)}"
    publish(seed, run, destination, roles, say, eval_limit)
    return destination, roles


def publish(seed, run, destination, roles, say=print, eval_limit=None):
    """Copy each trained role into `destination` with its card; skip roles already published."""
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    for role in roles:
        source = run / "models" / f"{role}.keras"
        target = destination / f"{role}.keras"
        card = zoo.read_card(target) if target.exists() else None
        if card and card.get("sha256") == zoo.sha256(target) and card.get("seed") == int(seed):
            continue
        if not source.exists():
            raise UserError(f"zoo seed {seed}: {source} is missing; rerun `vitlab zoo build --seeds {seed}`")
        temp = target.with_suffix(".keras.tmp")
        shutil.copyfile(source, temp)
        zoo.compress(temp)
        temp.replace(target)
        card = card_for(role, seed, run, target, eval_limit)
        card_temp = zoo.card_path(target).with_suffix(".json.tmp")
        card_temp.write_text(json.dumps(card, indent=2) + "\n")
        card_temp.replace(zoo.card_path(target))
        say(f"zoo seed {seed}: {role} published ({card['architecture']}, clean top-1 {card['clean_accuracy']:.3f} "
            f"on {card['eval_images']} {card['eval_dataset']} images)")


def build(seeds=(0, 1, 2), out=None, overrides=(), quiet=False, say=print, eval_limit=None, pack_to=None):
    """Train and publish every seed (packing each into `pack_to` as it goes); returns {seed: destination}."""
    done = {}
    for number, seed in enumerate(seeds, 1):
        say(f"zoo: seed {seed} ({number}/{len(seeds)}): training (resumable: {run_dir(seed)})")
        started = time.time()
        run = train_seed(seed, overrides, quiet, pack_to, say)
        destination = Path(out) if out else zoo.cache_root() / f"seed-{int(seed)}"
        publish(seed, run, destination, list(zoo.ROLES), say, eval_limit)
        say(f"zoo: seed {seed} done in {(time.time() - started) / 60:.1f} min -> {destination}")
        done[seed] = destination
    return done

"""Train the study's cells for a seed, resumably, in the user's cache, and pack what must
survive a new machine.

A cell is one `vitlab recipe run` (vitlab.study.design.recipe_text) in
`$VITLAB_CACHE/study/seed-N/CELL`, run as a child process; a killed run resumes from its last
checkpoint. While it trains, every new epoch snapshot is measured (snapshot_eval, in a process
of its own) into CELL/snapshot_metrics.json, and every PACK_EVERY_S the cell's resume state is
copied to `PACK/seed-N/CELL` (run.json, events, snapshot metrics, the newest checkpoint, the
final model once done), which a fresh cache restores from. Snapshots themselves stay in the
cache: their measurements are what the analysis needs.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from vitlab.errors import UserError
from vitlab.study import design

PACK_EVERY_S = 600
POLL_S = 60
METRICS = "snapshot_metrics.json"


def root():
    base = os.environ.get("VITLAB_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "vitlab")
    return Path(base) / "study"


def cell_dir(seed, name):
    return root() / f"seed-{seed}" / name


def model_file(seed, name):
    return cell_dir(seed, name) / "models" / f"{name}.keras"


def status(seed, name):
    info = cell_dir(seed, name) / "run.json"
    return json.loads(info.read_text()).get("status", "?") if info.exists() else "absent"


def order(names):
    """Cells in an order that trains every teacher before its students."""
    ordered = []

    def visit(name):
        if name not in design.CELLS:
            raise UserError(f"unknown study cell {name!r}; cells: {', '.join(design.CELLS)}")
        teacher = design.CELLS[name].teacher
        if teacher and teacher not in ordered:
            visit(teacher)
        if name not in ordered:
            ordered.append(name)

    for name in names:
        visit(name)
    return ordered


def train(names, seed, pack_to=None, quiet=False, schedule=design.SCHEDULE, jobs=1):
    """Train the cells, teachers first; `jobs` > 1 trains that many at a time (`train_parallel`)."""
    ordered = order(names)
    if jobs > 1 and len(ordered) > 1:
        return train_parallel(ordered, seed, pack_to, quiet, schedule, jobs)
    for name in ordered:
        train_cell(name, seed, pack_to, quiet, schedule)


def thread_env(jobs, environ=None):
    """The environment of a child that shares the cores with `jobs` - 1 others: TensorFlow's
    intra-op pool (and OpenMP's) sized to its share, one inter-op thread; what the user set wins.

    On 2 cores two 1-thread trainings side by side trained 1.18x (vit_nano_patch8_64) and 1.27x
    (resnet_nano_64) the images per second of one 2-thread training (benchmarks/bench_cell_threads.py,
    batch 96): at these sizes a second intra-op thread is partly idle."""
    env = dict(os.environ if environ is None else environ)
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    env.setdefault("TF_NUM_INTRAOP_THREADS", threads)
    env.setdefault("OMP_NUM_THREADS", threads)
    env.setdefault("TF_NUM_INTEROP_THREADS", "1")
    return env


def train_parallel(ordered, seed, pack_to, quiet, schedule, jobs):
    """Train `jobs` cells at a time, each child with its share of the cores (thread_env); a
    student starts once its teacher is done and is skipped if its teacher stopped. A SIGTERM or
    Ctrl-C stops every child (each records its run as interrupted) and starts no other cell; a
    rerun resumes them all. Every cell's error is reported, the others train on."""
    import concurrent.futures
    import signal

    from vitlab.child_process import Children

    env, children = thread_env(jobs), Children()
    waiting, running, done, failed = list(ordered), {}, set(), []
    previous = signal.signal(signal.SIGTERM, children.stop)
    pool = concurrent.futures.ThreadPoolExecutor(jobs)
    try:
        while waiting or running:
            for name in list(waiting):
                teacher = design.CELLS[name].teacher
                if children.stopping:
                    failed.append(f"study cell {name} (seed {seed}) not started: stopped")
                    waiting.remove(name)
                    continue
                if teacher in waiting or teacher in running.values():
                    continue  # its teacher has not finished yet
                waiting.remove(name)
                if teacher in ordered and teacher not in done:
                    failed.append(f"study cell {name} (seed {seed}) not trained: its teacher {teacher} stopped")
                elif len(running) < jobs:
                    running[pool.submit(train_cell, name, seed, pack_to, quiet, schedule, env, children)] = name
                else:
                    waiting.insert(0, name)
                    break
            if not running:
                continue
            finished, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in finished:
                name = running.pop(future)
                try:
                    future.result()
                    done.add(name)
                except Exception as error:  # each cell's error is reported; the others train on
                    failed.append(str(error) or f"study cell {name} (seed {seed}): {type(error).__name__}")
        if failed:
            raise UserError("; ".join(failed))
    except KeyboardInterrupt:
        children.stop_after_grace()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        signal.signal(signal.SIGTERM, previous)


def train_cell(name, seed, pack_to=None, quiet=False, schedule=design.SCHEDULE, env=None, children=None):
    """Train (or resume, or restore from the pack and resume) one cell; measure its snapshots.
    `env` and `children`: a parallel train's (train_parallel)."""
    from vitlab.child_process import run_child

    target = cell_dir(seed, name)
    if children is not None and children.stopping:
        raise UserError(f"study cell {name} (seed {seed}) not started: stopped")
    if pack_to:
        unpack(name, seed, pack_to)
    cell = design.CELLS[name]
    teacher = None
    if cell.teacher:
        teacher = model_file(seed, cell.teacher)
        if not teacher.exists():
            raise UserError(f"study cell {name} (seed {seed}) needs its teacher {cell.teacher} trained first")
    recipe = target.parent / f"{name}.toml"
    recipe.parent.mkdir(parents=True, exist_ok=True)
    recipe.write_text(design.recipe_text(name, seed, teacher, schedule))
    vitlab = [sys.executable, "-m", "vitlab.cli", "recipe", "run", *(["--quiet"] if quiet else [])]
    state = status(seed, name)
    if state == "done":
        command = None
    elif state == "absent":
        command = [*vitlab, str(recipe), "--out", str(target)]
    else:
        command = [*vitlab, "--resume", str(target)]
    last_pack = [time.monotonic()]

    eval_limit = min(schedule.eval_limit, 1000)

    def poll():
        measure_snapshots(target, name, eval_limit, env, schedule.steps_per_epoch)
        if pack_to and time.monotonic() - last_pack[0] >= PACK_EVERY_S:
            pack(name, seed, pack_to)
            last_pack[0] = time.monotonic()

    if command:
        print(f"study: seed {seed}, {name}: {'training' if state == 'absent' else 'resuming'} in {target}", flush=True)
        code = run_child(command, POLL_S, poll, env=env, children=children)
        if code:
            if pack_to:
                pack(name, seed, pack_to)
            raise UserError(f"study cell {name} (seed {seed}) stopped with exit code {code}; run again to resume")
    measure_snapshots(target, name, eval_limit, env, schedule.steps_per_epoch)
    if pack_to:
        pack(name, seed, pack_to)
    return target


def measure_snapshots(target, name, limit=1000, env=None, steps_per_epoch=None):
    """Measure each snapshot not yet in METRICS (one process each); returns the metrics."""
    from vitlab import atomic
    from vitlab.study import analysis

    metrics_path = target / METRICS
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    folder = target / "snapshots" / name  # whole files only: a snapshot being written is a hidden partial
    snapshots = sorted([*folder.glob("epoch-*.keras"), *folder.glob("step-*.keras")])
    for snapshot in snapshots:
        key = snapshot.stem
        if key in metrics:
            continue
        out = target / f".{key}.metrics.json"
        done = subprocess.run(
            [sys.executable, "-m", "vitlab.study.snapshot_eval", str(snapshot), str(out), str(limit)],
            capture_output=True,
            text=True,
            env=env,
        )
        if done.returncode or not out.exists():
            print(f"study: {name} {key}: measuring failed: {done.stderr.strip().splitlines()[-1:]}", flush=True)
            continue
        metrics[key] = {**json.loads(out.read_text()), "steps": analysis.steps_of(key, steps_per_epoch)}
        out.unlink()
        atomic.write_json(metrics_path, metrics, indent=1)
    return metrics


# Packs name the cache by this placeholder, so that no committed file holds a machine's path;
# unpacking writes the new machine's cache root in its place.
CACHE_PLACEHOLDER = "${VITLAB_STUDY_CACHE}"
CLAIMS_RUN = "claims"  # the cell's claims run (vitlab.study.claims), packed once finished
TEXT_FILES = ("run.json", "events.jsonl", METRICS, "controls.json", f"{CLAIMS_RUN}/run.json")
CLAIMS_RESULTS = f"{CLAIMS_RUN}/results.h5"  # what the claims report reads


def run_finished(folder):
    """Whether the run in `folder` (a vitlab.results run directory) finished."""
    info = Path(folder) / "run.json"
    return info.exists() and json.loads(info.read_text()).get("status") == "done"


def pack(name, seed, out):
    """Copy the cell's resume state into OUT/seed-N/NAME, replacing an older pack only once the new
    one is whole; the final model instead of checkpoints once the cell is done."""
    from vitlab import atomic
    from vitlab.training import checkpoint_state as checkpoint

    source, target = cell_dir(seed, name), Path(out) / f"seed-{seed}" / name
    if not (source / "run.json").exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic.replacing_dir(target) as temp:
        measured = run_finished(source / CLAIMS_RUN)
        for file in TEXT_FILES:
            if (source / file).exists() and (measured or not file.startswith(CLAIMS_RUN)):
                text = (source / file).read_text().replace(str(root()), CACHE_PLACEHOLDER)
                (temp / file).parent.mkdir(exist_ok=True)
                (temp / file).write_text(text)
        if measured:
            shutil.copyfile(source / CLAIMS_RESULTS, temp / CLAIMS_RESULTS)
        if status(seed, name) == "done" and model_file(seed, name).exists():
            (temp / "models").mkdir()
            shutil.copyfile(model_file(seed, name), temp / "models" / f"{name}.keras")
        else:
            checkpoint.copy_newest(source, temp)


def unpack(name, seed, pack_dir):
    """Restore the cell from its pack into an empty cache (a new machine or a lost cache)."""
    source, target = Path(pack_dir) / f"seed-{seed}" / name, cell_dir(seed, name)
    if (target / "run.json").exists() or not (source / "run.json").exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target)
    for file in TEXT_FILES:
        if (target / file).exists():
            (target / file).write_text((target / file).read_text().replace(CACHE_PLACEHOLDER, str(root())))
    print(f"study: seed {seed}, {name}: restored from {source}", flush=True)
    return True


def summary(seed, names=None):
    """Per cell: status, the latest validation accuracy and its step, snapshots measured, and for
    a cell in training its progress (done, total) and pace (seconds per step between its last
    two progress events of one process)."""
    rows = []
    for name in names or design.CELLS:
        target = cell_dir(seed, name)
        row = {"cell": name, "status": status(seed, name), "val_accuracy": None, "steps": None, "snapshots": 0}
        row.update(done=None, total=None, s_per_step=None)
        previous = None
        events = target / "events.jsonl"
        if events.exists():
            for line in events.read_text().splitlines():
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("kind") == "metric" and event.get("name") == "val_accuracy":
                    row["val_accuracy"], row["steps"] = event["value"], event.get("done")
                if event.get("kind") == "progress" and "done" in event:
                    row["done"], row["total"] = event["done"], event.get("total")
                    if previous and 0 < event["done"] - previous["done"] and event["time"] > previous["time"]:
                        row["s_per_step"] = (event["time"] - previous["time"]) / (event["done"] - previous["done"])
                    previous = event
                elif event.get("kind") == "step":
                    previous = None  # a new process: the gap before it is not training
        if (target / METRICS).exists():
            row["snapshots"] = len(json.loads((target / METRICS).read_text()))
        rows.append(row)
    return rows


def expand_spec(value):
    """What `study:CELL[@SEED][/SNAPSHOT]` stands for (vitlab.model_spec): the cell's final model,
    or one of its snapshots (`study:vit_deit@0/epoch-005`), in the cache."""
    body, _, snapshot = value.partition("/")
    name, _, seed_text = body.partition("@")
    if name not in design.CELLS:
        raise UserError(f"unknown study cell {name!r} in study:{value}; cells: {', '.join(design.CELLS)}")
    try:
        seed = int(seed_text) if seed_text else 0
    except ValueError:
        raise UserError(f"bad seed {seed_text!r} in study:{value}: use study:CELL@SEED") from None
    if snapshot:
        path = cell_dir(seed, name) / "snapshots" / name / f"{snapshot}.keras"
        if not path.exists():
            folder = path.parent
            found = sorted(p.stem for p in folder.glob("*.keras")) if folder.is_dir() else []
            raise UserError(f"study:{value}: no snapshot {snapshot!r} (snapshots: {', '.join(found) or 'none'})")
        return str(path)
    path = model_file(seed, name)
    if not path.exists():
        raise UserError(
            f"study:{value}: cell {name} (seed {seed}) has no final model yet; "
            f"train it with `vitlab study train --seed {seed} --cells {name}`, or name a snapshot (study:{body}/epoch-001)"
        )
    return str(path)

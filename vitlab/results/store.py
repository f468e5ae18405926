"""RunStore: one directory per run, crash-safe, readable without TensorFlow.

    runs/<time>-<name>-<id>/
      run.json       what ran (resolved config, seed, versions, host), status, timings
      events.jsonl   append-only progress stream the TUI follows
      results.h5     one group per experiment (arrays + JSON attrs for curves/tables)
      checkpoints/ models/ report/ tensorboard/ samples/

run.json is replaced atomically; results.h5 is rewritten to a temp file and renamed per
experiment, so a killed run never leaves a file that cannot be read.
"""

import datetime as dt
import json
import os
import platform
import secrets
import shutil
import socket
import time
from pathlib import Path

import h5py
import numpy as np

from vitlab import atomic
from vitlab.errors import UserError
from vitlab.results.result import Curve, Result, Table, dumps, to_jsonable

FORMAT_VERSION = 1
RUN_FILE = "run.json"
EVENTS_FILE = "events.jsonl"
RESULTS_FILE = "results.h5"
STATUSES = ("created", "running", "done", "failed", "interrupted")


class RunStoreError(UserError):
    """A run directory that cannot be used: missing, corrupt, or from another version."""


def _now():
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _pid_alive(pid):
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True


class Run:
    """A run directory: its metadata, events and results."""

    def __init__(self, path):
        self.path = Path(path)
        # set by run_status when a SIGTERM / Ctrl-C arrives: the KeyboardInterrupt its handler
        # raises is lost when it lands in a __del__ or a callback (Python prints and drops it),
        # so the next progress, step or metric event raises it again
        self.cancel_requested = False
        # set with it and kept until the run records the interrupt: a cancel that comes back as
        # another error (TensorFlow wraps what a callback raises) is still a cancel (run_status)
        self.cancelled = False

    # --- metadata -----------------------------------------------------------------------
    @property
    def id(self):
        return self.path.name

    def read_info(self) -> dict:
        """run.json as a dict; raises RunStoreError with the reason when unusable."""
        file = self.path / RUN_FILE
        if not file.exists():
            raise RunStoreError(f"{self.path}: no {RUN_FILE} (not a vitlab run, or still being created)")
        try:
            info = json.loads(file.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise RunStoreError(f"{file}: unreadable ({error})") from None
        if not isinstance(info, dict):
            raise RunStoreError(f"{file}: not a JSON object")
        version = info.get("format_version")
        if isinstance(version, int) and version > FORMAT_VERSION:
            raise RunStoreError(
                f"{file}: written by a newer vitlab (format version {version}; this one reads "
                f"{FORMAT_VERSION}); upgrade vitlab to open it"
            )
        if version != FORMAT_VERSION:
            raise RunStoreError(f"{file}: format version {version!r}, this vitlab reads {FORMAT_VERSION}")
        return info

    @property
    def info(self) -> dict:
        return self.read_info()

    def status(self) -> str:
        """The recorded status, 'interrupted' when it says running but its process is gone."""
        info = self.read_info()
        status = info.get("status", "created")
        if status == "running" and info.get("host") == socket.gethostname() and not _pid_alive(info.get("pid")):
            return "interrupted"
        return status

    def update(self, **fields):
        info = self.read_info() if (self.path / RUN_FILE).exists() else {}
        info.update(to_jsonable(fields))
        atomic.write_text(self.path / RUN_FILE, json.dumps(info, indent=2, sort_keys=True))
        return info

    def set_status(self, status, **fields):
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        extra = {}
        if status == "running":  # a resume: the run's duration goes on from what earlier processes recorded
            earlier = self.read_info().get("duration_s") if (self.path / RUN_FILE).exists() else None
            extra = {"pid": os.getpid(), "started": _now(), "started_unix": time.time(), "earlier_s": earlier or 0.0}
        elif status in ("done", "failed", "interrupted"):
            info = self.read_info()
            this_process = time.time() - info.get("started_unix", time.time())
            extra = {"finished": _now(), "duration_s": round(info.get("earlier_s", 0.0) + this_process, 3)}
        return self.update(status=status, **extra, **fields)

    def mark_step(self, step, state):
        """Record a recipe/eval step as 'done' (resume skips it) or 'running'."""
        info = self.read_info()
        steps = dict(info.get("steps", {}))
        steps[step] = state
        self.update(steps=steps)

    def step_done(self, step):
        return self.read_info().get("steps", {}).get(step) == "done"

    # --- events -------------------------------------------------------------------------
    def event(self, kind, **payload):
        """Append one JSON line: kind is step, progress, metric, log, done or error."""
        if self.cancel_requested and kind in ("progress", "step", "metric"):
            self.cancel_requested, self.cancelled = False, True
            raise KeyboardInterrupt  # a cancel whose first KeyboardInterrupt was swallowed
        record = {"time": round(time.time(), 3), "kind": kind, **to_jsonable(payload)}
        line = (json.dumps(record) + "\n").encode()
        with open(self.path / EVENTS_FILE, "ab+") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size:
                handle.seek(size - 1)
                if handle.read(1) != b"\n":
                    line = b"\n" + line  # a kill tore the last line: end it, so this one stays whole
            handle.write(line)  # one write of a short line: readers see all of it or none of it
            handle.flush()
        return record

    def events(self, since=0):
        """Events from byte offset `since`: (list of dicts, new offset). Skips a torn last line."""
        file = self.path / EVENTS_FILE
        if not file.exists():
            return [], since
        with open(file, "rb") as handle:
            handle.seek(since)
            data = handle.read()
        events, offset = [], since
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break
            offset += len(line)
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return events, offset

    # --- results ------------------------------------------------------------------------
    def subdir(self, name):
        path = self.path / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def write_result(self, result: Result, key=None):
        """Store one experiment's result as group `key` (default: its experiment name)."""
        key = key or result.experiment
        target = self.path / RESULTS_FILE
        with atomic.replacing(target) as tmp:  # on any failure results.h5 itself was never touched
            if target.exists():
                self._check_results_file(target)
                shutil.copyfile(target, tmp)
            self._write_group(tmp, key, result)
        summary = {f"{key}/{name}": value for name, value in result.summary.items()}
        if summary:
            info = self.read_info()
            self.update(summary={**info.get("summary", {}), **summary})
        for name, value in result.summary.items():  # the headline numbers as metric events, as training's
            if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
                self.event("metric", step=key, name=name, value=float(value))

    @staticmethod
    def _check_results_file(target):
        try:
            with h5py.File(target, "r"):
                pass
        except OSError:
            raise RunStoreError(
                f"{target}: unreadable HDF5 (truncated or damaged); it is left as it is: move it "
                "away to store new results in this run"
            ) from None

    @staticmethod
    def _write_group(tmp, key, result):
        with h5py.File(tmp, "a") as handle:
            handle.attrs["format_version"] = FORMAT_VERSION
            if key in handle:
                del handle[key]
            group = handle.create_group(key)
            group.attrs["experiment"] = result.experiment
            group.attrs["config"] = dumps(result.config)
            group.attrs["models"] = dumps(result.models)
            group.attrs["curves"] = dumps([c.to_dict() for c in result.curves])
            group.attrs["tables"] = dumps([t.to_dict() for t in result.tables])
            group.attrs["summary"] = dumps(result.summary)
            group.attrs["images"] = dumps(result.images)
            group.attrs["notes"] = dumps(result.notes)
            group.attrs["written"] = _now()
            for path, array in result.arrays.items():
                array = np.asarray(array)
                if array.dtype.kind in "UO":
                    array = array.astype("S")
                group.create_dataset(f"arrays/{path}", data=array, compression="gzip" if array.size > 1024 else None)

    def results(self) -> dict:
        """All stored results: {key: Result}. Raises RunStoreError for a corrupt file."""
        file = self.path / RESULTS_FILE
        if not file.exists():
            return {}
        try:
            with h5py.File(file, "r") as handle:
                return {key: _read_group(handle[key]) for key in handle.keys()}
        except (OSError, KeyError, json.JSONDecodeError) as error:
            raise RunStoreError(f"{file}: unreadable ({error})") from None

    def result(self, key) -> Result:
        results = self.results()
        if key not in results:
            raise RunStoreError(f"{self.path}: no result {key!r}; it has {sorted(results) or 'none'}")
        return results[key]


def _read_group(group) -> Result:
    arrays = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            value = obj[()]
            if isinstance(value, np.ndarray) and value.dtype.kind == "S":
                value = value.astype(str)
            arrays[name] = value

    if "arrays" in group:
        group["arrays"].visititems(visit)
    load = lambda name, default: json.loads(group.attrs[name]) if name in group.attrs else default  # noqa: E731
    return Result(
        experiment=group.attrs.get("experiment", group.name.strip("/")),
        config=load("config", {}),
        models=load("models", []),
        arrays=arrays,
        curves=[Curve(**c) for c in load("curves", [])],
        tables=[Table(**t) for t in load("tables", [])],
        summary=load("summary", {}),
        images=load("images", []),
        notes=load("notes", []),
    )


def _slug(text):
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in str(text))
    return "-".join(part for part in keep.split("-") if part)[:40] or "run"


class RunStore:
    """The runs root: creates run directories (never two in one) and lists them."""

    def __init__(self, root="runs"):
        self.root = Path(root)

    def create(self, name, kind, config, seed=0, models=(), dataset=None, path=None, headline="") -> Run:
        """A new run directory with its run.json; `path` names it explicitly (must not exist).
        `headline`: the summary key or pattern the run lists show (vitlab.results.run_facts)."""
        if path is not None:
            path = Path(path)
            if path.exists() and not path.is_dir():
                raise RunStoreError(f"{path}: is an existing file; --out names a folder for the run")
            if (path / RUN_FILE).exists():
                raise RunStoreError(f"{path} already holds a run; use --resume {path} or another --out")
            path.mkdir(parents=True, exist_ok=True)
        else:
            self.root.mkdir(parents=True, exist_ok=True)
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            while True:
                path = self.root / f"{stamp}-{_slug(name)}-{secrets.token_hex(3)}"
                try:
                    path.mkdir()
                    break
                except FileExistsError:
                    continue
        run = Run(path)
        from vitlab import __version__

        info = to_jsonable(
            dict(
                format_version=FORMAT_VERSION,
                id=path.name,
                name=name,
                kind=kind,
                models=list(models),
                dataset=dataset,
                seed=seed,
                config=config,
                status="created",
                created=_now(),
                created_unix=round(time.time(), 6),  # orders runs made within one second (list)
                host=socket.gethostname(),
                versions=stack_versions(),
                vitlab_version=__version__,
                platform=platform.platform(),
                **({"headline": headline} if headline else {}),
            )
        )
        try:
            atomic.create_text(path / RUN_FILE, json.dumps(info, indent=2, sort_keys=True))  # one launch claims it
        except FileExistsError:
            raise RunStoreError(
                f"{path} already holds a run (another launch claimed it); use --resume {path} or another --out"
            ) from None
        run.event("step", step="created", message=f"run {path.name} created")
        return run

    def open(self, path) -> Run:
        run = Run(path)
        run.read_info()
        return run

    def list(self):
        """[(Run, info dict or None, error or None)] newest first (by creation time, not by name:
        a run named with --out or run_dir sorts among the others); never raises for a bad run."""
        if not self.root.exists():
            return []
        entries = []
        for path in sorted(self.root.iterdir(), reverse=True):
            if not path.is_dir() or path.name.startswith("."):
                continue
            run = Run(path)
            try:
                entries.append((run, run.read_info(), None))
            except RunStoreError as error:
                entries.append((run, None, str(error)))
        return sorted(entries, key=lambda entry: _created(entry[0].path, entry[1]), reverse=True)  # stable


def _created(path, info):
    """When a run was created, in seconds: run.json's record, else the folder's modification time."""
    info = info or {}
    if isinstance(info.get("created_unix"), (int, float)):
        return float(info["created_unix"])
    try:
        return dt.datetime.fromisoformat(str(info["created"])).timestamp()
    except (KeyError, ValueError):
        pass
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def stack_versions():
    """Versions of the stack, read from package metadata (no heavy imports): runs and benchmarks record them."""
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for package in ("vitlab", "tensorflow", "keras", "numpy", "h5py", "jax"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return versions

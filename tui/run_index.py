"""What the runs table shows, kept current by cheap polling.

Each tick lists the runs root once and stats each run.json; a run is read again only when
its run.json changed (mtime and size), and only running runs follow their events.jsonl
(from the byte offset reached last time). 500 finished runs cost 500 stat calls a tick.
Broken run directories become rows with a status that says what is wrong, never errors.
"""

import dataclasses
import datetime as dt
import os
import time
from pathlib import Path


def _store():
    """vitlab.results (h5py + NumPy) loads on the first scan, in the worker, after the first paint."""
    from vitlab.results import store

    return store


def _run_facts():
    """Pure Python, but its package (vitlab.results) loads h5py: see _store."""
    from vitlab.results import run_facts

    return run_facts


ACTIVE = ("running", "created", "starting")
RUN_FILE = "run.json"


@dataclasses.dataclass
class Progress:
    """The latest progress of a running run, from its events."""

    step: str = ""
    done: int = 0
    total: int = 0
    metrics: dict = dataclasses.field(default_factory=dict)
    message: str = ""

    @property
    def fraction(self):
        return self.done / self.total if self.total else 0.0


@dataclasses.dataclass
class RunRow:
    """One line of the runs table; `info` is run.json (None when unreadable)."""

    path: Path
    status: str
    name: str = ""
    kind: str = ""
    models: str = ""
    dataset: str = ""
    created: str = ""
    duration_s: float | None = None
    headline: str = ""
    reason: str = ""
    info: dict | None = None
    progress: Progress | None = None

    @property
    def id(self):
        return self.path.name

    @property
    def when(self):
        """Creation time as 'YYYY-MM-DD HH:MM' (from run.json, else the directory name)."""
        if self.created:
            try:
                return dt.datetime.fromisoformat(self.created).strftime("%Y-%m-%d %H:%M")
            except ValueError:
                return self.created[:16]
        stamp = self.id[:15]
        try:
            return dt.datetime.strptime(stamp, "%Y%m%d-%H%M%S").strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return "?"

    @property
    def sort_time(self):
        """'YYYYMMDD-HHMMSS' from run.json's creation time, else from the directory name."""
        if self.created:
            try:
                return dt.datetime.fromisoformat(self.created).strftime("%Y%m%d-%H%M%S")
            except ValueError:
                pass
        return self.id[:15]

    def matches(self, text):
        """Filter-as-you-type: every word must appear somewhere in the row."""
        haystack = " ".join(
            (self.id, self.name, self.kind, self.models, self.dataset, self.status, self.headline, self.reason)
        ).lower()
        return all(word in haystack for word in text.lower().split())


def format_duration(seconds):
    if seconds is None:
        return ""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def format_value(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def headline_of(summary, run_name="", models=(), pattern=""):
    """The headline, 'name value': the summary entry the run names (`pattern`, a recipe's
    `headline`), else the first one; without the parts other columns show already (the
    step when it is the run's name, the model when it is the run's first model)."""
    picked = _run_facts().pick_headline(summary, pattern)
    if picked is None:
        return ""
    key, value = picked
    parts = str(key).split("/")
    if len(parts) > 1 and parts[0] == run_name:
        parts = parts[1:]
    name = "/".join(parts)
    if models and name.endswith(f"/{models[0]}"):  # summary keys are <metric>/<model>
        name = name[: -len(str(models[0])) - 1]
    elif len(parts) > 1 and models and parts[0] == str(models[0]):  # runs written before that layout
        name = "/".join(parts[1:])
    return f"{name} {format_value(value)}"


def row_from_info(run, info):
    facts = _run_facts()
    models = facts.models_of(info)
    return RunRow(
        path=run.path,
        status=str(info.get("status", "created")),
        name=str(info.get("name", "")),
        kind=str(info.get("kind", "")),
        models=", ".join(models),
        dataset=str(info.get("dataset") or ""),
        created=str(info.get("created", "")),
        duration_s=info.get("duration_s"),
        headline=headline_of(info.get("summary"), str(info.get("name", "")), models, facts.headline_pattern(info)),
        reason=str(info.get("error") or ""),
        info=info,
    )


def read_row(path, pending=None):
    """A RunRow for a directory; unreadable ones get a status naming the problem."""
    store = _store()
    run = store.Run(path)
    try:
        info = run.read_info()
    except store.RunStoreError as error:
        reason = str(error).replace(str(path / RUN_FILE) + ": ", "").replace(str(path) + ": ", "")
        if not (path / RUN_FILE).exists():
            status = "starting" if pending else "incomplete"
            reason = pending or reason
        elif "format version" in reason:
            status = "other version"
        else:
            status = "corrupt"
        return RunRow(path=path, status=status, name=path.name.split("-", 2)[-1].rsplit("-", 1)[0], reason=reason)
    row = row_from_info(run, info)
    if row.status == "running":
        try:
            row.status = run.status()  # 'interrupted' when its process is gone
        except store.RunStoreError:
            pass
    return row


def apply_events(progress, events):
    """Fold new events into the latest progress, metrics and message."""
    for event in events:
        kind = event.get("kind")
        if kind == "progress":
            progress.step = str(event.get("step", progress.step))
            progress.done = int(event.get("done", 0) or 0)
            progress.total = int(event.get("total", 0) or 0)
            extra = {k: v for k, v in event.items() if k not in ("time", "kind", "step", "done", "total")}
            progress.metrics.update(extra)
        elif kind == "metric" and "name" in event:
            progress.metrics[str(event["name"])] = event.get("value")
        elif kind == "step":
            progress.step = str(event.get("step", progress.step))
            progress.message = str(event.get("message", ""))
            if event.get("message", "").endswith("started"):
                progress.done, progress.total = 0, 0
        elif kind in ("log", "error", "done"):
            progress.message = str(event.get("message", ""))
    return progress


@dataclasses.dataclass
class _Entry:
    stamp: tuple
    row: RunRow
    offset: int = 0


class RunIndex:
    """The runs under a root, refreshed incrementally; `refresh()` says what changed."""

    def __init__(self, root):
        self.root = Path(root)
        self._entries: dict[str, _Entry] = {}
        self._pending: dict[str, str] = {}  # run dir name -> note while its process starts
        self._failed: dict[str, str] = {}  # launches that died before writing run.json

    def expect(self, path, note="starting"):
        """A run the TUI just launched: show it before its run.json exists."""
        self._pending[Path(path).name] = note

    def launch_failed(self, path, reason):
        self._failed[Path(path).name] = reason
        self._pending.pop(Path(path).name, None)

    def rows(self):
        return [entry.row for entry in self._entries.values()]

    def get(self, run_id):
        entry = self._entries.get(run_id)
        return entry.row if entry else None

    def refresh(self):
        """(changed rows, removed ids) since the last call."""
        names = set()
        changed = []
        try:
            listing = [e for e in os.scandir(self.root) if e.is_dir() and not e.name.startswith(".")]
        except FileNotFoundError:
            listing = []
        for dirent in listing:
            names.add(dirent.name)
            row = self._refresh_one(Path(dirent.path))
            if row is not None:
                changed.append(row)
        for name in list(self._pending) + list(self._failed):
            if name not in names:
                names.add(name)
                row = self._refresh_one(self.root / name)
                if row is not None:
                    changed.append(row)
        removed = [name for name in self._entries if name not in names]
        for name in removed:
            del self._entries[name]
        return changed, removed

    def _refresh_one(self, path):
        name = path.name
        try:
            stat = os.stat(path / RUN_FILE)
            stamp = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = (None, name in self._pending, self._failed.get(name))
        entry = self._entries.get(name)
        if entry is not None and entry.stamp == stamp and entry.row.status not in ACTIVE:
            return None
        if entry is None or entry.stamp != stamp:
            if stamp[0] is None and name in self._failed:
                row = RunRow(path=path, status="failed", name=name, reason=self._failed[name])
            else:
                row = read_row(path, self._pending.get(name))
            if stamp[0] is not None:
                self._pending.pop(name, None)
            offset = entry.offset if entry else 0
            if entry is not None and entry.row.progress is not None:
                row.progress = entry.row.progress
            entry = _Entry(stamp=stamp, row=row, offset=offset)
            self._entries[name] = entry
        if entry.row.status in ACTIVE:
            self._follow(entry)
        return entry.row

    def _follow(self, entry):
        """Read only the new events of a running run; keep its duration ticking."""
        row = entry.row
        store = _store()
        run = store.Run(row.path)
        if row.status == "running":
            try:
                row.status = run.status()  # a killed process leaves 'running' behind
            except store.RunStoreError:
                pass
        events, entry.offset = run.events(since=entry.offset)
        row.progress = apply_events(row.progress or Progress(), events)
        started = (row.info or {}).get("started_unix")
        if row.status == "running" and started:
            row.duration_s = (row.info or {}).get("earlier_s", 0.0) + time.time() - started  # resumes included

"""What an experiment may touch besides its inputs: the seed, progress, a place for files.

Without a run (tests, notebooks) the context just keeps the events in memory.
"""

import dataclasses
import sys
import tempfile
import time
from pathlib import Path

from vitlab.perturb import image_rng


@dataclasses.dataclass
class Context:
    run: object = None  # vitlab.results.Run or None
    seed: int = 0
    step: str = ""  # name of the step, so events from several experiments stay apart
    quiet: bool = True
    events: list = dataclasses.field(default_factory=list)
    facts: dict = dataclasses.field(default_factory=dict)
    _last_progress: float = 0.0
    _last_printed: float = 0.0

    def _emit(self, kind, **payload):
        payload = {"step": self.step, **payload}
        if self.run is not None:
            record = self.run.event(kind, **payload)
        else:
            record = {"kind": kind, **payload}
        self.events.append(record)
        return record

    def progress(self, done, total, force=False, **metrics):
        """Report progress; merged to at most ~4 events a second unless forced or finished."""
        now = time.monotonic()
        if not force and done < total and now - self._last_progress < 0.25:
            return
        self._last_progress = now
        self._emit("progress", done=int(done), total=int(total), **metrics)
        if not self.quiet:
            self._print_progress(done, total, now)

    def _print_progress(self, done, total, now):
        """A redrawn line in a terminal; in a log, a line every 10 s and at the end."""
        if sys.stdout.isatty():
            print(f"\r[{self.step}] {done}/{total}", end="\n" if done >= total else "", flush=True)
        elif done >= total or now - self._last_printed >= 10.0:
            self._last_printed = now
            print(f"[{self.step}] {done}/{total}", flush=True)

    def metric(self, name, value, **labels):
        self._emit("metric", name=name, value=float(value), **labels)

    def log(self, message):
        self._emit("log", message=message)
        if not self.quiet:
            print(f"[{self.step}] {message}", flush=True)

    def record(self, **facts):
        """Facts about the step's inputs that belong in run.json (`facts.STEP`), e.g. which
        corruption images were used; without a run they are kept in `self.facts`."""
        self.facts.update(facts)
        if self.run is not None:
            record_facts(self.run, self.step, **facts)

    def output_dir(self, name):
        """A directory for files the experiment writes itself (attention grids, samples)."""
        if self.run is not None:
            return self.run.subdir(name)
        path = Path(tempfile.mkdtemp(prefix=f"vitlab-{name}-"))
        return path

    def relative(self, path):
        """Path as stored in a Result: relative to the run directory when there is one."""
        if self.run is not None:
            try:
                return str(Path(path).relative_to(self.run.path))
            except ValueError:
                pass
        return str(path)

    def rng(self, *keys):
        """A NumPy generator derived from (seed, *keys), e.g. (image index, stream): per-image
        choices that reruns, other batch sizes and other backends repeat (vitlab.perturb.image_rng,
        the one scheme the sweeps use too)."""
        return image_rng.generator(self.seed, *keys)


def record_facts(run, step, **facts):
    """Merge facts about one step into run.json's `facts.STEP` (what data and preprocessing it used)."""
    stored = dict(run.read_info().get("facts") or {})
    stored[step] = {**stored.get(step, {}), **facts}
    run.update(facts=stored)

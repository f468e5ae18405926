"""Results: the Result object and the RunStore (run.json, events.jsonl, results.h5)."""

from vitlab.results.result import Curve, Result, Table
from vitlab.results.store import Run, RunStore, RunStoreError

__all__ = ["Curve", "Result", "Run", "RunStore", "RunStoreError", "Table"]

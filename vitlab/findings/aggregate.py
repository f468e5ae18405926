"""Runs of several seeds -> estimates per measurement, per curve point, per check, and a verdict per claim.

Verdict rules (with at least 3 seeds; fewer gives "inconclusive"):
  a check holds when the 95% t-interval of its paired difference (paper's side positive) lies
  above zero, is contradicted when it lies below, and is unclear otherwise;
  reproduced      every tested check holds;
  partly          some hold, others do not;
  not reproduced  none holds;
  not tested      none of its measurements exists in the runs.
"""

import dataclasses
import json
from pathlib import Path

import numpy as np

from vitlab.errors import UserError
from vitlab.findings import metrics, stats
from vitlab.findings.claims import CLAIMS


@dataclasses.dataclass
class SeedRun:
    seed: int
    path: str
    scalars: dict
    curves: dict
    info: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class CurveEstimate:
    x: list
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    ticks: list | None
    n: int


@dataclasses.dataclass
class CheckOutcome:
    check: object
    difference: stats.Estimate
    left: stats.Estimate
    right: stats.Estimate
    status: str  # holds | contradicted | unclear | untested
    seeds_needed: int | None = None  # unclear checks: seeds at which this mean and spread would decide
    per_seed: tuple = ()  # the paired differences, one a seed (paper's side > 0): do the seeds agree?


@dataclasses.dataclass
class ClaimOutcome:
    claim: object
    verdict: str
    reason: str
    checks: list


@dataclasses.dataclass
class Findings:
    seeds: list
    runs: list
    scalars: dict  # key -> (Estimate, [value per seed])
    curves: dict  # key -> CurveEstimate
    claims: list  # ClaimOutcome
    infos: list = dataclasses.field(default_factory=list)  # run.json per seed (durations, evaluate limits)


ZOO_CARDS = "zoo_cards.json"


def load_runs(paths):
    """SeedRun per run directory (vitlab.results.Run), in seed order; two runs of one seed are an error."""
    from vitlab.results import Run

    runs = []
    for path in paths:
        run = Run(Path(path))
        info = run.read_info()
        cards = Path(path) / ZOO_CARDS
        if cards.exists():  # the zoo models this seed evaluated (vitlab.findings.study)
            info = {**info, "zoo_cards": json.loads(cards.read_text())}
        scalars, curves = metrics.measure(run.results(), info)
        runs.append(SeedRun(int(info.get("seed", 0)), str(path), scalars, curves, info))
    seeds = [r.seed for r in runs]
    if len(set(seeds)) != len(seeds):
        raise UserError(f"runs {', '.join(paths)}: two runs have the same seed ({seeds}); give one run per seed")
    if not runs:
        raise UserError("no runs given: pass the run directories of the findings recipe, one per seed")
    return sorted(runs, key=lambda r: r.seed)


def _scalar_values(runs, key):
    return [r.scalars.get(key, np.nan) for r in runs]


def aggregate_scalars(runs):
    keys = sorted({k for r in runs for k in r.scalars})
    return {k: (stats.estimate(_scalar_values(runs, k)), _scalar_values(runs, k)) for k in keys}


def aggregate_curves(runs):
    out = {}
    for key in sorted({k for r in runs for k in r.curves}):
        present = [r.curves[key] for r in runs if key in r.curves]
        length = min(len(c.y) for c in present)
        rows = np.stack([np.asarray(c.y, dtype=float)[:length] for c in present])
        mean, low, high = stats.curve_estimate(rows)
        ticks = present[0].ticks[:length] if present[0].ticks else None
        out[key] = CurveEstimate(list(present[0].x)[:length], mean, low, high, ticks, len(present))
    return out


def _side(value, op):
    return value if op == ">" else -value


def evaluate_check(check, runs):
    """Paired over seeds: difference = left - right, signed so that the paper's side is positive."""
    left = np.asarray(_scalar_values(runs, check.left), dtype=float)
    if isinstance(check.right, str):
        right = np.asarray(_scalar_values(runs, check.right), dtype=float)
    else:
        right = np.full(len(runs), float(check.right))
    differences = _side(left - right, check.op)
    difference = stats.estimate(differences)
    if difference.n == 0:
        status = "untested"
    elif not difference.has_interval:
        status = "unclear"
    elif difference.low > 0:
        status = "holds"
    elif difference.high < 0:
        status = "contradicted"
    else:
        status = "unclear"
    needed = stats.seeds_to_decide(differences) if status == "unclear" else None
    return CheckOutcome(
        check,
        difference,
        stats.estimate(left),
        stats.estimate(right),
        status,
        needed,
        tuple(float(d) for d in differences),
    )


def _describe(outcome):
    d = outcome.difference
    interval = f" [{d.low:+.3f}, {d.high:+.3f}]" if d.has_interval else ""
    if outcome.status == "unclear" and d.has_interval:
        interval += (
            f"; about {outcome.seeds_needed} seeds would decide it"
            if outcome.seeds_needed
            else "; indistinguishable from zero within 50 seeds"
        )
    return f"'{outcome.check.label}' ({d.mean:+.3f}{interval})"


def verdict(outcomes, seeds):
    """(verdict, one sentence why) from the checks' statuses."""
    tested = [o for o in outcomes if o.status != "untested"]
    if not tested:
        return "not tested", (
            "no measurement available: a step is missing, or its models are within 0.1 of chance accuracy."
        )
    held = [o for o in tested if o.status == "holds"]
    against = [o for o in tested if o.status == "contradicted"]
    unclear = [o for o in tested if o.status == "unclear"]
    if seeds < stats.MIN_SEEDS_FOR_INTERVAL:
        on_side = [o for o in tested if o.difference.mean > 0]
        text = f"only {seeds} seed(s), no interval; {len(on_side)} of {len(tested)} differences point the paper's way"
        if seeds > 1:  # a sign that flips between seeds is the first thing an interval would not survive
            every = [o for o in tested if o.per_seed and all(d > 0 for d in o.per_seed if np.isfinite(d))]
            text += f" on average, {len(every)} in every seed"
        return "inconclusive", text + "."
    if len(held) == len(tested):
        weakest = min(held, key=lambda o: o.difference.low)
        return "reproduced", f"all {len(tested)} checks hold; the weakest is {_describe(weakest)}."
    if held:
        missed = against + unclear
        return "partly", (
            f"{len(held)} of {len(tested)} checks hold; not: " + "; ".join(_describe(o) for o in missed) + "."
        )
    if against:
        return "not reproduced", (
            "no check holds and the effect goes the other way in " + "; ".join(_describe(o) for o in against) + "."
        )
    return "not reproduced", ("no check's interval excludes zero: " + "; ".join(_describe(o) for o in unclear) + ".")


def evaluate(runs, claims=CLAIMS):
    outcomes = []
    for claim in claims:
        checks = [evaluate_check(c, runs) for c in claim.checks]
        name, reason = verdict(checks, len(runs))
        outcomes.append(ClaimOutcome(claim, name, reason, checks))
    return Findings(
        [r.seed for r in runs],
        [r.path for r in runs],
        aggregate_scalars(runs),
        aggregate_curves(runs),
        outcomes,
        [r.info for r in runs],
    )

"""docs/findings_32px.md and its figures (docs/findings/claim<N>.png) from aggregated Findings."""

import math
from pathlib import Path

import numpy as np

from vitlab.findings import stats
from vitlab.findings.aggregate import Findings
from vitlab.findings.claims import heading

SIDE = {">": "left > right", "<": "left < right"}


def _cell(estimate, digits=3):
    return estimate.format(digits) if not math.isnan(estimate.mean) else "n/a"


def _values(values):
    return ", ".join("-" if not np.isfinite(v) else f"{v:.3f}" for v in values)


def _draw_panel(axis, panel, findings):
    drawn = False
    for label, key in panel.curves.items():
        curve = findings.curves.get(key)
        if curve is None:
            continue
        (line,) = axis.plot(curve.x, curve.mean, marker="o", markersize=3, label=label)
        if np.isfinite(curve.low).any():
            axis.fill_between(curve.x, curve.low, curve.high, color=line.get_color(), alpha=0.2, linewidth=0)
        if curve.ticks:
            axis.set_xticks(curve.x, curve.ticks)
        drawn = True
    axis.set_title(panel.title, fontsize=10)
    axis.set_xlabel(panel.x_label)
    axis.set_ylabel(panel.y_label)
    axis.grid(alpha=0.3)
    if drawn:
        axis.legend(fontsize=8)
    else:
        axis.text(0.5, 0.5, "no data", ha="center", va="center", transform=axis.transAxes)
    return drawn


def _bar_keys(claim):
    keys = [c.left for c in claim.checks] + [c.right for c in claim.checks if isinstance(c.right, str)]
    keys += [key for _, key in claim.rows]
    return list(dict.fromkeys(keys))


def _draw_bars(axis, claim, findings):
    keys = [k for k in _bar_keys(claim) if k in findings.scalars]
    if not keys:
        axis.text(0.5, 0.5, "no data", ha="center", va="center", transform=axis.transAxes)
        return False
    estimates = [findings.scalars[k][0] for k in keys]
    means = [e.mean for e in estimates]
    errors = None
    if all(e.has_interval for e in estimates):
        errors = np.array([[e.mean - e.low for e in estimates], [e.high - e.mean for e in estimates]])
    axis.bar(range(len(keys)), means, yerr=errors, capsize=3, color="tab:blue", alpha=0.8)
    axis.set_xticks(range(len(keys)), [k.split("/", 1)[1] for k in keys], rotation=35, ha="right", fontsize=8)
    axis.set_title(claim.title.split(":")[0], fontsize=10)
    axis.grid(axis="y", alpha=0.3)
    return True


def draw_figure(claim, findings, path):
    """One PNG per claim: its curve panels side by side, or bars of its measurements."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = max(len(claim.panels), 1)
    width = 4.6 * count if claim.panels else max(5.0, 0.75 * len(_bar_keys(claim)))
    figure, axes = plt.subplots(1, count, figsize=(width, 3.8), squeeze=False)
    if claim.panels:
        drawn = [_draw_panel(axis, panel, findings) for axis, panel in zip(axes[0], claim.panels)]
    else:
        drawn = [_draw_bars(axes[0][0], claim, findings)]
    figure.suptitle(
        f"Claim {claim.number} (mean over {len(findings.seeds)} seed(s); band/bars: 95% t-interval)", fontsize=9
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return any(drawn)


def _check_table(outcome):
    lines = [
        "| check | paper's side | left | right | difference (paper's side > 0) | per seed | status |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in outcome.checks:
        right = o.check.right if isinstance(o.check.right, str) else f"{o.check.right:g}"
        lines.append(
            f"| {o.check.label} | `{o.check.left}` {o.check.op} `{right}` | {_cell(o.left)} | "
            f"{_cell(o.right)} | {_cell(o.difference)} | {_values(o.per_seed)} | {o.status} |"
        )
    return lines


def _rows_table(claim, findings):
    rows = [(label, key) for label, key in claim.rows if key in findings.scalars]
    if not rows:
        return []
    lines = ["", "| quantity | mean [95% CI] | per seed |", "|---|---|---|"]
    for label, key in rows:
        estimate, values = findings.scalars[key]
        lines.append(f"| {label} | {_cell(estimate)} | {_values(values)} |")
    return lines


def _models_table(findings):
    keys = [k for k in findings.scalars if k.startswith("training/validation/")]
    if not keys:
        return []
    lines = [
        "## Models (clean top-1 on the test split, from the zoo cards or the run's validation; `shapes:stylized` for *_sin)",
        "",
        "| model | top-1 [95% CI] | per seed | training seconds (mean) | training CPU-s (mean) |",
        "|---|---|---|---|---|",
    ]
    for key in keys:
        name = key.rsplit("/", 1)[1]
        estimate, values = findings.scalars[key]
        seconds = [
            findings.scalars.get(f"training/{kind}/{name}", (stats.estimate([]), []))[0].mean
            for kind in ("train_seconds", "train_cpu_seconds")
        ]
        lines.append(
            f"| {name} | {_cell(estimate)} | {_values(values)} | "
            + " | ".join("n/a" if math.isnan(v) else f"{v:.0f}" for v in seconds)
            + " |"
        )
    return lines + [""]


def _seed_cost(findings):
    """Mean seconds of one seed: (zoo training wall, zoo training CPU, evaluation wall, whether the wall
    is the steady pace); None where unrecorded. The cards' steady pace (training_seconds_steady) is
    preferred when every role has it: their recorded wall seconds count pauses and neighbours."""

    def per_role(prefix):
        return {
            key[len(prefix) :]: estimate.mean
            for key, (estimate, _) in findings.scalars.items()
            if key.startswith(prefix) and not math.isnan(estimate.mean)
        }

    def total(values):
        return sum(values.values()) if values else None

    evaluation = [info.get("duration_s") for info in findings.infos if isinstance(info.get("duration_s"), (int, float))]
    recorded, steady = per_role("training/train_seconds/"), per_role("training/train_steady_seconds/")
    use_steady = bool(steady) and set(steady) >= set(recorded)
    return (
        total(steady if use_steady else recorded),
        total(per_role("training/train_cpu_seconds/")),
        float(np.mean(evaluation)) if evaluation else None,
        use_steady,
    )


def _hours(seconds):
    return f"{seconds / 3600:.1f} h"


def _durations(findings):
    seconds = [(seed, info.get("duration_s")) for seed, info in zip(findings.seeds, findings.infos)]
    seconds = [(seed, value) for seed, value in seconds if isinstance(value, (int, float))]
    if not seconds:
        return []
    return [
        "Evaluation wall time per seed (the runs' recorded durations; the zoo builds come on top): "
        + ", ".join(f"seed {seed}: {value / 60:.1f} min" for seed, value in seconds)
        + ".",
        "",
    ]


def _test_images(findings):
    """The evaluate steps' image limits, smallest first."""
    return sorted(
        {
            step.get("limit")
            for info in findings.infos
            for step in (info.get("config") or {}).get("evaluate", [])
            if isinstance(step.get("limit"), int)
        }
    )


def _deciding_budget(findings):
    """What would decide the checks no interval decides: seeds needed at the observed spread, and their cost."""
    open_checks = [(outcome.claim, o) for outcome in findings.claims for o in outcome.checks if o.status == "unclear"]
    if not open_checks:
        return []
    training, training_cpu, evaluation, steady = _seed_cost(findings)
    per_seed = (training or 0) + (evaluation or 0)
    cpu = f", {_hours(training_cpu)} of CPU time" if training_cpu else ""
    source = (
        "the cards' training steps at their steady pace, which leaves out pauses, neighbours and start-up"
        if steady
        else "the cards' training wall seconds, which include whatever ran beside them"
    )
    cost = (
        f"One more seed costs about {_hours(per_seed)} on this machine ({_hours(training or 0)} to build its zoo, "
        f"from {source}{cpu}; and {_hours(evaluation or 0)} to evaluate it, from the runs' durations)."
        if per_seed
        else "The runs record no training or evaluation time, so no cost is given."
    )
    lines = ["## What would decide the open checks", "", cost]
    limits = _test_images(findings)
    if limits:
        bound = 0.5 / math.sqrt(limits[0])
        lines += [
            "",
            f"The evaluation steps use {limits[0]:,}-{limits[-1]:,} test images. A proportion measured on N "
            f"images has a sampling sd of at most 0.5/sqrt(N) ({bound:.3f} at {limits[0]:,}), so a check "
            "whose spread over seeds is well above that is limited by the seeds (the models differ), "
            "and more test images would not decide it.",
        ]
    lines += [""]
    if len(findings.seeds) < stats.MIN_SEEDS_FOR_INTERVAL:
        more = stats.MIN_SEEDS_FOR_INTERVAL - len(findings.seeds)
        lines += [
            f"With {len(findings.seeds)} seed(s) no check has an interval: {more} more seed(s) "
            f"({_hours(more * per_seed) if per_seed else 'cost unknown'}) give the first intervals, and "
            "this table then says how many seeds each open check needs.",
            "",
        ]
        return lines
    lines += [
        "| claim | check | seeds | difference (sd over seeds) | seeds that would decide it | extra cost |",
        "|---|---|---|---|---|---|",
    ]
    for claim, o in open_checks:
        d = o.difference
        if o.seeds_needed is None:
            needed, extra = "more than 50: the difference is not distinguishable from zero at this scale", "-"
        else:
            needed = str(o.seeds_needed)
            more = o.seeds_needed - d.n
            extra = _hours(more * per_seed) if per_seed else "unknown"
        lines.append(f"| {claim.number} | {o.check.label} | {d.n} | {d.mean:+.3f} ({d.sd:.3f}) | {needed} | {extra} |")
    lines += [
        "",
        "Seeds needed assume the next seeds keep this mean and spread (smallest m with "
        "t(m-1) sd / sqrt(m) < |mean|); they plan the budget, they do not predict the verdict.",
        "",
    ]
    return lines


def render(findings: Findings, figure_dir: Path, figure_prefix: str, header=()):
    """The markdown text; draws the figures into figure_dir (linked as figure_prefix/<name>)."""
    lines = [
        "# Findings: the paper's claims re-tested at laptop scale",
        "",
        "Generated by `make findings` (recipe `findings`, aggregated by `vitlab findings`); do not edit by hand.",
        "",
        *header,
        f"Seeds: {', '.join(map(str, findings.seeds))}. Every number is the mean over seeds with its 95% "
        f"Student-t interval in brackets (intervals need at least {stats.MIN_SEEDS_FOR_INTERVAL} seeds). A "
        "check compares two measurements of the same seed; it holds when the interval of the paired "
        "difference lies on the paper's side of zero. Reproduced: every check holds; partly: some do; not "
        "reproduced: none does.",
        "",
        *_durations(findings),
        "| claim | verdict | why |",
        "|---|---|---|",
    ]
    for outcome in findings.claims:
        lines.append(f"| {outcome.claim.number}. {outcome.claim.title} | **{outcome.verdict}** | {outcome.reason} |")
    lines += ["", *_models_table(findings)]
    for outcome in findings.claims:
        claim = outcome.claim
        name = f"claim{claim.number}.png"
        drawn = draw_figure(claim, findings, figure_dir / name)
        lines += [
            *heading(claim),
            f"**Here.** {claim.setup}",
            "",
        ]
        if drawn:
            lines += [f"![claim {claim.number}]({figure_prefix}/{name})", ""]
        lines += _check_table(outcome)
        lines += _rows_table(claim, findings)
        lines += ["", f"**Verdict: {outcome.verdict}.** {outcome.reason}", ""]
    lines += _deciding_budget(findings)
    lines += ["## Runs", "", *[f"- seed {s}: `{p}`" for s, p in zip(findings.seeds, findings.runs)], ""]
    return "\n".join(lines)


def write(findings: Findings, output: Path, header=()):
    """Write output (markdown) and its figures into <output's folder>/<output's stem>/."""
    output = Path(output)
    figure_dir = output.parent / output.stem
    strong = output.parent / "findings_vit_long.md"  # vitlab.findings.long_vit, when it has been run
    if strong.exists():
        header = [
            *header,
            "The zoo's ViTs are budget-bound (about 0.6 top-1). Every check that involves the "
            f"plain ViT is re-measured with a ViT trained to 0.95 (`zoo:vit_long`, one seed) in "
            f"[{strong.name}]({strong.name}) (`vitlab findings long`).",
            "",
        ]
    text = render(findings, figure_dir, output.stem, header)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    return output

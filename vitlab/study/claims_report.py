"""The paper's claims (vitlab.findings.claims) re-tested on the study's cells, under the paper's
condition and under the two same-recipe pairs that separate architecture from recipe.

The claims name roles (vit, resnet, deit_shape, ...). The paper's condition fills them with the
ViT trained with DeiT's recipe and the ResNet trained with the basic one; the two controls fill
`vit` and `resnet` with cells trained with one recipe each. A ViT-vs-ResNet check whose
difference lies on the paper's side under both same-recipe pairs reads as an architecture
effect; on the paper's side under the paper's condition only, as a recipe effect.
Seeds are aggregated by vitlab.findings.aggregate (mean, 95% t-interval, verdict).
"""

import math
from pathlib import Path

from vitlab.findings import aggregate, metrics
from vitlab.findings.claims import heading
from vitlab.study import claims, design, runner

ROLES = {  # the claims' roles -> the cell that plays each under the paper's condition
    "vit": "vit_deit",
    "resnet": "resnet_basic",
    "vit_nopos": "vit_nopos",
    "deit_shape": "deit_shape",
    "deit_tex": "deit_tex",
    "deit_sin": "deit_sin",
    "resnet_sin": "resnet_sin",
}
CONDITIONS = {  # the columns of every check: who plays `vit` and `resnet`
    "paper": ROLES,  # the paper's comparison: ViT + deit vs ResNet + basic
    "basic": {**ROLES, "vit": "vit_basic", "resnet": "resnet_basic"},
    "deit": {**ROLES, "vit": "vit_deit", "resnet": "resnet_deit"},
    "x4": {**ROLES, "vit": "vit_deit_x4", "resnet": "resnet_basic_x4"},  # the paper's, at 4x the budget
}
ARCHITECTURE_ROLES = ("vit", "resnet")


def run_of(seed, cell, packs=None):
    """The cell's finished claims run: the cache's, else its pack's; None when there is none."""
    folders = [runner.cell_dir(seed, cell)] + ([Path(packs) / f"seed-{seed}" / cell] if packs else [])
    return next((f / claims.RUN for f in folders if claims.is_done(f / claims.RUN)), None)


def cell_measurements(seed, packs=None, names=None):
    """(scalars, curves, {cell: run}) of one seed, keyed by cell name, over its measured cells."""
    from vitlab.results import Run

    scalars, curves, runs = {}, {}, {}
    for cell in names or design.CELLS:
        run = run_of(seed, cell, packs)
        if run is None:
            continue
        measured = Run(run)
        more_scalars, more_curves = metrics.measure(measured.results(), measured.read_info())
        scalars.update(more_scalars)
        curves.update(more_curves)
        runs[cell] = run
    return scalars, curves, runs


def cast(values, mapping):
    """The measurements of the mapping's cells renamed to the roles they play."""
    out = {}
    for role, cell in mapping.items():
        for key, value in values.items():
            parts = key.split("/")
            if cell in parts:
                out["/".join(role if part == cell else part for part in parts)] = value
    return out


def against_resnet(values):
    """mCE of every role relative to the ResNet that plays `resnet` (CE per corruption, its errors
    summed over severities over the ResNet's, averaged), so a same-recipe pair compares the ViT with
    its own ResNet; under the paper's comparison that is the measured mCE (resnet_basic is every
    cell's baseline)."""
    prefix = "corruption/error_sum_"
    base = {
        key.split("/")[1]: value for key, value in values.items() if key.startswith(prefix) and key.endswith("/resnet")
    }
    if not base or any(v <= 0 for v in base.values()):  # no ResNet of this pair: no mCE against it
        return {key: value for key, value in values.items() if not key.startswith("corruption/mce/")}
    out = dict(values)
    roles = {key.rsplit("/", 1)[1] for key in values if key.startswith(prefix)}
    for role in roles:
        ratios = [values.get(f"corruption/{part}/{role}", math.nan) / total for part, total in base.items()]
        out[f"corruption/mce/{role}"] = sum(ratios) / len(ratios)
    return out


def evaluate(seeds, packs=None):
    """{condition: Findings} over the seeds that measured any cell, and {seed: {cell: run}}."""
    measured = {seed: cell_measurements(seed, packs) for seed in seeds}
    measured = {seed: m for seed, m in measured.items() if m[2]}
    results = {}
    for condition, mapping in CONDITIONS.items():
        runs = [
            aggregate.SeedRun(
                seed, str(runner.root() / f"seed-{seed}"), against_resnet(cast(s, mapping)), cast(c, mapping)
            )
            for seed, (s, c, _) in measured.items()
        ]
        results[condition] = aggregate.evaluate(runs) if runs else None
    return results, {seed: m[2] for seed, m in measured.items()}, {seed: m[0] for seed, m in measured.items()}


def involves_architecture(check):
    """Whether a check compares the ViT with the ResNet: both roles in it, or the ViT's mCE (which is
    relative to the ResNet) against a constant."""
    keys = [check.left, check.right] if isinstance(check.right, str) else [check.left]
    roles = {part for key in keys for part in key.split("/")}
    return set(ARCHITECTURE_ROLES) <= roles or check.left == "corruption/mce/vit"


def on_side(outcome):
    """Whether a check's difference lies on the paper's side: its 95% interval once there are three
    seeds (status `holds`), the sign of its mean before; None when it was not measured."""
    if outcome is None or outcome.difference.n == 0:
        return None
    if outcome.difference.has_interval:
        return outcome.status == "holds"
    return outcome.difference.mean > 0


def reading(paper, basic, deit):
    """What a ViT-vs-ResNet check says from whether it lies on the paper's side (on_side) under the
    paper's comparison and the two same-recipe pairs."""
    if None in (paper, basic, deit):
        return "not all measured"
    if basic and deit:
        return "architecture"
    if paper and not basic and not deit:
        return "recipe"
    if not (paper or basic or deit):
        return "neither"
    return "mixed"


def _cell(outcome):
    if outcome is None or outcome.difference.n == 0:
        return "n/a"
    d = outcome.difference
    interval = f" [{d.low:+.3f}, {d.high:+.3f}]" if d.has_interval else ""
    return f"{d.mean:+.3f}{interval}"


def _models(seeds_scalars):
    rows = []
    for cell in design.CELLS:
        clean = [s.get(f"clean/{cell}") for s in seeds_scalars.values() if f"clean/{cell}" in s]
        if clean:
            rows.append(f"| {cell} | {design.CELLS[cell].group} | {', '.join(f'{v:.3f}' for v in clean)} |")
    if not rows:
        return []
    return [
        "## Models",
        "",
        "Clean top-1 of each cell's final model on the occlusion step's 1,000 test images, one value a seed.",
        "",
        "| cell | group | clean top-1 |",
        "|---|---|---|",
        *rows,
        "",
    ]


def markdown(results, runs, seeds_scalars, command):
    paper = results["paper"]
    lines = [
        "# The paper's claims on the study's models",
        "",
        f"Generated by `{command}` (vitlab/study/claims_report.py); do not edit by hand. Each cell's "
        "final model is measured once by `vitlab study claims` (occlusion, correlation, shuffle, "
        "shape bias, tokens, segmentation, corruptions, PGD, probes on objects64 and Fashion-MNIST).",
        "",
    ]
    if paper is None:
        return "\n".join([*lines, "No cell has been measured yet: run `vitlab study claims --seeds 0`.", ""])
    measured = ", ".join(f"seed {seed}: {', '.join(cells)}" for seed, cells in runs.items())
    lines += [
        f"Measured cells: {measured}. A difference is signed so that the paper's side is positive; "
        f"with fewer than 3 seeds there are no intervals and each claim is inconclusive.",
        "",
        "Columns: the paper's comparison (the ViT with DeiT's recipe against the ResNet with the basic "
        "one), the two same-recipe pairs, and the paper's comparison again with both trained 4x as "
        "long. A ViT-vs-ResNet difference on the paper's side under both same-recipe pairs reads as "
        "an architecture effect; on it under the paper's comparison only, as a recipe effect (by the "
        "sign of the mean with fewer than 3 seeds, by the 95% interval from 3 on).",
        "",
        *_models(seeds_scalars),
        "| claim | verdict (paper's comparison) | why |",
        "|---|---|---|",
    ]
    for outcome in paper.claims:
        lines.append(f"| {outcome.claim.number}. {outcome.claim.title} | **{outcome.verdict}** | {outcome.reason} |")
    lines.append("")
    for index, outcome in enumerate(paper.claims):
        claim = outcome.claim
        lines += [
            *heading(claim),
            "| check | paper's comparison | both basic | both deit | reading | status | paper's comparison, 4x budget |",
            "|---|---|---|---|---|---|---|",
        ]
        for c, check_outcome in enumerate(outcome.checks):
            others = [
                results[name].claims[index].checks[c] if results[name] else None for name in ("basic", "deit", "x4")
            ]
            if involves_architecture(check_outcome.check):
                same = [_cell(o) for o in others]
                read = reading(*[on_side(o) for o in (check_outcome, *others[:2])])
            else:
                same, read = ["-", "-", "-"], "-"
            lines.append(
                f"| {check_outcome.check.label} | {_cell(check_outcome)} | {same[0]} | {same[1]} | {read} | "
                f"{check_outcome.status} | {same[2]} |"
            )
        lines.append("")
    return "\n".join(lines)


def write(seeds, output, packs=None, command="vitlab study findings"):
    results, runs, seeds_scalars = evaluate(seeds, packs)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(markdown(results, runs, seeds_scalars, command))
    return output

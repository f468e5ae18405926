"""The strong-ViT re-test (vitlab.findings.long_vit): which checks it re-measures, their signs
against hand-computed values, and its recipe naming the shipped models."""

import math

import numpy as np
import pytest

from vitlab import zoo
from vitlab.findings import long_vit
from vitlab.findings.claims import Check
from vitlab.findings.metrics import SeedCurve


def test_swap_replaces_whole_segments_only():
    mapping = {"vit": "vit_long", "deit_sin": "deit_sin_long"}
    assert long_vit.swap("occlusion/random/relative_50/vit", mapping) == "occlusion/random/relative_50/vit_long"
    assert long_vit.swap("shuffle/relative_mean/vit_nopos", mapping) == "shuffle/relative_mean/vit_nopos"
    assert long_vit.swap("shape_bias/deit_sin", mapping) == "shape_bias/deit_sin_long"
    assert long_vit.swap("shape_bias/deit_shape/dist", mapping) == "shape_bias/deit_shape/dist"


def test_only_checks_naming_a_role_with_a_measured_long_model_are_remeasured():
    only_vit = {"clean/vit_long": 0.95}
    labels = {check.label for _, check, _, _ in long_vit.rows(only_vit)}
    assert "ViT vs ResNet, random drop at 50% (relative accuracy)" in labels
    assert "ViT without positions vs ViT, mean over grids" in labels  # the ViT on the right
    assert "DeiT (shape) vs ResNet, random drop at 50%" not in labels
    assert "ViT without positions keeps >= 90% of its accuracy (mean over grids)" not in labels
    # by hand: claims 1: 4, 2: 2, 3: 2, 4: 2, 6: 1, 7: 2, 8: 2
    assert len(labels) == 15
    every = {"clean/vit_long": 0.95, "shuffle/relative_mean/vit_nopos_long": 0.9, "shape_bias/deit_sin_long": 0.9}
    labels = {check.label for _, check, _, _ in long_vit.rows(every)}
    assert len(labels) == 16 and "ViT without positions keeps >= 90% of its accuracy (mean over grids)" in labels
    assert long_vit.rows({}) == []


def test_differences_are_signed_to_the_papers_side():
    scalars = {
        "occlusion/random/relative_50/vit": 0.30,
        "occlusion/random/relative_50/vit_long": 0.80,
        "occlusion/random/relative_50/resnet": 0.55,
        "corruption/mce/vit": 1.20,
        "corruption/mce/vit_long": 0.70,
        "shape_bias/deit_sin": 0.8,
        "shape_bias/deit_sin_long": 0.85,
        "shape_bias/vit": 0.4,
        "shape_bias/vit_long": 0.9,
    }
    long = {"vit": "vit_long", "deit_sin": "deit_sin_long"}
    above = Check("x", "occlusion/random/relative_50/vit", "occlusion/random/relative_50/resnet", ">")
    below = Check("y", "corruption/mce/vit", 1.0, "<")
    both = Check("z", "shape_bias/deit_sin", "shape_bias/vit", ">")
    assert long_vit.difference(above, scalars, {}) == pytest.approx(-0.25)
    assert long_vit.difference(above, scalars, long) == pytest.approx(0.25)
    assert long_vit.difference(below, scalars, {}) == pytest.approx(-0.20)  # mCE 1.2 is on the wrong side
    assert long_vit.difference(below, scalars, long) == pytest.approx(0.30)
    assert long_vit.difference(both, scalars, {}) == pytest.approx(0.40)
    assert long_vit.difference(both, scalars, long) == pytest.approx(-0.05)  # both sides swapped
    assert math.isnan(long_vit.difference(above, {}, long))


def test_render_shows_both_columns_and_the_three_seed_status():
    label = "ViT vs ResNet, random drop at 50% (relative accuracy)"
    scalars = {
        "occlusion/random/relative_50/vit": 0.30,
        "occlusion/random/relative_50/vit_long": 0.80,
        "occlusion/random/relative_50/resnet": 0.55,
        "clean/vit_long": 0.95,
        "clean/vit": 0.62,
        "clean/resnet": 0.91,
    }
    curves = {
        f"occlusion/random/{m}": SeedCurve([0.0, 0.5], np.array([c, c / 2]))
        for m, c in (("vit_long", 0.95), ("vit", 0.62), ("resnet", 0.91))
    }
    text = long_vit.render(scalars, curves, {label: "contradicted"})
    row = next(line for line in text.splitlines() if label in line)
    assert "-0.250 (no)" in row and "+0.250 (yes)" in row and "contradicted" in row
    assert "| vit_long | 0.950 | 0.475 |" in text  # the PatchDrop table, top-1 at 0 and 0.5
    assert "`vit_long` for `vit`" in text and "deit_sin_long" not in text


def test_recipe_evaluates_the_shipped_strong_vit_beside_the_zoo_vit():
    from vitlab.training import recipe as recipe_lib

    loaded = recipe_lib.load(long_vit.RECIPE, check_data=False)
    for step in loaded.evaluate:
        named = {zoo.parse(m)[0] for m in step.fields.models}
        assert named & set(long_vit.LONG.values()), step.name  # each step measures a long model
        assert "vit_long" in named or step.fields.experiment == "token-similarity"  # which needs two tokens, a DeiT
        for role, long in long_vit.LONG.items():  # a shipped long model is evaluated beside its role
            if role in named and long in zoo.EXTRAS:
                assert long in named, (step.name, long)
    assert zoo.parse("zoo:vit_long") == ("vit_long", 0)
    with pytest.raises(Exception, match="seed 0 only"):
        zoo.parse("zoo:vit_long@1")


@pytest.mark.slow
def test_findings_long_smoke_writes_the_report(tmp_path):
    """`vitlab findings long --smoke` end to end on the shipped zoo: one run, nothing trained,
    every check of claims 1 and 7 measured for both sets of models."""
    import json

    from helpers import run_cli_process

    output = tmp_path / "long.md"
    done = run_cli_process(
        "findings",
        "long",
        "--smoke",
        "--quiet",
        "--runs",
        tmp_path / "runs",
        "--study",
        tmp_path / "none",
        "-o",
        output,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    info = json.loads((tmp_path / "runs" / "seed-0" / "run.json").read_text())
    assert info["status"] == "done" and not info.get("training")
    rows = [line for line in output.read_text().splitlines() if line.startswith("| 1 |") or line.startswith("| 7 |")]
    assert len(rows) == 7  # claim 1's four ViT checks and one DeiT (shape) check, claim 7's two
    for row in rows:
        weak, strong = [cell.strip() for cell in row.split("|")[3:5]]
        assert weak != "n/a" and strong != "n/a", row

"""The paper's claims on the study's cells: which experiments each cell gets, how cells play the
claims' roles under the paper's comparison and the same-recipe pairs, and what a check reads as."""

import json

import pytest

from vitlab.study import claims, claims_report, design


def _steps(text):
    import tomllib

    return {step["experiment"]: step for step in tomllib.loads(text)["evaluate"]}


def test_each_kind_of_cell_gets_the_experiments_that_apply_to_it():
    vit = _steps(claims.recipe_text("vit_deit", 2))
    resnet = _steps(claims.recipe_text("resnet_basic", 2))
    deit = _steps(claims.recipe_text("deit_shape", 2))
    common = {"occlusion", "correlation", "shuffle", "shape-bias", "corruption", "adversarial", "linear-probe"}
    assert set(resnet) == common
    assert set(vit) == common | {"segmentation"}
    assert set(deit) == common | {"segmentation", "token-similarity"}
    # every cell's mCE is relative to the seed's resnet_basic; the baseline's own run names itself
    assert vit["corruption"]["set"]["baseline"] == "study:resnet_basic@2"
    assert resnet["corruption"]["set"]["baseline"] == "resnet_basic"
    assert vit["occlusion"]["set"]["grid"] == "8x8" and vit["shape-bias"]["dataset"] == "objects64:cue_conflict"
    assert vit["occlusion"]["models"] == ["study:vit_deit@2"]


def test_every_cell_s_claims_recipe_is_valid(tmp_path):
    from vitlab.training import recipe as recipe_lib

    for name in design.CELLS:
        path = tmp_path / f"{name}.toml"
        path.write_text(claims.recipe_text(name, 1))
        loaded = recipe_lib.load(str(path), [], check_data=False)
        assert loaded.top.seed == 1 and not loaded.train and loaded.evaluate


def test_a_cell_without_its_final_model_or_baseline_is_refused(monkeypatch, tmp_path):
    from vitlab.errors import UserError

    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path))
    with pytest.raises(UserError, match="vit_deit .*no final model.*--cells vit_deit"):
        claims.measure_cell(0, "vit_deit")
    final = tmp_path / "study" / "seed-0" / "vit_deit" / "models" / "vit_deit.keras"
    final.parent.mkdir(parents=True)
    final.write_bytes(b"")
    with pytest.raises(UserError, match="resnet_basic .*no final model"):
        claims.measure_cell(0, "vit_deit")
    assert claims.cells_ready(0) == ["vit_deit"]


def test_cells_are_cast_in_the_roles_they_play():
    measured = {
        "occlusion/random/relative_50/vit_deit": 0.5,
        "occlusion/random/relative_50/vit_basic": 0.2,
        "occlusion/random/relative_50/resnet_basic": 0.1,
        "shape_bias/deit_shape/dist": 0.7,
        "corruption/mce/baseline:resnet_basic": 1.0,
    }
    paper = claims_report.cast(measured, claims_report.CONDITIONS["paper"])
    assert paper == {
        "occlusion/random/relative_50/vit": 0.5,
        "occlusion/random/relative_50/resnet": 0.1,
        "shape_bias/deit_shape/dist": 0.7,
    }
    basic = claims_report.cast(measured, claims_report.CONDITIONS["basic"])
    assert basic["occlusion/random/relative_50/vit"] == 0.2


@pytest.mark.parametrize(
    ("paper", "basic", "deit", "expected"),
    [
        (True, True, True, "architecture"),
        (False, True, True, "architecture"),
        (True, False, False, "recipe"),
        (False, False, False, "neither"),
        (True, True, False, "mixed"),
        (True, None, True, "not all measured"),
    ],
)
def test_a_check_reads_as_architecture_recipe_or_neither(paper, basic, deit, expected):
    assert claims_report.reading(paper, basic, deit) == expected


def test_a_difference_is_on_the_paper_s_side_by_its_interval_once_there_are_three_seeds():
    from vitlab.findings import aggregate
    from vitlab.findings.claims import Check

    check = Check("x", "a/vit", "a/resnet")

    def outcome(differences):
        runs = [aggregate.SeedRun(i, "", {"a/vit": d, "a/resnet": 0.0}, {}) for i, d in enumerate(differences)]
        return aggregate.evaluate_check(check, runs)

    assert claims_report.on_side(outcome([0.2])) is True  # one seed: the sign
    assert claims_report.on_side(outcome([0.3, 0.31, 0.29])) is True  # interval above zero
    assert claims_report.on_side(outcome([0.5, -0.4, 0.3])) is False  # mean > 0, interval spans zero
    assert claims_report.on_side(outcome([])) is None


def test_the_report_gives_each_check_under_the_three_comparisons(monkeypatch):
    """Two seeds of the 2x2, hand-made: the ViT-vs-ResNet random-drop check is +0.4 under the paper's
    comparison and +0.3 / +0.2 under the same-recipe pairs (an architecture effect)."""
    seed = {
        "occlusion/random/relative_50/vit_deit": 0.5,
        "occlusion/random/relative_50/resnet_basic": 0.1,
        "occlusion/random/relative_50/vit_basic": 0.4,
        "occlusion/random/relative_50/resnet_deit": 0.3,
        "clean/vit_deit": 0.9,
        "clean/resnet_basic": 0.95,
    }
    cells = {"vit_deit": "run", "resnet_basic": "run", "vit_basic": "run", "resnet_deit": "run"}
    monkeypatch.setattr(claims_report, "cell_measurements", lambda s, packs=None: (seed, {}, cells))
    results, runs, scalars = claims_report.evaluate([0, 1])
    text = claims_report.markdown(results, runs, scalars, "vitlab study findings --seeds 0,1")
    row = next(line for line in text.splitlines() if line.startswith("| ViT vs ResNet, random drop at 50%"))
    assert row.split(" | ")[1:5] == ["+0.400", "+0.300", "+0.200", "architecture"]
    assert row.split(" | ")[6] == "n/a |"  # the 4x budget's cells are not measured
    assert "| vit_deit | 2x2 | 0.900, 0.900 |" in text
    # a check between roles other than vit and resnet has no same-recipe columns
    shape = next(line for line in text.splitlines() if line.startswith("| shape token vs class token"))
    assert shape.split(" | ")[2:5] == ["-", "-", "-"] and shape.endswith("| - |")


def test_no_measured_cell_says_what_to_run(monkeypatch):
    monkeypatch.setattr(claims_report, "cell_measurements", lambda s, packs=None: ({}, {}, {}))
    results, runs, scalars = claims_report.evaluate([0])
    assert "vitlab study claims --seeds 0" in claims_report.markdown(results, runs, scalars, "c")


def test_a_finished_claims_run_travels_in_the_pack(monkeypatch, tmp_path):
    from vitlab.study import runner

    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path / "cache"))
    cell = runner.cell_dir(0, "resnet_basic")
    (cell / "models").mkdir(parents=True)
    (cell / "models" / "resnet_basic.keras").write_bytes(b"model")
    (cell / "run.json").write_text(json.dumps({"status": "done"}))
    (cell / "claims").mkdir()
    (cell / "claims" / "results.h5").write_bytes(b"results")
    (cell / "claims" / "run.json").write_text(json.dumps({"status": "running", "out": str(cell)}))
    runner.pack("resnet_basic", 0, tmp_path / "packs")
    packed = tmp_path / "packs" / "seed-0" / "resnet_basic"
    assert not (packed / "claims").exists()  # an unfinished run stays behind
    (cell / "claims" / "run.json").write_text(json.dumps({"status": "done", "out": str(cell)}))
    runner.pack("resnet_basic", 0, tmp_path / "packs")
    assert (packed / "claims" / "results.h5").read_bytes() == b"results"
    assert str(tmp_path) not in (packed / "claims" / "run.json").read_text()  # no machine's path
    assert claims_report.run_of(0, "resnet_basic", tmp_path / "packs") == cell / "claims"
    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path / "other"))  # a new machine reads the pack
    assert claims_report.run_of(0, "resnet_basic", tmp_path / "packs") == packed / "claims"
    runner.unpack("resnet_basic", 0, tmp_path / "packs")
    restored = runner.cell_dir(0, "resnet_basic") / "claims" / "run.json"
    assert json.loads(restored.read_text())["out"] == str(runner.cell_dir(0, "resnet_basic"))


def test_claims_measure_each_ready_cell_once_and_skip_a_seed_without_its_baseline(capsys, monkeypatch, tmp_path):
    from helpers import run_cli

    from vitlab.study import runner

    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path))
    measured = []

    def measure(seed, name, smoke=False, quiet=False):
        measured.append((seed, name))
        claims.run_dir(seed, name).mkdir(parents=True)
        (claims.run_dir(seed, name) / "run.json").write_text(json.dumps({"status": "done"}))
        return claims.run_dir(seed, name)

    monkeypatch.setattr(claims, "measure_cell", measure)
    for seed, cell in ((0, "vit_deit"), (0, "resnet_basic"), (1, "vit_deit")):
        runner.model_file(seed, cell).parent.mkdir(parents=True)
        runner.model_file(seed, cell).write_bytes(b"")
    code, out, err = run_cli(capsys, "study", "claims", "--seeds", "0,1")
    assert code == 0, err
    assert measured == [(0, "vit_deit"), (0, "resnet_basic")]
    assert "seed 1: nothing measured: resnet_basic" in out
    code, out, _ = run_cli(capsys, "study", "claims", "--seeds", "0")
    assert code == 0 and len(measured) == 2 and out.count("measured already") == 2


def test_each_pair_s_mce_is_against_its_own_resnet():
    """CE per corruption is the model's errors (summed over severities) over the ResNet's; mCE their mean."""
    values = {
        "corruption/error_sum_0/vit": 0.6,
        "corruption/error_sum_1/vit": 0.2,
        "corruption/error_sum_0/resnet": 0.3,
        "corruption/error_sum_1/resnet": 0.4,
        "corruption/mce/vit": 9.0,  # measured against another baseline: replaced
    }
    out = claims_report.against_resnet(values)
    assert out["corruption/mce/vit"] == pytest.approx((0.6 / 0.3 + 0.2 / 0.4) / 2) and out["corruption/mce/resnet"] == 1
    alone = claims_report.against_resnet({"corruption/error_sum_0/vit": 0.6, "corruption/mce/vit": 9.0})
    assert "corruption/mce/vit" not in alone  # no ResNet in this pair: no mCE against it


def test_only_vit_against_resnet_checks_are_read_as_architecture_or_recipe():
    from vitlab.findings.claims import CLAIMS

    checks = {check.label: check for claim in CLAIMS for check in claim.checks}
    assert claims_report.involves_architecture(checks["ViT vs ResNet, random drop at 50% (relative accuracy)"])
    assert claims_report.involves_architecture(checks["ViT mCE below the ResNet's 1.0"])
    assert not claims_report.involves_architecture(checks["ViT: last-4 concatenation vs last block"])
    assert not claims_report.involves_architecture(checks["ViT without positions vs ViT, mean over grids"])

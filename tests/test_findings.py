"""Findings: statistics, metric extraction, check/verdict rules and the report, on synthetic Results."""

import math

import numpy as np
import pytest
from helpers import run_cli

from vitlab.commands.arguments import parse_seeds
from vitlab.errors import UserError
from vitlab.findings import aggregate, metrics, stats, write
from vitlab.findings.claims import CLAIMS, Check, Claim
from vitlab.results import RunStore
from vitlab.results.result import Result


def test_estimate_is_the_student_t_interval():
    estimate = stats.estimate([1.0, 2.0, 3.0])
    half = 4.302652729911275 / math.sqrt(3)  # t(0.975, df=2) * sd 1 / sqrt(3)
    assert estimate.mean == pytest.approx(2.0)
    assert (estimate.low, estimate.high) == pytest.approx((2.0 - half, 2.0 + half))
    assert estimate.n == 3 and estimate.has_interval and not estimate.excludes_zero()
    assert estimate.sd == pytest.approx(1.0)  # sample sd of 1, 2, 3


def test_estimate_needs_three_finite_seeds_for_an_interval():
    two = stats.estimate([0.5, 0.7, float("nan")])
    assert two.mean == pytest.approx(0.6) and two.n == 2 and not two.has_interval
    assert two.format() == "0.600"
    assert two.sd == pytest.approx(0.1414, abs=1e-4)  # sd needs two values, not three
    assert math.isnan(stats.estimate([0.5]).sd)
    assert math.isnan(stats.estimate([]).mean)


def test_seeds_to_decide_is_the_smallest_count_whose_interval_excludes_zero():
    # mean 0.02, sd 0.03: t(10) 0.03 / sqrt(11) = 0.0202 > 0.02, t(11) 0.03 / sqrt(12) = 0.0191 < 0.02
    assert stats.seeds_to_decide([0.02, 0.05, -0.01]) == 12
    assert stats.seeds_to_decide([0.1, 0.1, 0.1]) == 3  # no spread: decided already
    assert stats.seeds_to_decide([0.01, -0.01, 0.0]) is None  # zero mean
    assert stats.seeds_to_decide([0.001, 0.05, -0.045]) is None  # beyond 50 seeds
    assert stats.seeds_to_decide([0.1, 0.2]) is None  # no spread estimate yet


def _seed(seed, **scalars):
    return aggregate.SeedRun(seed, f"run{seed}", scalars, {})


def _claim(*checks):
    return Claim(99, "t", "s", "p", "here", tuple(checks))


def test_check_status_follows_the_paired_interval():
    runs = [_seed(0, a=0.8, b=0.5, c=0.50), _seed(1, a=0.7, b=0.5, c=0.52), _seed(2, a=0.9, b=0.6, c=0.49)]
    holds = aggregate.evaluate_check(Check("a>b", "a", "b"), runs)
    assert holds.status == "holds" and holds.difference.mean == pytest.approx(0.2667, abs=1e-4)
    assert aggregate.evaluate_check(Check("b>a", "b", "a"), runs).status == "contradicted"
    assert aggregate.evaluate_check(Check("a<b", "a", "b", "<"), runs).status == "contradicted"
    assert aggregate.evaluate_check(Check("c>0.5", "c", 0.5), runs).status == "unclear"  # diffs 0, .02, -.01
    assert aggregate.evaluate_check(Check("b<1", "b", 1.0, "<"), runs).status == "holds"
    assert aggregate.evaluate_check(Check("missing", "zzz", "a"), runs).status == "untested"


def test_verdicts():
    runs = [_seed(s, a=0.8 + 0.01 * s, b=0.5, c=0.5 + 0.01 * (-1) ** s) for s in range(3)]
    reproduced = aggregate.evaluate(runs, [_claim(Check("a>b", "a", "b"), Check("a>c", "a", "c"))]).claims[0]
    assert reproduced.verdict == "reproduced" and "all 2 checks hold" in reproduced.reason
    partly = aggregate.evaluate(runs, [_claim(Check("a>b", "a", "b"), Check("c>b", "c", "b"))]).claims[0]
    assert partly.verdict == "partly" and "'c>b'" in partly.reason
    against = aggregate.evaluate(runs, [_claim(Check("b>a", "b", "a"))]).claims[0]
    assert against.verdict == "not reproduced" and "other way" in against.reason
    unclear = aggregate.evaluate(runs, [_claim(Check("c>b", "c", "b"))]).claims[0]
    assert unclear.verdict == "not reproduced" and "excludes zero" in unclear.reason
    assert "about 49 seeds would decide it" in unclear.reason  # diffs +.01, -.01, +.01: mean .0033, sd .0115
    untested = aggregate.evaluate(runs, [_claim(Check("x", "x", "y"))]).claims[0]
    assert untested.verdict == "not tested"
    one_seed = aggregate.evaluate(runs[:1], [_claim(Check("a>b", "a", "b"))]).claims[0]
    assert one_seed.verdict == "inconclusive" and "1 of 1" in one_seed.reason
    # Two seeds: still no interval, but whether every seed points the paper's way is said
    two_seeds = aggregate.evaluate(runs[:2], [_claim(Check("a>b", "a", "b"), Check("c>.495", "c", 0.495))]).claims[0]
    assert two_seeds.verdict == "inconclusive"
    assert "2 of 2 differences point the paper's way on average, 1 in every seed" in two_seeds.reason
    assert two_seeds.checks[0].per_seed == pytest.approx((0.3, 0.31))
    assert two_seeds.checks[1].per_seed == pytest.approx((0.015, -0.005))  # c: 0.51, 0.49


def _occlusion(clean_vit, clean_resnet, scale):
    levels = np.array([0.0, 0.5, 0.9], dtype="float32")
    top1 = np.array([[clean_vit, 0.6 * clean_vit * scale, 0.2], [clean_resnet, 0.2 * clean_resnet, 0.1]])
    arrays = {f"{mode}/levels": levels for mode in ("random", "mask_salient", "mask_non_salient")}
    arrays.update({f"{mode}/top1_mean": top1 for mode in ("random", "mask_salient", "mask_non_salient")})
    return Result("occlusion", {}, ["vit", "resnet"], arrays=arrays)


def _shuffle():
    return Result(
        "shuffle",
        {},
        ["vit", "vit_nopos", "resnet"],
        arrays={
            "grids": np.array(["none", "2x2", "8x8"]),
            "cells": np.array([1, 4, 64]),
            "top1_mean": np.array([[0.8, 0.6, 0.4], [0.7, 0.7, 0.7], [0.9, 0.3, 0.1]]),
        },
    )


def test_occlusion_and_shuffle_measurements_are_relative_to_clean():
    scalars, curves = metrics.occlusion({"occlusion": _occlusion(0.8, 0.9, 1.0)})
    # retained above chance (0.1): (0.48 - 0.1) / (0.8 - 0.1), (0.18 - 0.1) / (0.9 - 0.1)
    assert scalars["occlusion/random/relative_50/vit"] == pytest.approx(0.38 / 0.7)
    assert scalars["occlusion/random/relative_50/resnet"] == pytest.approx(0.1)
    assert scalars["occlusion/mask_salient/relative_mean/vit"] == pytest.approx((0.38 / 0.7 + 0.1 / 0.7) / 2)
    assert scalars["clean/resnet"] == pytest.approx(0.9)
    assert curves["occlusion/random/vit"].x == pytest.approx([0.0, 0.5, 0.9])
    scalars, curves = metrics.shuffle({"shuffle": _shuffle()})
    assert scalars["shuffle/relative_mean/vit_nopos"] == pytest.approx(1.0)
    assert scalars["shuffle/relative_8x8/vit"] == pytest.approx(0.3 / 0.7)
    assert curves["shuffle/resnet"].ticks == ["none", "2x2", "8x8"]


def test_a_model_near_chance_is_left_out():
    scalars, _ = metrics.occlusion({"occlusion": _occlusion(0.15, 0.9, 1.0)})
    assert math.isnan(scalars["occlusion/random/relative_50/vit"])
    runs = [aggregate.SeedRun(s, "r", scalars, {}) for s in range(3)]
    assert aggregate.evaluate_check(CLAIMS[0].checks[0], runs).status == "untested"


def _store_runs(root, seeds, scales):
    paths = []
    for seed, scale in zip(seeds, scales):
        run = RunStore(root).create(name="findings", kind="recipe", config={}, seed=seed, path=root / f"seed-{seed}")
        run.write_result(_occlusion(0.8, 0.9, scale), key="occlusion")
        run.write_result(_shuffle(), key="shuffle")
        run.update(training={"vit": {"val_accuracy": 0.8, "seconds": 12.0}})
        paths.append(str(run.path))
    return paths


def test_report_from_stored_runs(tmp_path):
    paths = _store_runs(tmp_path / "runs", [0, 1, 2], [1.0, 0.9, 1.1])
    findings = aggregate.evaluate(aggregate.load_runs(paths))
    claim1 = findings.claims[0]
    assert [o.status for o in claim1.checks][:1] == ["holds"]
    assert {o.status for o in claim1.checks[1:2]} == {"untested"}  # deit_shape was not evaluated
    assert claim1.verdict == "reproduced"
    assert findings.claims[4].verdict == "not tested"
    output = write.write(findings, tmp_path / "docs" / "findings.md", header=["head line", ""])
    text = output.read_text()
    assert "| 1. Occlusion" in text and "**reproduced**" in text and "head line" in text
    assert "![claim 1](findings/claim1.png)" in text
    png = tmp_path / "docs" / "findings" / "claim1.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| vit | 0.800 [0.800, 0.800] | 0.800, 0.800, 0.800 | 12 | n/a |" in text
    first = claim1.checks[0]  # its paired difference per seed, beside the mean and interval
    row = next(line for line in text.splitlines() if line.startswith(f"| {first.check.label} |"))
    assert (
        row.endswith(" | " + ", ".join(f"{d:.3f}" for d in first.per_seed) + " | holds |") and len(first.per_seed) == 3
    )


def test_zoo_cards_give_clean_accuracy_and_training_time():
    cards = [
        {
            "role": "vit",
            "clean_accuracy": 0.62,
            "training_seconds": 1506.5,
            "training_cpu_seconds": 2178.3,
            "training_seconds_steady": 900.0,
        }
    ]
    assert metrics.training({"zoo_cards": cards}) == {
        "training/validation/vit": 0.62,
        "training/train_seconds/vit": 1506.5,
        "training/train_cpu_seconds/vit": 2178.3,
        "training/train_steady_seconds/vit": 900.0,
    }


def test_the_report_says_what_would_decide_an_open_check(tmp_path):
    runs = [
        _seed(
            s,
            **{
                "m/a": 0.5 + d,
                "m/b": 0.5,
                "training/train_seconds/vit": 1800.0,
                "training/train_cpu_seconds/vit": 2520.0,
            },
        )
        for s, d in enumerate([0.02, 0.05, -0.01])
    ]
    for run in runs:
        run.info = {"duration_s": 1800.0, "config": {"evaluate": [{"limit": 400}, {"limit": 1000}]}}
    findings = aggregate.evaluate(runs, [_claim(Check("a>b", "m/a", "m/b"))])
    assert findings.claims[0].checks[0].seeds_needed == 12
    text = write.render(findings, tmp_path, "f")
    assert "## What would decide the open checks" in text
    assert "One more seed costs about 1.0 h" in text  # 0.5 h build + 0.5 h evaluation
    assert "0.7 h of CPU time" in text
    assert "seed 0: 30.0 min, seed 1: 30.0 min, seed 2: 30.0 min." in text
    assert "| 99 | a>b | 3 | +0.020 (0.030) | 12 | 9.0 h |" in text
    assert "(0.025 at 400)" in text  # 0.5 / sqrt(400)
    one = aggregate.evaluate(runs[:1], [_claim(Check("a>b", "m/a", "m/b"))])
    assert "2 more seed(s) (2.0 h) give the first intervals" in write.render(one, tmp_path, "f")
    # Cards with the steady pace (a quiet build's time): the cost uses it, and says so
    steady = [
        _seed(
            s,
            **{
                "m/a": 0.5 + d,
                "m/b": 0.5,
                "training/train_seconds/vit": 1800.0,
                "training/train_steady_seconds/vit": 720.0,
            },
        )
        for s, d in enumerate([0.02, 0.05, -0.01])
    ]
    for run in steady:
        run.info = {"duration_s": 1800.0}
    text = write.render(aggregate.evaluate(steady, [_claim(Check("a>b", "m/a", "m/b"))]), tmp_path, "f")
    assert "One more seed costs about 0.7 h" in text and "steady pace" in text  # 0.2 h build + 0.5 h evaluation
    decided = aggregate.evaluate(runs, [_claim(Check("b<1", "m/b", 1.0, "<"))])
    assert "What would decide" not in write.render(decided, tmp_path, "f")


def test_two_runs_of_one_seed_are_refused(tmp_path):
    paths = _store_runs(tmp_path / "a", [0], [1.0]) + _store_runs(tmp_path / "b", [0], [1.0])
    with pytest.raises(UserError, match="same seed"):
        aggregate.load_runs(paths)


def test_cli_errors_are_one_line_and_exit_2(tmp_path, capsys):
    code, _, err = run_cli(capsys, "findings", "report", tmp_path / "nothing", "-o", tmp_path / "f.md")
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "nothing" in err
    assert not (tmp_path / "f.md").exists()
    code, _, err = run_cli(capsys, "findings", "study", "--seeds", "1,1", "--runs", tmp_path)
    assert code == 2 and err == "error: --seeds '1,1': expected distinct integers >= 0 like 0,1,2\n"
    assert parse_seeds("2, 0,1") == [2, 0, 1]
    for text in ("0,x", "", "-1", "1,1"):
        with pytest.raises(UserError, match="--seeds"):
            parse_seeds(text)


def test_an_interrupted_study_says_so_and_exits_130(tmp_path, capsys, monkeypatch):
    from vitlab.findings import study

    def stopped(*args, **kwargs):  # Ctrl-C, or a seed's run that was stopped (vitlab.child_process.run_child)
        raise KeyboardInterrupt

    monkeypatch.setattr(study, "run_study", stopped)
    code, _, err = run_cli(capsys, "findings", "study", "--seeds", "0", "--runs", tmp_path)
    assert code == 130 and err.strip() == "interrupted"


def test_every_claim_is_numbered_and_checked():
    assert [c.number for c in CLAIMS] == list(range(1, 9))
    assert all(c.checks and c.statement and c.paper_number for c in CLAIMS)
    assert all(c.op in (">", "<") for claim in CLAIMS for c in claim.checks)

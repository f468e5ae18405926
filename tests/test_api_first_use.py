"""The Python API and the CLI as a new user meets them: short reprs, the errors importable from
`vitlab` and raised before TensorFlow loads, runs newest first, the zoo listed, eval runs with
metric events, and help that says where it looked and what each option means."""

import json
import os
import subprocess
import sys
import time

import numpy as np
from helpers import run_cli

import vitlab
from vitlab.results import Curve, Result, RunStore


def _big_result(run_path=None):
    return Result(
        "occlusion",
        {"levels": list(range(10))},
        ["vit", "resnet"],
        arrays={"top1": np.zeros((2, 3, 10, 10_000)), "names": np.array(["a"] * 500)},
        curves=[Curve("PatchDrop random", "loss", "top-1", list(range(10)), {"vit": [0.5] * 10})],
        summary={f"top1_random_{i / 10:.2f}/vit": i / 10 for i in range(10)} | {"note/vit": "x" * 500},
        run_path=run_path,
    )


def test_result_repr_is_a_few_lines_with_the_headline_numbers():
    text = repr(_big_result())
    lines = text.splitlines()
    assert lines[0] == "Result occlusion on vit, resnet (in memory)"
    assert lines[1].split() == ["top1_random_0.00/vit", "0.0000"] and lines[8].split()[-1] == "0.7000"
    assert "... 3 more in .summary" in text and "11 summary numbers, 1 curve, 0 tables, 2 arrays" in text
    assert len(lines) == 11 and len(text) < 1000  # the arrays hold 600,000 numbers
    assert "(run runs/x)" in repr(_big_result("runs/x")).splitlines()[0]
    assert str(Result("shuffle", {}, [])).startswith("Result shuffle on no models (in memory)")


def test_run_view_repr_names_the_headline_and_results_print_short(tmp_path):
    run = RunStore(tmp_path).create(name="x", kind="eval", config={})
    run.write_result(_big_result(), key="occlusion")
    view = vitlab.open_run(run.path)
    headline = "occlusion/note/vit=" + "x" * 37 + "..."  # run.json's first summary key, cut short
    assert repr(view) == f"RunView({str(run.path)!r}, status='created', {headline})"
    assert len(str(view.results())) < 1000


def test_eval_results_are_metric_events_too(tmp_path):
    run = RunStore(tmp_path).create(name="x", kind="eval", config={})
    run.write_result(_big_result(), key="occlusion")
    metrics = vitlab.open_run(run.path).events("metric")
    assert [(e["step"], e["name"], e["value"]) for e in metrics] == [
        ("occlusion", f"top1_random_{i / 10:.2f}/vit", i / 10) for i in range(10)
    ]  # the text entry is no metric


def test_runs_are_listed_newest_first_whatever_their_folder_names(tmp_path):
    store = RunStore(tmp_path)
    created = [
        store.create(name=name, kind="eval", config={}, path=tmp_path / folder)
        for name, folder in (("first", "zzz-named-by-hand"), ("second", "20990101-000000-x-aaaaaa"), ("third", "mine"))
    ]  # all within one second: ordered by created_unix
    (tmp_path / "broken").mkdir()
    os.utime(tmp_path / "broken", (time.time() + 60, time.time() + 60))  # unreadable: its folder's time
    assert [run.id for run, _, _ in store.list()] == ["broken", "mine", "20990101-000000-x-aaaaaa", "zzz-named-by-hand"]
    assert [view.id for view in vitlab.list_runs(tmp_path)] == [run.id for run in reversed(created)]


def test_list_models_lists_the_zoo_as_the_cli_does(capsys):
    code, out, _ = run_cli(capsys, "models", "list", "--json")
    assert code == 0
    assert vitlab.list_models() == [row["name"] for row in json.loads(out)]
    zoo = vitlab.list_models("zoo:*")
    assert "zoo:vit" in zoo and zoo == vitlab.list_models(family="zoo")
    assert not any(name.startswith("zoo:") for name in vitlab.list_models(family="vit"))


REFUSALS = """
import sys, time, vitlab
from vitlab import ConfigError, DatasetError, RunStoreError, UserError
from vitlab.cli import main
assert all(issubclass(e, UserError) for e in (ConfigError, DatasetError, RunStoreError))
calls = [dict(model="vit_test"), dict(models=["vit_test"], gridz=["2x2"]), dict(models=["vit_test"], repeats="many"),
         dict(models=["vit_test"], limits=8), dict(models=["vit_tset"]), dict(models=["zoo:nope"]),
         dict(models=["missing.keras"]), dict(models=["vit_test"], dataset="shapez"),
         dict(models=["vit_test"], dataset="shapes:stylised"), dict(experiment="shufle", models=["vit_test"])]
for call in calls:
    try:
        vitlab.evaluate(call.pop("experiment", "shuffle"), **call)
    except UserError as error:
        print(type(error).__name__, "|", error)
for argv in (["eval", "shuffle", "-m", "vit_test", "--set", "gridz=2x2"], ["eval", "shuffle", "-m", "vit_tset"],
             ["eval", "shuffle", "-m", "vit_test", "--dataset", "shapez"]):
    try:
        main(argv)
    except SystemExit as done:
        print("exit", done.code)
print("tensorflow loaded:", "tensorflow" in sys.modules or "keras" in sys.modules)
"""


def test_bad_names_and_options_are_refused_before_tensorflow_loads(tmp_path):
    done = subprocess.run([sys.executable, "-c", REFUSALS], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "tensorflow loaded: False"
    assert lines[:10] == [
        "UserError | evaluate: give the models to evaluate as models=[...] (the argument is models=, not model=)",
        "ConfigError | shuffle: unknown key 'gridz' (did you mean grids?); valid keys: crop_pct, grids, head, "
        "interpolation, repeats, top_k",
        "ConfigError | shuffle: repeats: expected an integer, got 'many'",
        "ConfigError | shuffle: unknown option 'limits'; did you mean the argument limit=?",
        "UserError | unknown model 'vit_tset'; did you mean vit_test?",
        lines[5],
        "UserError | model file missing.keras does not exist",
        lines[7],
        "DatasetError | unknown shapes variant 'stylised' in 'shapes:stylised'; known: default, stylized, cue_conflict",
        lines[9],
    ]
    assert lines[5].startswith("UserError | unknown zoo role 'nope'")
    assert lines[7].startswith("DatasetError | unknown dataset 'shapez'")
    assert lines[9].startswith("UnknownExperimentError | unknown experiment 'shufle'")
    assert lines[10:13] == ["exit 2"] * 3
    assert "error: shuffle: unknown key 'gridz'" in done.stderr and "error: unknown model 'vit_tset'" in done.stderr


def test_precheck_accepts_what_the_full_check_accepts(tiny_dataset):
    from vitlab.experiments import evaluation, precheck

    for name, values, texts in [
        ("occlusion", {"levels": [0, 0.5], "repeats": 1}, ["grid=4x4", "crop_pct=0.9"]),
        ("adversarial", {"epsilons": ["8/255"]}, ["step_size=none"]),
        ("linear-probe", {"blocks": "last"}, ["limit_train=10"]),
        ("token-similarity", {}, []),
    ]:
        assert precheck.check(name.replace("-", "_"), ["vit_test", "zoo:vit"], "shapes", values, texts) == name
        evaluation.options(name, values=values, overrides=texts)  # and the full check agrees
    assert precheck.check("shuffle", [tiny_dataset], tiny_dataset) == "shuffle"  # objects are checked later


def test_every_option_says_what_it_means(capsys):
    from vitlab.experiments import options

    missing = [
        (name, o["name"])
        for name, entry in options.shipped().items()
        for o in entry["options"]
        if len(o.get("help", "")) < 10
    ]
    assert not missing
    code, out, _ = run_cli(capsys, "eval", "shuffle", "--help")
    assert code == 0 and "zoo:ROLE" in out
    assert "grids=2x2,2x4" in out and "shuffle grids RxC" in out and "crop_pct=(the model's)" in out


def test_runs_list_says_where_it_looked_and_how_to_look_elsewhere(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(capsys, "runs", "list")
    assert code == 0
    assert out.strip() == f"no runs in {tmp_path / 'runs'} (no such folder); `--runs DIR` looks in another runs folder"
    (tmp_path / "runs").mkdir()
    assert "(no run folders in it)" in run_cli(capsys, "runs", "list")[1]

"""The public Python API: lazy import, evaluate in memory and into a run, train, open_run."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import vitlab
from vitlab.config import ConfigError
from vitlab.errors import UserError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "python-api.md"


def test_import_is_light_until_a_name_is_used():
    code = (
        "import sys, vitlab; names = vitlab.list_models('vit_*'); vitlab.evaluate; vitlab.RunView; "
        "print(len(names) > 0, 'tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False", "False"]


def test_public_names_have_docstrings_and_the_reference_lists_exactly_them():
    documented = set(re.findall(r"^### `vitlab\.(\w+)", DOCS.read_text(), flags=re.M))
    assert documented == set(vitlab.__all__)
    for name in vitlab.__all__:
        assert (getattr(vitlab, name).__doc__ or "").strip(), name
    with pytest.raises(AttributeError, match="no attribute 'evaluat'"):
        vitlab.evaluat  # noqa: B018


def test_list_models_filters_like_timm():
    deit = vitlab.list_models("deit_*_distilled_*")
    assert deit and all(n.startswith("deit_") and "_distilled_" in n for n in deit)
    assert "deit_small_distilled_patch16_224" in deit
    resnets = vitlab.list_models(family="resnet")
    assert "resnet50" in resnets and not any(n.startswith("vit") for n in resnets)
    registered = [name for name in vitlab.list_models() if not name.startswith("zoo:")]
    assert registered == sorted(registered)
    assert "quickstart" in vitlab.list_recipes() and "occlusion" in vitlab.list_experiments()


def test_create_and_load_model_round_trip(tmp_path):
    model = vitlab.create_model("vit_test", num_classes=3)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = vitlab.load_model(path)
    x = np.random.default_rng(0).random((2, model.image_size, model.image_size, 3), dtype=np.float32)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    with pytest.raises(UserError, match="does not exist"):
        vitlab.load_model(tmp_path / "none.keras")


def test_evaluate_in_memory_matches_the_experiment_arrays(tiny_dataset):
    model = vitlab.create_model("vit_test", num_classes=10, name="mine")
    result = vitlab.evaluate(
        "shuffle", models=[model, "resnet_test"], dataset=tiny_dataset, grids="2x2,4x4", repeats=1
    )  # text is parsed as --set parses it
    assert result.models == ["mine", "resnet_test"] and result.run_path is None
    assert result.config["grids"] == ["2x2", "4x4"]
    frame = result.to_frame(summary=False)
    assert len(frame) == 2 * 3  # two models x (none, 2x2, 4x4)
    for i, name in enumerate(result.models):
        rows = frame[frame.model == name]
        assert rows.x.tolist() == ["none", "2x2", "4x4"]
        np.testing.assert_allclose(rows.value.to_numpy(dtype=float), result.arrays["top1_mean"][i])


@pytest.mark.parametrize(
    "options, message",
    [
        ({"gridz": ["2x2"]}, "shuffle: unknown key 'gridz'"),
        ({"repeats": "many"}, "repeats: expected an integer, got 'many'"),
        ({"repeats": 1.5}, "repeats: expected int, got 1.5"),
    ],
)
def test_evaluate_validates_options_like_set(tiny_dataset, options, message):
    with pytest.raises(ConfigError, match=message):
        vitlab.evaluate("shuffle", models=["vit_test"], dataset=tiny_dataset, **options)


def test_evaluate_refuses_what_is_not_a_model_or_a_stored_array_dataset(tiny_dataset, tmp_path):
    with pytest.raises(UserError, match="int is not a model"):
        vitlab.evaluate("shuffle", models=[3], dataset=tiny_dataset)
    with pytest.raises(UserError, match="needs a dataset name"):
        vitlab.evaluate("shuffle", models=["vit_test"], dataset=tiny_dataset, run_dir=tmp_path / "r")
    with pytest.raises(UserError, match="unknown experiment"):
        vitlab.evaluate("no-such", models=["vit_test"], dataset=tiny_dataset)


def test_evaluate_into_a_run_is_what_the_cli_stores(tmp_path):
    model = vitlab.create_model("vit_test", num_classes=10, name="mine")
    out = tmp_path / "run"
    result = vitlab.evaluate(
        "shuffle",
        models=[model, "resnet_test"],
        dataset="shapes",
        limit=16,
        batch_size=8,
        run_dir=out,
        grids=["2x2"],
        repeats=1,
    )
    run = vitlab.open_run(out)
    assert run.status == "done" and result.run_path == str(out)
    options = run.info["config"]["options"]  # the validated config, as values (never turned back into text)
    assert options["grids"] == ["2x2"] and options["repeats"] == 1
    assert run.info["models"] == ["mine", "resnet_test"]
    assert set(run.models(load=False)) == {"mine"} and (out / "report" / "index.md").exists()
    stored = run.result()
    np.testing.assert_allclose(stored.arrays["top1_mean"], result.arrays["top1_mean"])
    assert [e["kind"] for e in run.events("done")] == ["done"]
    frame = run.to_frame()
    assert set(frame.run) == {run.id} and set(frame.key) == {"shuffle"}
    assert isinstance(run.models()["mine"], type(model))
    assert vitlab.list_runs(tmp_path)[0].id == run.id
    named = vitlab.evaluate(
        "shuffle", models=["vit_test"], dataset="shapes", limit=8, runs_root=tmp_path / "root", grids=["2x2"], repeats=1
    )  # a new run under the root, named as `vitlab eval` names it
    (under,) = vitlab.list_runs(tmp_path / "root")
    assert named.run_path == str(under.path) and "-shuffle-" in under.id
    with pytest.raises(UserError, match="already holds a run"):
        vitlab.evaluate("shuffle", models=[model], dataset="shapes", limit=8, run_dir=out)


def test_open_run_refuses_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(UserError, match="no run.json"):
        vitlab.open_run(tmp_path)
    from vitlab.results import RunStore

    run = vitlab.open_run(RunStore(tmp_path).create(name="x", kind="eval", config={}).path)
    assert run.status == "created" and "status='created'" in repr(run) and run.results() == {}
    with pytest.raises(UserError, match="no results stored yet"):
        run.to_frame()
    (run.path / "run.json").write_text("{")
    assert "unreadable" in repr(run)


@pytest.mark.slow
def test_train_runs_a_recipe_and_returns_its_run(tmp_path):
    recipe = tmp_path / "tiny.toml"
    recipe.write_text(
        'name = "tiny"\n[model]\nname = "vit_test"\n[data]\ndataset = "shapes"\nlimit = 32\n'
        "eval_limit = 16\n[optim]\nepochs = 1\nbatch_size = 16\n"
        '[[evaluate]]\nexperiment = "shuffle"\nmodels = ["final"]\nlimit = 16\n'
    )
    run = vitlab.train(recipe, {"seed": 3}, runs_root=tmp_path / "runs", quiet=True)
    assert run.status == "done" and run.info["seed"] == 3 and run.info["config"]["overrides"] == ["seed=3"]
    assert set(run.models(load=False)) == {"final"} and "shuffle" in run.results()
    with pytest.raises(UserError, match="drop overrides"):
        vitlab.train(None, {"seed": 1}, runs_root=tmp_path / "runs", resume=run.path)


def test_docs_code_blocks_parse_and_name_only_public_functions():
    import ast

    text = DOCS.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 4
    for block in blocks:
        ast.parse(block)
    used = set(re.findall(r"\bvitlab\.(\w+)\(", "\n".join(blocks)))
    assert used and used <= set(vitlab.__all__), used - set(vitlab.__all__)

"""A run's models and headline: what run.json records for a recipe, and what `vitlab runs list`
and the dashboard read back (vitlab.results.run_facts)."""

import json
import textwrap

import pytest
from helpers import run_cli

from vitlab.config import ConfigError
from vitlab.results import RunStore
from vitlab.results.run_facts import headline, models_of, pick_headline
from vitlab.training import plan
from vitlab.training import recipe as recipe_lib

SUMMARY = {
    "adversarial/fgsm@4_255/resnet": 0.11,
    "occlusion/top1_random_0.50/resnet": 0.31,
    "occlusion/top1_random_0.50/vit": 0.81,
    "occlusion/top1_salient_lambda0.5/vit": 0.6,
}

RECIPE = textwrap.dedent("""
    name = "study"
    headline = "occlusion/top1_random_*/vit"

    [[train]]
    name = "brief_vit"
    model = "vit_test"

    [[evaluate]]
    experiment = "occlusion"
    models = ["zoo:vit", "brief_vit", "zoo:resnet"]

    [[evaluate]]
    experiment = "shuffle"
    models = ["zoo:resnet", "resnet_test"]
""")


def test_pick_headline_takes_the_named_key_or_pattern_else_the_first():
    assert pick_headline(SUMMARY) == ("adversarial/fgsm@4_255/resnet", 0.11)
    assert pick_headline(SUMMARY, "occlusion/top1_random_0.50/vit") == ("occlusion/top1_random_0.50/vit", 0.81)
    assert pick_headline(SUMMARY, "occlusion/*/vit") == ("occlusion/top1_random_0.50/vit", 0.81)  # first match
    assert pick_headline(SUMMARY, "occlusion/top1_random_0.75/vit") is None  # named, not written (yet)
    assert pick_headline({}, "x") is None and pick_headline(None) is None


def test_models_of_a_recipe_run_recorded_before_evaluate_models_were_listed():
    info = {
        "kind": "recipe",
        "models": ["brief_vit"],
        "config": {
            "train": [{"name": "brief_vit"}],
            "evaluate": [{"models": ["zoo:vit", "brief_vit"]}, {"models": ["zoo:resnet", "zoo:vit"]}],
        },
    }
    assert models_of(info) == ["brief_vit", "zoo:vit", "zoo:resnet"]
    assert models_of({"kind": "eval", "models": ["a", "b"], "config": {"evaluate": [{"models": ["c"]}]}}) == ["a", "b"]
    assert models_of({"models": "one"}) == ["one"] and models_of({"config": "junk", "kind": "recipe"}) == []
    assert headline({"summary": SUMMARY, "config": {"headline": "occlusion/*salient*"}}) == (
        "occlusion/top1_salient_lambda0.5/vit",
        0.6,
    )


def test_a_recipe_run_records_every_model_and_its_headline(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(RECIPE)
    recipe = recipe_lib.load(path, check_data=False)
    assert recipe.models == ["brief_vit", "zoo:vit", "zoo:resnet", "resnet_test"]
    run = plan.start(recipe, runs_root=tmp_path / "runs")
    info = run.read_info()
    assert info["models"] == recipe.models and info["headline"] == "occlusion/top1_random_*/vit"
    overridden = recipe_lib.load(path, ["headline=shuffle/*"], check_data=False)
    assert overridden.top.headline == "shuffle/*" and overridden.resolved["headline"] == "shuffle/*"


@pytest.mark.parametrize("named", ["occlusoin/top1_random_0.50/vit", "train/acc"])
def test_a_headline_naming_no_evaluate_step_is_refused(tmp_path, named):
    path = tmp_path / "study.toml"
    path.write_text(RECIPE.replace("occlusion/top1_random_*/vit", named))
    with pytest.raises(ConfigError, match=f"headline: '{named}' names no evaluate step .*occlusion, shuffle"):
        recipe_lib.load(path, check_data=False)


def test_the_demo_recipe_names_its_occlusion_result():
    recipe = recipe_lib.load("demo", check_data=False)
    assert recipe.top.headline == "occlusion/top1_random_0.50/vit"
    assert len(recipe.models) == 8 and recipe.models[0] == "brief_vit"


def test_runs_list_shows_the_named_headline(tmp_path, capsys):
    store = RunStore(tmp_path)
    named = store.create(name="demo", kind="recipe", config={}, headline="occlusion/top1_random_0.50/vit")
    plain = store.create(name="demo", kind="recipe", config={})
    for run in (named, plain):
        run.update(summary=SUMMARY)
    code, out, _ = run_cli(capsys, "runs", "list", "--runs", str(tmp_path), "--json")
    rows = {row["id"]: row["headline"] for row in json.loads(out)}
    assert code == 0 and rows == {
        named.id: "occlusion/top1_random_0.50/vit=0.8100",
        plain.id: "adversarial/fgsm@4_255/resnet=0.1100",
    }

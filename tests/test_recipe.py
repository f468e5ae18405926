"""Recipes: validation before anything runs, typed overrides, the shipped recipes, the CLI."""

import json
import textwrap

import pytest
from helpers import run_cli

from vitlab.config import ConfigError
from vitlab.training import recipe as recipe_lib

BASE = """
name = "tiny"
[optim]
epochs = 3
batch_size = 16
[[train]]
name = "teacher"
model = "resnet_test"
data.dataset = "shapes:stylized"
[[train]]
name = "student"
model = "deit_test_distilled"
distill.teacher = "teacher"
"""


def write(tmp_path, text, name="r.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(tmp_path, text, overrides=()):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        recipe_lib.load(path, overrides, check_data=False)
    message = str(caught.value)
    assert message.startswith(str(path)), message  # every error names the file
    return message


def test_defaults_merge_into_steps_and_step_values_win(tmp_path):
    recipe = recipe_lib.load(write(tmp_path, BASE), check_data=False)
    teacher, student = recipe.train
    assert (teacher.data.dataset, student.data.dataset) == ("shapes:stylized", "shapes")
    assert teacher.optim.epochs == student.optim.epochs == 3
    assert student.distill.teacher == "teacher" and student.distill.kind == "hard"
    json.dumps(recipe.resolved)  # stored in run.json as is
    assert recipe.resolved["train"][1]["distill"]["teacher"] == "teacher"


def test_overrides_are_typed_per_section_and_per_step(tmp_path):
    recipe = recipe_lib.load(
        write(tmp_path, BASE),
        ["optim.epochs=5", "student.optim.learning_rate=3e-4", "seed=7", "distill.kind=soft"],
        check_data=False,
    )
    assert [t.optim.epochs for t in recipe.train] == [5, 5]
    assert [t.optim.learning_rate for t in recipe.train] == [1e-3, 3e-4]
    assert recipe.top.seed == 7 and recipe.train[1].distill.kind == "soft"
    assert recipe.resolved["overrides"] == [
        "optim.epochs=5",
        "student.optim.learning_rate=3e-4",
        "seed=7",
        "distill.kind=soft",
    ]


def test_smoke_shrinks_epochs_and_data(tmp_path):
    recipe = recipe_lib.load(
        write(tmp_path, BASE + "\n[smoke]\nepochs = 1\nlimit = 32\n"), ["smoke=true"], check_data=False
    )
    assert [(t.optim.epochs, t.data.limit) for t in recipe.train] == [(1, 32), (1, 32)]
    assert recipe.train[0].optim.warmup_epochs <= 0.5


def test_single_model_recipe_trains_final(tmp_path):
    recipe = recipe_lib.load(write(tmp_path, '[model]\nname = "vit_test"\ndrop_path_rate = 0.1\n'), check_data=False)
    assert [(t.name, t.model, t.drop_path_rate) for t in recipe.train] == [("final", "vit_test", 0.1)]


@pytest.mark.parametrize(
    "text, overrides, expected",
    [
        ("epoch = 3\n" + BASE, (), "unknown key 'epoch'; valid keys:"),
        (BASE + "\nepoch = 3\n", (), "train.student: unknown key 'epoch'"),
        (BASE.replace("epochs = 3", "epoch = 3"), (), "optim: unknown key 'epoch' (did you mean epochs?)"),
        (BASE.replace("epochs = 3", 'epochs = "three"'), (), "optim.epochs: expected int, got 'three'"),
        (BASE.replace("epochs = 3", "epochs = 0"), (), "epochs: expected a positive number, got 0"),
        ('strategy = "tpu"\n' + BASE, (), "strategy: expected one of auto, one_device, mirrored, multi_worker"),
        (
            BASE.replace('distill.teacher = "teacher"', 'distill.kind = "medium"'),
            (),
            "kind: expected one of hard, soft",
        ),
        (BASE.replace('model = "resnet_test"', 'model = "resnet_nope"'), (), "unknown model 'resnet_nope'"),
        (BASE.replace('name = "teacher"', 'name = "teacher2"'), (), "unknown model 'teacher'"),
        (BASE + '\n[[train]]\nname = "student"\nmodel = "vit_test"\n', (), "step names must be unique"),
        (BASE + '\n[[evaluate]]\nexperiment = "no-such"\nmodels = ["student"]\n', (), "unknown experiment 'no-such'"),
        (BASE + '\n[export]\nmodels = ["nobody"]\n', (), "export.models: 'nobody' is not a training step"),
        (BASE, ("optim.epochs=ten",), "optim.epochs: expected an integer, got 'ten'"),
        (BASE, ("optim.epoch=2",), "unknown key 'epoch'"),
        (BASE, ("student.optim.batch_size=x",), "train.student.optim.batch_size: expected an integer, got 'x'"),
        (BASE, ("nobody.epochs=2",), "--set nobody.epochs: no such key"),
        (BASE, ("smoke",), "--set 'smoke': expected section.key=value"),
        (BASE, ("smoke=maybe",), "smoke: expected true or false, got 'maybe'"),
        ("name = [1\n", (), "not valid TOML"),
    ],
)
def test_malformed_recipes_get_one_clear_error(tmp_path, text, overrides, expected):
    assert expected in error_of(tmp_path, text, overrides)


def test_teacher_must_be_an_earlier_step(tmp_path):
    text = BASE.replace('distill.teacher = "teacher"', "").replace(
        'data.dataset = "shapes:stylized"', 'data.dataset = "shapes:stylized"\ndistill.teacher = "student"'
    )
    assert "step 'student' must come before 'teacher'" in error_of(tmp_path, text)


def test_missing_teacher_file_and_unknown_recipe(tmp_path):
    path = write(tmp_path, BASE.replace('distill.teacher = "teacher"', 'distill.teacher = "gone.keras"'))
    with pytest.raises(ConfigError, match="gone.keras does not exist"):
        recipe_lib.load(path)
    with pytest.raises(ConfigError, match="unknown recipe 'nope'; shipped recipes: .*quickstart"):
        recipe_lib.find("nope")


@pytest.mark.parametrize("name", [n for n, _ in recipe_lib.list_recipes()])
def test_shipped_recipes_validate_and_say_what_they_do(name):
    text = recipe_lib.find(name).read_text()
    for word in ("Takes:", "Reaches:", "Smoke:"):
        assert word in text, f"{name}: header lacks {word!r}"
    recipe = recipe_lib.load(name, check_data=False)
    smoke = recipe_lib.load(name, ["smoke=true"], check_data=False)
    assert all(t.optim.epochs <= smoke.smoke.epochs for t in smoke.train)
    assert recipe.train or recipe.evaluate


def test_cli_lists_shows_and_refuses_bad_input(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "recipe", "list")
    assert code == 0 and "quickstart" in out and "fashion_mnist" in out
    code, out, _ = run_cli(capsys, "recipe", "show", "quickstart")
    assert code == 0 and 'name = "quickstart"' in out
    bad = write(tmp_path, BASE.replace("epochs = 3", "epochs = -1"))
    code, _, err = run_cli(capsys, "recipe", "run", str(bad), "--runs", str(tmp_path / "runs"))
    assert code == 2 and err.startswith(f"error: {bad}: optim.epochs") and not (tmp_path / "runs").exists()
    code, _, err = run_cli(
        capsys, "recipe", "run", str(write(tmp_path, BASE)), "--set", "optim.epochs=x", "--runs", str(tmp_path / "runs")
    )
    assert code == 2 and "optim.epochs: expected an integer, got 'x'" in err


def test_runs_list_copes_with_corrupt_runs(tmp_path, capsys):
    from vitlab.results import RunStore

    store = RunStore(tmp_path / "runs")
    good = store.create(name="fine", kind="recipe", config={"a": 1})
    (tmp_path / "runs" / "broken").mkdir()
    (tmp_path / "runs" / "broken" / "run.json").write_text("{not json")
    code, out, _ = run_cli(capsys, "runs", "list", "--runs", str(tmp_path / "runs"), "--json")
    rows = {row["id"]: row for row in json.loads(out)}
    assert code == 0 and rows[good.id]["status"] == "created" and rows["broken"]["status"] == "unreadable"
    assert "unreadable" in rows["broken"]["error"]
    code, out, _ = run_cli(capsys, "runs", "list", "--runs", str(tmp_path / "runs"))
    assert code == 0 and "broken" in out and good.id in out
    good.mark_step("train:vit", "done")
    code, out, _ = run_cli(capsys, "runs", "show", str(good.path))
    assert code == 0 and "train:vit: done" in out and "status:   created" in out
    code, _, err = run_cli(capsys, "runs", "show", str(tmp_path / "runs" / "broken"))
    assert code == 2 and "unreadable" in err


def test_a_folder_named_like_a_recipe_does_not_hide_it(tmp_path, monkeypatch):
    """The repository root holds zoo/ (the shipped models): `vitlab recipe run zoo` is the recipe."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "zoo").mkdir()
    assert recipe_lib.find("zoo") == recipe_lib.recipe_dir() / "zoo.toml"
    with pytest.raises(ConfigError, match="does not exist"):
        recipe_lib.find("./zoo")  # a path to a folder is still refused


def test_a_run_loads_each_saved_model_once_and_a_resumed_done_step_loads_nothing(tmp_path, capsys, monkeypatch):
    """Two evaluate steps on one .keras file load it once; resuming the finished run loads
    no model at all (its steps are skipped before anything is built)."""
    from vitlab import models

    saved = tmp_path / "m.keras"
    models.create("vit_test").save(saved)
    (tmp_path / "r.toml").write_text(
        textwrap.dedent(f"""
        name = "one-load"
        [[evaluate]]
        experiment = "shuffle"
        models = ["{saved}"]
        dataset = "shapes"
        limit = 8
        set = {{ grids = ["2x2"] }}
        [[evaluate]]
        experiment = "occlusion"
        models = ["{saved}"]
        dataset = "shapes"
        limit = 8
        set = {{ levels = [0.0, 0.5], modes = ["random"], repeats = 1 }}
        """)
    )
    loads, real = [], models.load
    monkeypatch.setattr(
        models, "load", lambda path, *args, **kwargs: (loads.append(path), real(path, *args, **kwargs))[1]
    )
    code, _, err = run_cli(capsys, "recipe", "run", str(tmp_path / "r.toml"), "--out", str(tmp_path / "run"), "--quiet")
    assert code == 0, err[-2000:]
    assert loads == [str(saved)]
    loads.clear()
    code, _, err = run_cli(capsys, "recipe", "run", "--resume", str(tmp_path / "run"), "--quiet")
    assert code == 0, err[-2000:]
    assert loads == []
    messages = [
        json.loads(line).get("message", "") for line in (tmp_path / "run" / "events.jsonl").read_text().splitlines()
    ]
    assert "shuffle: already done, skipped" in messages and "occlusion: already done, skipped" in messages


def test_a_resumed_step_counts_the_training_time_of_its_earlier_processes(tmp_path, capsys, monkeypatch):
    """run.json's training seconds add what the checkpoint recorded before this process
    (checkpoint.TrainingClock), so a step killed and resumed reports its whole training time."""
    from vitlab.training import checkpoint

    (tmp_path / "r.toml").write_text(
        textwrap.dedent("""
        name = "clock"
        [data]
        dataset = "shapes"
        limit = 16
        eval_split = ""
        [optim]
        epochs = 1
        batch_size = 8
        [[train]]
        name = "net"
        model = "vit_test"
        """)
    )
    monkeypatch.setattr(checkpoint, "trained_wall_seconds", lambda directory: 1000.0)
    monkeypatch.setenv("VITLAB_EAGER", "1")  # no compile: as fast as tiny gets
    code, _, err = run_cli(capsys, "recipe", "run", str(tmp_path / "r.toml"), "--out", str(tmp_path / "run"), "--quiet")
    assert code == 0, err[-2000:]
    seconds = json.loads((tmp_path / "run" / "run.json").read_text())["training"]["net"]["seconds"]
    assert 1000.0 < seconds < 1300.0
    state = json.loads((tmp_path / "run" / "checkpoints" / "net" / "state.json").read_text())
    assert state["epoch"] == 1 and 0 < state["wall_s"] < 300 and state["cpu_s"] > 0

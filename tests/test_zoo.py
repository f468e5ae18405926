"""The zoo: specs, a tiny build end to end (train, card, publish, resume without retraining),
`zoo:ROLE@SEED` wherever a model is accepted, and every shipped model against its card."""

import json
import os
import zipfile
from pathlib import Path

import pytest
from helpers import run_cli, run_cli_process

from vitlab import zoo
from vitlab.errors import UserError

pytestmark = pytest.mark.xdist_group("zoo")  # one worker builds the tiny zoo once for every test here

TINY = [
    "--set",
    "smoke=true",
    "--set",
    "smoke.limit=32",
    "--set",
    "data.eval_split=",
    "--set",
    "optim.batch_size=16",
    "--set",
    "resnet.model=resnet_test",
    "--set",
    "resnet_sin.model=resnet_test",
    "--set",
    "vit.model=vit_test",
    "--set",
    "vit_nopos.model=vit_test",
    "--set",
    "deit_sin.model=vit_test",
    "--set",
    "deit_shape.model=deit_test_distilled",
    "--set",
    "deit_tex.model=deit_test_distilled",
]


def test_parse_specs():
    assert zoo.parse("zoo:vit") == ("vit", 0)
    assert zoo.parse("zoo:deit_shape@2") == ("deit_shape", 2)
    with pytest.raises(UserError, match="unknown zoo role 'vat'.*roles: resnet"):
        zoo.parse("zoo:vat")
    with pytest.raises(UserError, match="bad zoo seed 'x'"):
        zoo.parse("zoo:vit@x")


def test_missing_model_names_the_build_command(tmp_path, monkeypatch):
    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path))
    monkeypatch.setenv("VITLAB_ZOO", str(tmp_path / "none"))
    with pytest.raises(UserError, match=r"vitlab zoo build --seeds 4"):
        zoo.model_path("zoo:vit@4")


@pytest.fixture(scope="module")
def built_zoo(tmp_path_factory):
    """The tiny zoo of seed 3, built by `vitlab zoo build` in this process (the build trains in
    its own `recipe run` child, as it does for a user)."""
    from vitlab.zoo import build

    cache = tmp_path_factory.mktemp("cache")
    env = {**os.environ, "VITLAB_CACHE": str(cache), "VITLAB_ZOO": str(cache / "shipped")}
    with pytest.MonkeyPatch.context() as patch:
        for key in ("VITLAB_CACHE", "VITLAB_ZOO"):
            patch.setenv(key, env[key])
        patch.setattr(build, "PACK_POLL_S", 0.5)  # look for finished roles often: the roles take seconds
        code, out, err = run_cli(
            None, "zoo", "build", "--seeds", "3", "--quiet", "--eval-limit", "64", "--pack-to", cache / "packs", *TINY
        )
    assert code == 0, err[-2000:]
    return cache, env, out


@pytest.fixture
def in_zoo(built_zoo, monkeypatch):
    """The tiny zoo's environment for CLI calls in this process."""
    cache, env, _ = built_zoo
    for key in ("VITLAB_CACHE", "VITLAB_ZOO"):
        monkeypatch.setenv(key, env[key])
    return cache


def test_build_publishes_every_role_with_a_card(built_zoo):
    cache, env, stdout = built_zoo
    folder = cache / "zoo" / "seed-3"
    for role in zoo.ROLES:
        card = json.loads((folder / f"{role}.json").read_text())
        assert card["role"] == role and card["seed"] == 3
        assert card["sha256"] == zoo.sha256(folder / f"{role}.keras")
        with zipfile.ZipFile(folder / f"{role}.keras") as archive:  # published deflated (zoo.compress)
            assert {m.compress_type for m in archive.infolist()} == {zipfile.ZIP_DEFLATED}
        assert card["recipe"] == "zoo" and card["vitlab_commit"]
        assert card["training_seconds"] > 0 and card["training_cpu_seconds"] > 0
        assert card["eval_images"] == 64 and 0.0 <= card["clean_accuracy"] <= 1.0
        assert card["overrides"] == ["seed=3", *[o for o in TINY if o != "--set"]]
        assert card["eval_dataset"] == ("shapes:stylized:test" if role.endswith("_sin") else "shapes:test")
        assert f"{role} published" in stdout
    deit = json.loads((folder / "deit_shape.json").read_text())
    assert set(deit["clean_accuracy_heads"]) == {"average", "class", "dist"}
    # --pack-to packed the build while it trained, each time a role had finished, and at the end
    packed = [int(line.split("packed ")[1].split()[0]) for line in stdout.splitlines() if "finished roles into" in line]
    assert packed == sorted(packed) and packed[-1] == 7 and len(set(packed)) >= 2, packed
    assert sorted(p.stem for p in (cache / "packs" / "seed-3" / "models").iterdir()) == sorted(zoo.ROLES)
    assert deit["teacher"] == "resnet_sin" and deit["architecture"] == "deit_test_distilled"


def test_rebuild_resumes_without_retraining(in_zoo, capsys):
    cache = in_zoo
    run = cache / "zoo" / "runs" / "seed-3"
    before = (run / "events.jsonl").read_text().count('"started"')
    stamp = (cache / "zoo" / "seed-3" / "vit.json").stat().st_mtime_ns
    code, out, err = run_cli(capsys, "zoo", "build", "--seeds", "3", "--quiet")
    assert code == 0, err[-2000:]
    assert (run / "events.jsonl").read_text().count('"started"') == before  # no step started again
    assert (cache / "zoo" / "seed-3" / "vit.json").stat().st_mtime_ns == stamp  # card kept: hash matches
    assert "published" not in out


def test_publish_ships_the_roles_a_stopped_build_finished(in_zoo, tmp_path, capsys):
    import shutil

    cache = in_zoo
    partial = cache / "zoo" / "runs" / "seed-5"
    shutil.copytree(cache / "zoo" / "runs" / "seed-3", partial)
    info = json.loads((partial / "run.json").read_text())
    for role in ("deit_shape", "deit_tex", "deit_sin"):  # as if killed after vit_nopos
        info["steps"][f"train:{role}"] = "running"
    (partial / "run.json").write_text(json.dumps(info))
    code, out, err = run_cli(
        capsys, "zoo", "publish", "--seed", "5", "--out", str(tmp_path / "out"), "--eval-limit", "16"
    )
    assert code == 0, err[-2000:]
    assert "4 of 7 roles published" in out
    assert sorted(p.stem for p in (tmp_path / "out").glob("*.json")) == ["resnet", "resnet_sin", "vit", "vit_nopos"]
    code, out, err = run_cli(capsys, "zoo", "publish", "--seed", "6")
    assert code == 2 and "no finished model" in err and "Traceback" not in err


def test_zoo_models_are_named_everywhere(in_zoo, capsys):
    cache = in_zoo
    code, out, _ = run_cli(capsys, "models", "list", "--json")
    rows = json.loads(out)
    assert rows[0]["name"].startswith("zoo:") and rows[0]["trained"]
    assert {"zoo:vit@3", "zoo:deit_shape@3"} <= {r["name"] for r in rows}
    assert not next(r for r in rows if r["name"] == "vit_test")["trained"]
    code, _, err = run_cli(
        capsys,
        "eval",
        "shape-bias",
        "-m",
        "zoo:vit@3",
        "-m",
        "zoo:resnet@3",
        "--dataset",
        "shapes:cue_conflict",
        "--limit",
        "16",
        "--runs",
        str(cache / "runs"),
    )
    assert code == 0, err[-2000:]
    code, _, err = run_cli(capsys, "eval", "occlusion", "-m", "zoo:vit@9")
    assert code == 2 and "vitlab zoo build --seeds 9" in err
    assert "Traceback" not in err


def test_card_accuracy_is_remeasured(built_zoo):
    from vitlab.zoo import cards

    cache, env, _ = built_zoo
    path = cache / "zoo" / "seed-3" / "deit_tex.keras"
    card = json.loads(path.with_suffix(".json").read_text())
    accuracy, count = cards.measure(path, "deit_tex", limit=64)
    assert count == 64 and accuracy == pytest.approx(card["clean_accuracy_heads"], abs=1e-6)


SHIPPED = [e for e in zoo.entries(seeds=[0]) if Path(e["path"]).parent == zoo.shipped_dir()]


@pytest.mark.parametrize("entry", SHIPPED, ids=[e["spec"] for e in SHIPPED])
def test_shipped_model_matches_its_card(entry):
    """Each model in zoo/: the file is the one the card describes, and it is as good as it says."""
    from vitlab.zoo import cards

    assert zoo.sha256(entry["path"]) == entry["sha256"]
    with zipfile.ZipFile(entry["path"]) as archive:  # deflated: what keeps zoo/ within 20 MB
        assert {m.compress_type for m in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    accuracy, count = cards.measure(entry["path"], entry["role"], limit=500)
    assert count == 500
    assert abs(accuracy["average"] - entry["clean_accuracy_first_500"]) <= 0.02


def test_compress_keeps_the_weights_and_shrinks_the_archive(tmp_path):
    import keras
    import numpy as np

    from vitlab import models

    model = models.create("vit_test", num_classes=10)
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        before = {m.filename: archive.read(m.filename) for m in archive.infolist()}
    size = path.stat().st_size
    assert zoo.compress(path) == path.stat().st_size < size
    with zipfile.ZipFile(path) as archive:
        assert {m.filename: archive.read(m.filename) for m in archive.infolist()} == before
        assert {m.compress_type for m in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    images = np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32)
    np.testing.assert_array_equal(keras.saving.load_model(path)(images), model(images))


def test_shipped_zoo_fits_the_budget():
    total = sum(p.stat().st_size for p in zoo.shipped_dir().glob("*")) if zoo.shipped_dir().exists() else 0
    assert total <= 20_000_000  # at most 20 MB in all


def test_findings_study_evaluates_the_seeds_zoo(built_zoo, tmp_path):
    """The findings recipe names `zoo:ROLE@{seed}`: a study of seed 3 evaluates that seed's zoo
    (trained nothing), stores the cards beside the run and reports their clean accuracy."""
    cache, env, _ = built_zoo
    output = tmp_path / "findings.md"
    # The findings recipe's own header, one cheap claim: the path is the same, the sweep is short.
    shipped = (Path(__file__).parents[1] / "recipes" / "findings.toml").read_text()
    header = shipped.split("[[evaluate]]")[0]
    recipe = tmp_path / "findings.toml"
    recipe.write_text(
        header + '[[evaluate]]\nexperiment = "shape-bias"\n'
        'models = ["zoo:vit@{seed}", "zoo:resnet@{seed}"]\ndataset = "shapes:cue_conflict"\nlimit = 16\n'
    )
    done = run_cli_process(
        "findings",
        "study",
        "--seeds",
        "3",
        "--smoke",
        "--quiet",
        "--recipe",
        recipe,
        "--set",
        "smoke.eval_limit=16",
        "--runs",
        tmp_path / "runs",
        "-o",
        output,
        env=env,
        timeout=1200,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "building" not in done.stdout  # seed 3 was built by the fixture
    run = tmp_path / "runs" / "seed-3"
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "done" and not info.get("training")  # evaluation only
    assert "zoo:vit@3" in info["config"]["evaluate"][0]["models"]
    cards = json.loads((run / "zoo_cards.json").read_text())
    assert {c["role"] for c in cards} == {"vit", "resnet"} and all(c["seed"] == 3 for c in cards)
    text = output.read_text()
    vit = next(c for c in cards if c["role"] == "vit")
    assert f"{vit['clean_accuracy']:.3f}" in text


def test_demo_recipe_runs_on_the_shipped_zoo(in_zoo, tmp_path, capsys, monkeypatch):
    """`make demo` evaluates the shipped zoo (here: the tiny seed-3 zoo standing in for zoo/)."""
    monkeypatch.setenv("VITLAB_ZOO", str(in_zoo / "zoo" / "seed-3"))
    code, _, err = run_cli(
        capsys,
        "recipe",
        "run",
        "demo",
        "--set",
        "smoke=true",
        "--set",
        "smoke.eval_limit=16",
        "--set",
        "smoke.limit=64",
        "--set",
        "optim.steps_per_epoch=2",
        "--quiet",
        "--out",
        str(tmp_path / "demo"),
    )
    assert code == 0, err[-3000:]
    info = json.loads((tmp_path / "demo" / "run.json").read_text())
    assert info["status"] == "done" and set(info["training"]) == {"brief_vit"}
    report = (tmp_path / "demo" / "report" / "index.md").read_text()
    for section in ("occlusion", "shuffle", "corruption", "adversarial", "shape-bias", "linear-probe", "segmentation"):
        assert f"## {section}" in report
    assert "Models: vit, vit_nopos, resnet" in report  # zoo models are named by their roles


def test_a_packed_build_resumes_elsewhere_training_only_the_roles_left(in_zoo, tmp_path, capsys, monkeypatch):
    """`zoo pack` carries a stopped build (finished models, run record; no checkpoints) to a
    fresh cache; `zoo unpack` + `zoo build` there trains only the unfinished roles, the DeiTs
    taught by the unpacked ResNets, and their cards count no CPU-seconds of the lost attempt."""
    import shutil

    cache = in_zoo
    stopped = cache / "zoo" / "runs" / "seed-7"
    shutil.copytree(cache / "zoo" / "runs" / "seed-3", stopped)
    shutil.copyfile(cache / "zoo" / "runs" / "seed-3.commits.json", cache / "zoo" / "runs" / "seed-7.commits.json")
    info = json.loads((stopped / "run.json").read_text())
    info["seed"], info["status"] = 7, "interrupted"
    for role in ("deit_shape", "deit_tex", "deit_sin"):  # as if killed while deit_shape trained
        info["steps"][f"train:{role}"] = "running"
        (stopped / "models" / f"{role}.keras").unlink()
    (stopped / "run.json").write_text(json.dumps(info))
    with open(stopped / "events.jsonl", "a") as events:
        events.write(
            json.dumps({"kind": "progress", "step": "train:deit_shape", "cpu_s": 99999.0, "done": 1})
            + "\n"
            + '{"kind": "progr'
        )  # and a line torn by the kill
    code, out, err = run_cli(capsys, "zoo", "pack", "--seed", "7", "-o", tmp_path / "pack")
    assert code == 0, err[-2000:]
    assert "packed 4 of 7 finished roles" in out
    pack = tmp_path / "pack" / "seed-7"
    assert sorted(p.name for p in (pack / "models").iterdir()) == [
        f"{r}.keras" for r in ("resnet", "resnet_sin", "vit", "vit_nopos")
    ]
    assert not (pack / "checkpoints").exists()
    assert "99999" not in (pack / "events.jsonl").read_text()
    assert '"train:vit"' in (pack / "events.jsonl").read_text()

    fresh = tmp_path / "fresh-cache"
    monkeypatch.setenv("VITLAB_CACHE", str(fresh))
    code, out, err = run_cli(capsys, "zoo", "unpack", tmp_path / "pack", "--seed", "7")
    assert code == 0, err[-2000:]
    assert "unpacked 4 finished roles" in out
    code, out, err = run_cli(capsys, "zoo", "build", "--seeds", "7", "--quiet", "--eval-limit", "16")
    assert code == 0, err[-2000:]
    run = fresh / "zoo" / "runs" / "seed-7"
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    started = [e["step"] for e in events if e.get("message", "").endswith(": started")]
    assert started.count("train:vit") == 1 and started.count("train:deit_shape") == 1  # packed once, not retrained
    card = json.loads((fresh / "zoo" / "seed-7" / "deit_shape.json").read_text())
    assert card["teacher"] == "resnet_sin" and 0 < card["training_cpu_seconds"] < 99999
    assert card["vitlab_commit"] == json.loads((pack / "commits.json").read_text())[0]["commit"]

    code, _, err = run_cli(capsys, "zoo", "unpack", pack)  # the cache holds that build now
    assert code == 2 and "already holds a build" in err and "Traceback" not in err
    code, _, err = run_cli(capsys, "zoo", "unpack", tmp_path)
    assert code == 2 and "not a zoo pack" in err
    code, _, err = run_cli(capsys, "zoo", "pack", "--seed", "8", "-o", tmp_path / "pack")
    assert code == 2 and "no build" in err

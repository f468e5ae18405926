"""The paper's models by name and recipes/paper.toml: the table in docs/protocol.md is the code's,
every built model resolves to its timm tag's preprocessing, and the whole sweep runs in smoke
mode on generated stand-ins (ImageNet val, ImageNet-C, cue-conflict, VOC, a transfer set) with
tiny models in a fake Hugging Face cache under the paper's repository names."""

import hashlib
import json
from pathlib import Path

import numpy as np
from helpers import run_cli
from PIL import Image

from vitlab.models import registry
from vitlab.protocol import models as paper

DOCS = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"
RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "paper.toml"


def test_docs_carry_the_paper_models_table_of_the_code():
    assert paper.markdown_table() in DOCS.read_text()


def test_every_built_paper_model_has_its_tag_s_preprocessing():
    for row in paper.built():
        spec = registry.get_spec(row.spec)
        if row.weights in registry.PRETRAINED:
            tag = registry.PRETRAINED[row.weights]
            assert (spec.crop_pct, spec.interpolation, spec.kwargs["mean"]) == (
                tag.crop_pct,
                tag.interpolation,
                tag.mean,
            ), row.label
    resnet = registry.get_spec("resnet50.tv_in1k")
    assert (resnet.crop_pct, resnet.interpolation) == (0.875, "bilinear")  # torchvision's, not timm's a1
    assert {m.label for m in paper.PAPER_MODELS if not m.spec} == {"T2T-ViT-24", "TnT-S"}


def test_models_list_paper_and_show_a_file(tmp_path, capsys):
    from vitlab import models

    code, out, err = run_cli(capsys, "models", "list", "--paper")
    assert code == 0, err
    assert "resnet50.tv_in1k" in out and "vit_small_patch16_224_dino" in out and "not built" in out
    models.create("resnet_test", crop_pct=0.875, interpolation="bilinear").save(tmp_path / "resnet50.keras")
    code, out, err = run_cli(capsys, "models", "show", tmp_path / "resnet50.keras", "--json")
    assert code == 0, err
    shown = json.loads(out)["preprocessing"]
    assert (shown["crop_pct"], shown["interpolation"], shown["crop_from"]) == (0.875, "bilinear", "stored in the model")
    assert shown["input_size"] == 32 and shown["mean"] == [0.5, 0.5, 0.5]


# --- the sweep in smoke mode ------------------------------------------------------------


def _architecture(repo):
    if repo.endswith(".dino"):
        return "vit_test", 0
    if "distilled" in repo:
        return "deit_test_distilled", 1000
    return ("resnet_test" if "resnet" in repo else "vit_test"), 1000


def fake_hub(root, repos):
    """The huggingface_hub layout for each repo, holding a tiny model of the matching kind."""
    from safetensors.numpy import save_file

    from vitlab import models
    from vitlab.models.timm_convert import export_timm_state

    for repo in repos:
        architecture, classes = _architecture(repo)
        folder = root / ("models--" + repo.replace("/", "--"))
        snapshot = folder / "snapshots" / "0123abcd"
        (folder / "blobs").mkdir(parents=True)
        snapshot.mkdir(parents=True)
        staged = folder / "w.safetensors"
        save_file(export_timm_state(models.create(architecture, num_classes=classes)), str(staged))
        config = json.dumps(
            {
                "architecture": architecture,
                "pretrained_cfg": {
                    "input_size": [3, 32, 32],
                    "mean": [0.5, 0.5, 0.5],
                    "std": [0.25, 0.25, 0.25],
                    "crop_pct": 0.9,
                    "interpolation": "bicubic",
                    "num_classes": classes,
                },
            }
        ).encode()
        for name, data in (("model.safetensors", staged.read_bytes()), ("config.json", config)):
            blob = folder / "blobs" / hashlib.sha256(data).hexdigest()
            blob.write_bytes(data)
            (snapshot / name).symlink_to(blob)
        staged.unlink()
        (folder / "refs").mkdir()
        (folder / "refs" / "main").write_text("0123abcd")


def _png(path, rng, height=40, width=48):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((rng.random((height, width, 3)) * 255).astype(np.uint8)).save(path)


def stand_ins(root):
    from test_imagenet_c_release import write_release
    from test_protocol_segmentation import halves, write_voc

    rng = np.random.default_rng(0)
    for index in range(4):
        _png(root / "imagenet" / f"n0{index % 2}" / f"{index}.png", rng)
        for split in ("train", "test"):
            _png(root / "probe" / split / f"c{index % 2}" / f"{index}.png", rng)
    write_release(root / "imagenet_c" / "fog" / "1", rng, [(260, 300)] * 4)
    for shape, texture in (("cat", "dog"), ("dog", "bottle"), ("bottle", "cat")):
        _png(root / "cue_conflict" / shape / f"{shape}1-{texture}1.png", rng, 64, 64)
    write_voc(root / "VOCdevkit" / "VOC2012", {"a": halves(40, 60), "b": halves(48, 40)})
    return {
        "imagenet": root / "imagenet",
        "imagenet_c": root / "imagenet_c",
        "cue_conflict": root / "cue_conflict",
        "voc": root / "VOCdevkit",
        "probe": root / "probe",
    }


def test_the_paper_recipe_runs_in_smoke_mode_on_stand_ins(tmp_path, monkeypatch):
    import re

    import vitlab

    repos = sorted(set(re.findall(r'"hf:([^"]+)"', RECIPE.read_text())))
    assert "timm/resnet50.tv_in1k" in repos and "timm/vit_small_patch16_224.dino" in repos
    fake_hub(tmp_path / "hub", repos)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path / "cache"))
    from vitlab import model_spec

    assert model_spec.problem("hf:timm/resnet50.tv_in1k", []) is None  # found in the cache, nothing imported
    assert "is not in the local Hugging Face cache" in model_spec.problem("hf:timm/resnet50.a1_in1k", [])
    paths = stand_ins(tmp_path)
    vit, cnn, deit = (
        "hf:timm/deit_small_patch16_224.fb_in1k",
        "hf:timm/resnet50.tv_in1k",
        "hf:timm/deit_small_distilled_patch16_224.fb_in1k",
    )
    few = {f"{step}.models": [vit, cnn] for step in ("random", "salient", "shuffle", "corruption")}
    overrides = {
        "smoke": True,
        **{f"paths.{name}": str(path) for name, path in paths.items()},
        **few,
        "shape_bias.models": [deit, cnn],
        "segmentation.models": [deit],
        "probe.models": [vit],
        "random.set.levels": [0.0, 0.5],
        "random.set.repeats": 1,
        "salient.set.lambdas": [0.5],
        "shuffle.set.grids": ["2x2"],
        "corruption.set.corruptions": ["fog"],
        "corruption.set.severities": [1],
        "probe.set.epochs": 1,
    }  # two models a step: seconds each
    run = vitlab.train("paper", overrides, runs_root=tmp_path / "runs", quiet=True)
    assert run.status == "done"
    results = run.results()
    assert set(results) == {"random", "salient", "shuffle", "corruption", "shape_bias", "segmentation", "probe"}
    assert "deit_small_patch16_224.fb_in1k" in results["random"].models  # named by their timm tags
    assert results["corruption"].config["corruption_images"] == "imagenet_c"
    assert any("each evaluated model's mean/std" in note for note in results["salient"].notes)
    assert any("vit_small_patch16_224.dino" in note for note in results["salient"].notes)
    facts = run.info["facts"]["random"]["preprocessing"]
    assert (facts["crop_pct"], facts["interpolation"]) == (0.9, "bicubic")  # the checkpoint's pretrained_cfg


def test_the_paper_recipe_names_the_missing_folder(capsys, tmp_path):
    code, _, err = run_cli(capsys, "recipe", "run", "paper", "--runs", tmp_path / "runs")
    assert code == 2 and "evaluate.random: {imagenet} is not set; give --set paths.imagenet=DIR" in err

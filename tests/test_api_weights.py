"""`vitlab weights import ORG/NAME`: checkpoints found in a local Hugging Face cache the test builds."""

import hashlib
import json

import numpy as np
import pytest
from helpers import run_cli

from vitlab import models
from vitlab.models import hf_cache
from vitlab.models.timm_convert import export_timm_state

REPO = "timm/deit_test_distilled.fake_in1k"
PRETRAINED_CFG = {
    "mean": [0.5, 0.4, 0.3],
    "std": [0.2, 0.25, 0.3],
    "input_size": [3, 32, 32],
    "num_classes": 10,
    "crop_pct": 0.95,
    "interpolation": "bicubic",
}


def build_cache(root, model, repo=REPO, revision="0123abcd", ref=True, architecture="deit_test_distilled"):
    """The huggingface_hub layout: blobs/ hold the bytes, snapshots/REV/ links to them, refs/main names REV."""
    from safetensors.numpy import save_file

    folder = root / ("models--" + repo.replace("/", "--"))
    (folder / "blobs").mkdir(parents=True)
    snapshot = folder / "snapshots" / revision
    snapshot.mkdir(parents=True)
    staged = folder / "staged.safetensors"
    save_file(export_timm_state(model), str(staged))
    config = json.dumps(
        {
            "architecture": architecture,
            "num_classes": model.num_classes,
            "pretrained_cfg": {**PRETRAINED_CFG, "num_classes": model.num_classes},
        }
    ).encode()
    for name, data in (("model.safetensors", staged.read_bytes()), ("config.json", config)):
        blob = folder / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        (snapshot / name).symlink_to(blob)
    staged.unlink()
    if ref:
        (folder / "refs").mkdir()
        (folder / "refs" / "main").write_text(revision)
    return folder


@pytest.fixture
def source():
    model = models.create("deit_test_distilled", num_classes=10)
    rng = np.random.default_rng(3)
    model.set_weights([rng.normal(0, 0.2, w.shape).astype("float32") for w in model.get_weights()])
    return model


@pytest.mark.parametrize("variable, under", [("HF_HUB_CACHE", ""), ("HF_HOME", "hub")])
def test_cache_location_follows_huggingface_hub(tmp_path, monkeypatch, variable, under):
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, str(tmp_path))
    assert hf_cache.hub_cache_dir() == (tmp_path / under if under else tmp_path)
    monkeypatch.delenv(variable)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hf_cache.hub_cache_dir() == tmp_path / "xdg" / "huggingface" / "hub"


def test_names_parse_like_timm_hub_names():
    assert hf_cache.parse_name("timm/deit_small_patch16_224.fb_in1k") == (
        "timm/deit_small_patch16_224.fb_in1k",
        "deit_small_patch16_224",
    )
    assert hf_cache.parse_name("hf-hub:timm/resnet50.a1_in1k") == ("timm/resnet50.a1_in1k", "resnet50")
    assert hf_cache.parse_name("vit_base_patch16_224.augreg_in21k")[0] == "timm/vit_base_patch16_224.augreg_in21k"
    assert not hf_cache.looks_like_hub_name("deit_small_patch16_224")


def test_find_reads_refs_main_and_falls_back_to_the_only_snapshot(tmp_path, source):
    build_cache(tmp_path, source)
    found = hf_cache.find(REPO, cache_dir=tmp_path)
    assert found.revision == "0123abcd" and found.weights.name == "model.safetensors"
    assert found.architecture == "deit_test_distilled" and found.mean == (0.5, 0.4, 0.3) and found.image_size == 32
    other = "timm/deit_test_distilled.noref"
    build_cache(tmp_path, source, repo=other, revision="feedbeef", ref=False)
    assert hf_cache.find(other, cache_dir=tmp_path).revision == "feedbeef"
    with pytest.raises(hf_cache.NotInCacheError, match="@nope is not in the local"):
        hf_cache.find(REPO, cache_dir=tmp_path, revision="nope")


def test_find_resolves_refs_and_commits_as_huggingface_hub_does(tmp_path, source):
    """A branch ref names another snapshot; a commit hash names its snapshot directly."""
    import shutil

    folder = build_cache(tmp_path, source)
    shutil.copytree(folder / "snapshots" / "0123abcd", folder / "snapshots" / "89abcdef", symlinks=True)
    (folder / "refs" / "v2").write_text("89abcdef")
    assert hf_cache.find(REPO, cache_dir=tmp_path, revision="v2").revision == "89abcdef"
    assert hf_cache.find(REPO, cache_dir=tmp_path, revision="89abcdef").revision == "89abcdef"
    assert hf_cache.find(REPO, cache_dir=tmp_path).revision == "0123abcd"  # refs/main
    (folder / "snapshots" / "89abcdef" / "model.safetensors").unlink()
    with pytest.raises(hf_cache.NotInCacheError, match="config.json but no weights file"):
        hf_cache.find(REPO, cache_dir=tmp_path, revision="v2")


def test_cli_imports_from_the_cache_with_timm_preprocessing(tmp_path, source, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    build_cache(tmp_path / "hub", source)
    out = tmp_path / "deit.keras"
    code, stdout, err = run_cli(capsys, "weights", "import", REPO, "-o", out)
    assert code == 0, err
    assert f"found {REPO} in the local cache" in stdout and f"wrote {out}" in stdout
    loaded = models.load(out)
    assert loaded.mean == (0.5, 0.4, 0.3) and loaded.std == (0.2, 0.25, 0.3) and loaded.num_classes == 10
    assert (loaded.crop_pct, loaded.interpolation) == (0.95, "bicubic")  # the pretrained_cfg's, stored in the file
    assert "crop_pct 0.95 bicubic (stored in the model)" in stdout
    reference = models.create("deit_test_distilled", num_classes=10, mean=loaded.mean, std=loaded.std)
    reference.set_weights(source.get_weights())
    images = np.random.default_rng(1).random((2, 32, 32, 3), dtype=np.float32)
    np.testing.assert_allclose(np.asarray(loaded(images)), np.asarray(reference(images)), atol=1e-5)


def test_cli_missing_entry_says_where_it_looked(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    code, _, err = run_cli(
        capsys, "weights", "import", "timm/deit_small_patch16_224.fb_in1k", "-o", tmp_path / "m.keras"
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert str(tmp_path / "hub" / "models--timm--deit_small_patch16_224.fb_in1k") in err
    assert "huggingface-cli download timm/deit_small_patch16_224.fb_in1k" in err
    code, _, err = run_cli(capsys, "weights", "import", "deit_small_patch16_224", "-o", tmp_path / "m.keras")
    assert code == 2 and "give the checkpoint FILE" in err


def test_create_model_pretrained_reads_the_cache_like_timm(tmp_path, source, monkeypatch):
    import vitlab

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    build_cache(tmp_path, source)
    images = np.random.default_rng(2).random((2, 32, 32, 3), dtype=np.float32)
    model = vitlab.create_model(REPO, pretrained=True)
    assert model.std == (0.2, 0.25, 0.3)
    reference = models.create("deit_test_distilled", num_classes=10, mean=model.mean, std=model.std)
    reference.set_weights(source.get_weights())
    np.testing.assert_allclose(np.asarray(model(images)), np.asarray(reference(images)), atol=1e-5)
    headless = vitlab.create_model("deit_test_distilled.fake_in1k", pretrained=True, num_classes=0)
    assert headless.num_classes == 0
    random = vitlab.create_model("deit_test_distilled.fake_in1k", num_classes=4)  # no pretrained: tag ignored
    assert random.num_classes == 4 and random.crop_pct is None
    tagged = vitlab.create_model("timm/resnet50.tv_in1k", num_classes=2, image_size=32)  # a tag vitlab knows
    assert (tagged.crop_pct, tagged.interpolation) == (0.875, "bilinear")
    with pytest.raises(vitlab_error(), match="only image_size, mean, num_classes, std can be set"):
        vitlab.create_model(REPO, pretrained=True, depth=3)


def vitlab_error():
    from vitlab.errors import UserError

    return UserError

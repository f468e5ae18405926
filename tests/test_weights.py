"""timm-layout weights import: layout semantics, round trips, checkpoint shapes, errors, CLI.

No torch here: timm's layout is produced by exporting a vitlab model, and its meaning is
checked against a NumPy forward pass written from timm's definitions (make parity checks
against timm itself).
"""

import numpy as np
import pytest
from helpers import run_cli

from vitlab import models
from vitlab.models import timm_convert
from vitlab.models.timm_convert import CheckpointError


def randomized(name, seed=0, **kwargs):
    """A registry model with every weight random (BatchNorm statistics too, variance > 0)."""
    model = models.create(name, **kwargs)
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        if "seed_generator" in weight.path:
            continue
        values = rng.normal(0, 0.2, weight.shape)
        if weight.path.endswith("moving_variance"):
            values = rng.uniform(0.5, 1.5, weight.shape)
        weight.assign(values.astype("float32"))
    return model


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(1).random((2, 32, 32, 3), dtype=np.float32)


# --- the layout means what timm means ---------------------------------------------------
def _layer_norm(x, weight, bias, eps=1e-6):
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x):
    from math import erf

    return 0.5 * x * (1 + np.vectorize(erf)(x / np.sqrt(2)))


def numpy_vit(state, images, mean, std, patch, heads, prefix):
    """timm's ViT forward from its state dict, in NumPy (NCHW conv, (out, in) linears)."""
    x = ((images - np.array(mean)) / np.array(std)).transpose(0, 3, 1, 2)  # NCHW
    w, b = state["patch_embed.proj.weight"], state["patch_embed.proj.bias"]
    batch, _, size, _ = x.shape
    grid = size // patch
    patches = x.reshape(batch, 3, grid, patch, grid, patch).transpose(0, 2, 4, 1, 3, 5).reshape(batch, grid * grid, -1)
    tokens = patches @ w.reshape(w.shape[0], -1).T + b
    lead = [np.broadcast_to(state["cls_token"], (batch, 1, w.shape[0]))]
    if prefix == 2:
        lead.append(np.broadcast_to(state["dist_token"], (batch, 1, w.shape[0])))
    x = np.concatenate(lead + [tokens], axis=1) + state["pos_embed"]
    depth = 1 + max(int(key.split(".")[1]) for key in state if key.startswith("blocks."))
    for i in range(depth):
        p = lambda name: state[f"blocks.{i}.{name}"]  # noqa: E731
        h = _layer_norm(x, p("norm1.weight"), p("norm1.bias"))
        qkv = h @ p("attn.qkv.weight").T + p("attn.qkv.bias")
        t, d = x.shape[1], x.shape[2]
        q, k, v = qkv.reshape(batch, t, 3, heads, d // heads).transpose(2, 0, 3, 1, 4)
        logits = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d // heads)
        attn = np.exp(logits - logits.max(-1, keepdims=True))
        attn /= attn.sum(-1, keepdims=True)
        out = (attn @ v).transpose(0, 2, 1, 3).reshape(batch, t, d)
        x = x + out @ p("attn.proj.weight").T + p("attn.proj.bias")
        h = _layer_norm(x, p("norm2.weight"), p("norm2.bias"))
        h = _gelu(h @ p("mlp.fc1.weight").T + p("mlp.fc1.bias"))
        x = x + h @ p("mlp.fc2.weight").T + p("mlp.fc2.bias")
    x = _layer_norm(x, state["norm.weight"], state["norm.bias"])
    logits = x[:, 0] @ state["head.weight"].T + state["head.bias"]
    if prefix == 2:
        logits = (logits + x[:, 1] @ state["head_dist.weight"].T + state["head_dist.bias"]) / 2
    return logits


@pytest.mark.parametrize("name", ["vit_test", "deit_test_distilled"])
def test_timm_layout_matches_a_numpy_forward_from_timm_definitions(name, images):
    model = randomized(name)
    state = {k: v.astype(np.float64) for k, v in timm_convert.export_timm_state(model).items()}
    expected = numpy_vit(
        state,
        images.astype(np.float64),
        model.mean,
        model.std,
        model.patch_size,
        model.num_heads,
        model.num_prefix_tokens,
    )
    np.testing.assert_allclose(np.asarray(model(images)), expected, atol=1e-4)


def test_layout_key_names_and_torch_shapes():
    vit = timm_convert.export_timm_state(models.create("deit_test_distilled"))
    assert vit["patch_embed.proj.weight"].shape == (32, 3, 8, 8)  # (out, in, kh, kw)
    assert vit["blocks.1.attn.qkv.weight"].shape == (96, 32)  # (out, in)
    assert vit["pos_embed"].shape == (1, 2 + 16, 32)
    assert {"dist_token", "head_dist.weight", "blocks.1.mlp.fc2.bias"} <= set(vit)
    resnet = timm_convert.export_timm_state(models.create("resnet_test"))
    assert resnet["layer2.0.downsample.0.weight"].shape == (64, 32, 1, 1)
    assert resnet["layer4.0.conv2.weight"].shape == (64, 64, 3, 3)
    assert {"bn1.running_var", "layer1.0.bn3.running_mean", "fc.weight"} <= set(resnet)


@pytest.mark.parametrize("name", ["vit_test", "deit_test_distilled", "resnet_test"])
def test_every_weight_is_in_the_layout_and_round_trips(name, images, tmp_path):
    source = randomized(name, seed=2)
    state = timm_convert.export_timm_state(source)
    mapped = {id(variable) for variable, _ in timm_convert.layout(source).values()}
    unmapped = [w.path for w in source.weights if id(w) not in mapped and "seed_generator" not in w.path]
    assert unmapped == []
    path = tmp_path / "w.safetensors"
    from safetensors.numpy import save_file

    save_file(state, str(path))
    imported, notes = timm_convert.import_checkpoint(name, path)
    assert notes == [timm_convert.NO_CROP_NOTE]  # the test variants carry no timm preprocessing
    np.testing.assert_array_equal(np.asarray(imported(images)), np.asarray(source(images)))
    for key, value in timm_convert.export_timm_state(imported).items():
        np.testing.assert_array_equal(value, state[key])


# --- checkpoint shapes -----------------------------------------------------------------
def test_nested_model_key_and_prefixes_are_unwrapped(tmp_path, images):
    source = randomized("deit_test_distilled", seed=3)
    state = timm_convert.export_timm_state(source)
    checkpoint = {"model": state, "optimizer": {"lr": 0.1}, "epoch": 299}
    assert timm_convert.unwrap_state(checkpoint).keys() == state.keys()
    path = tmp_path / "nested.npz"
    np.savez(path, **{f"model.{key}": value for key, value in state.items()})
    imported, _ = timm_convert.import_checkpoint("deit_test_distilled", path)
    np.testing.assert_array_equal(np.asarray(imported(images)), np.asarray(source(images)))


def test_headless_checkpoint_gives_a_feature_model(tmp_path, images):
    source = randomized("vit_test", seed=4)
    state = {k: v for k, v in timm_convert.export_timm_state(source).items() if not k.startswith("head.")}
    path = tmp_path / "dino_like.npz"
    np.savez(path, **state)
    imported, _ = timm_convert.import_checkpoint("vit_test", path)
    assert imported.num_classes == 0 and imported.head is None
    expected = np.asarray(source.forward(images)["features"][:, 0])
    np.testing.assert_allclose(np.asarray(imported(images)), expected, atol=1e-6)


def test_new_head_or_dropped_head_on_request(tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, **timm_convert.export_timm_state(randomized("resnet_test")))
    model, notes = timm_convert.import_checkpoint("resnet_test", path, num_classes=3)
    assert model.num_classes == 3 and "new head with 3 classes" in notes[0]
    model, notes = timm_convert.import_checkpoint("resnet_test", path, num_classes=0)
    assert model.fc is None and "dropped" in notes[0]


def test_position_embedding_is_resampled_for_another_image_size(tmp_path):
    source = randomized("deit_test_distilled", seed=5)
    state = timm_convert.export_timm_state(source)
    state["pos_embed"][:, 2:] = 0.75  # a constant grid stays constant under bicubic resampling
    path = tmp_path / "w.npz"
    np.savez(path, **state)
    imported, notes = timm_convert.import_checkpoint("deit_test_distilled", path, image_size=64)
    assert notes == ["position embedding resampled from 4x4 to 8x8", timm_convert.NO_CROP_NOTE]
    table = np.asarray(imported.pos_embed)
    assert table.shape == (1, 2 + 64, 32)
    np.testing.assert_array_equal(table[:, :2], state["pos_embed"][:, :2])
    np.testing.assert_allclose(table[:, 2:], 0.75, atol=1e-6)


# --- errors --------------------------------------------------------------------------
def _saved(tmp_path, state):
    path = tmp_path / "bad.npz"
    np.savez(path, **state)
    return path


def test_missing_extra_and_wrong_shape_keys_in_one_error(tmp_path):
    state = timm_convert.export_timm_state(models.create("vit_test"))
    del state["blocks.0.norm1.weight"]
    state["blocks.0.ls1.gamma"] = np.ones(32, np.float32)
    state["blocks.1.mlp.fc1.bias"] = np.zeros(65, np.float32)
    with pytest.raises(CheckpointError) as error:
        timm_convert.import_checkpoint("vit_test", _saved(tmp_path, state))
    message = str(error.value)
    assert "missing keys: blocks.0.norm1.weight" in message
    assert "unexpected keys: blocks.0.ls1.gamma" in message
    assert "wrong shapes: blocks.1.mlp.fc1.bias (65,) != (64,)" in message
    assert "\n" not in message


def test_distilled_checkpoint_into_plain_name_names_the_keys(tmp_path):
    state = timm_convert.export_timm_state(models.create("deit_test_distilled"))
    with pytest.raises(CheckpointError, match=r"unexpected keys: dist_token, head_dist.bias.*distilled"):
        timm_convert.import_checkpoint("vit_test", _saved(tmp_path, state))


def test_patch_size_mismatch_is_a_shape_error(tmp_path):
    state = timm_convert.export_timm_state(models.create("vit_test"))
    state["patch_embed.proj.weight"] = np.zeros((32, 3, 4, 4), np.float32)
    with pytest.raises(CheckpointError, match=r"patch_embed.proj.weight \(32, 3, 4, 4\) != \(32, 3, 8, 8\)"):
        timm_convert.import_checkpoint("vit_test", _saved(tmp_path, state))


def test_unreadable_and_unknown_files(tmp_path):
    with pytest.raises(CheckpointError, match="unknown checkpoint format .ckpt"):
        timm_convert.read_checkpoint(tmp_path / "w.ckpt")
    with pytest.raises(CheckpointError, match="no such file"):
        timm_convert.read_checkpoint(tmp_path / "absent.safetensors")
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="broken.safetensors: cannot read checkpoint"):
        timm_convert.read_checkpoint(broken)


# --- CLI --------------------------------------------------------------------------------
def test_cli_import_writes_a_keras_model(tmp_path, images, capsys):
    from safetensors.numpy import save_file

    source = randomized("deit_test_distilled", seed=6)
    save_file(timm_convert.export_timm_state(source), str(tmp_path / "w.safetensors"))
    out = tmp_path / "m.keras"
    code, stdout, err = run_cli(
        capsys,
        "weights",
        "import",
        "deit_test_distilled",
        tmp_path / "w.safetensors",
        "-o",
        out,
        "--mean",
        "imagenet",
        "--std",
        "0.2",
    )
    assert code == 0, err
    assert f"wrote {out}" in stdout
    loaded = models.load(out)
    assert loaded.mean == (0.485, 0.456, 0.406) and loaded.std == (0.2, 0.2, 0.2)
    reference = models.create("deit_test_distilled", mean=loaded.mean, std=loaded.std)
    reference.set_weights(source.get_weights())
    np.testing.assert_allclose(np.asarray(loaded(images)), np.asarray(reference(images)), atol=1e-6)


@pytest.mark.parametrize(
    "args, expected",
    [
        (["-o", "m.h5"], "must end in .keras"),
        (["-o", "m.keras", "--mean", "0.1,0.2"], "--mean '0.1,0.2': expected 3 numbers"),
        (["-o", "m.keras", "--num-classes", "-1"], "--num-classes must be >= 0"),
    ],
)
def test_cli_import_errors_exit_2(tmp_path, capsys, monkeypatch, args, expected):
    monkeypatch.chdir(tmp_path)
    np.savez(tmp_path / "w.npz", **timm_convert.export_timm_state(models.create("vit_test")))
    code, _, err = run_cli(capsys, "weights", "import", "vit_test", "w.npz", *args)
    assert code == 2 and expected in err


def test_cli_export_then_import_round_trips(tmp_path, images, capsys):
    source = randomized("resnet_test", seed=7)
    source.save(tmp_path / "src.keras")
    assert run_cli(capsys, "weights", "export", tmp_path / "src.keras", "-o", tmp_path / "w.safetensors")[0] == 0
    assert (
        run_cli(capsys, "weights", "import", "resnet_test", tmp_path / "w.safetensors", "-o", tmp_path / "back.keras")[
            0
        ]
        == 0
    )
    np.testing.assert_allclose(
        np.asarray(models.load(tmp_path / "back.keras")(images)), np.asarray(source(images)), atol=1e-6
    )


def test_pth_without_torch_says_how_to_convert(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # as in vitlab's own environment: no torch
    (tmp_path / "deit.pth").write_bytes(b"\x80\x02}q\x00.")
    with pytest.raises(CheckpointError, match=r"deit.pth: reading .pth needs PyTorch; convert it to .safetensors"):
        timm_convert.read_checkpoint(tmp_path / "deit.pth")

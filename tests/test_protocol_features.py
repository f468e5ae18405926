"""Off-the-shelf features as the official models/models.py computes them (final LayerNorm on
every block's output), and the official linear probe's settings."""

import numpy as np
import pytest

from vitlab.features import probes
from vitlab.protocol import probe as probe_protocol


def layer_norm(x, gamma, beta, eps):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


@pytest.fixture(scope="module")
def vit():
    import keras

    from vitlab import models
    from vitlab.models.adapter import ModelAdapter

    keras.utils.set_random_seed(0)
    model = models.create("vit_test")
    # non-trivial LayerNorm parameters, so the test sees whether they are applied
    rng = np.random.default_rng(0)
    model.norm.gamma.assign(rng.normal(1.0, 0.3, model.norm.gamma.shape).astype("float32"))
    model.norm.beta.assign(rng.normal(0.0, 0.3, model.norm.beta.shape).astype("float32"))
    images = rng.random((3, 32, 32, 3), dtype=np.float32)
    return ModelAdapter(model, "vit_test"), ModelAdapter(model, "vit_test", token_norm=True), images


def test_normed_block_features_are_the_final_norm_of_each_block_output(vit):
    raw, normed, images = vit
    plain = raw.block_features(images, kinds=("class", "patch_mean"))
    official = normed.block_features(images, kinds=("class",))
    gamma = np.asarray(raw.model.norm.gamma)
    beta = np.asarray(raw.model.norm.beta)
    eps = raw.model.norm.epsilon
    assert eps == pytest.approx(1e-6)  # timm / official: partial(nn.LayerNorm, eps=1e-6)
    tokens = [np.asarray(t) for t in raw.forward(images, tokens=True)["tokens"]]
    for block, (ours, token) in enumerate(zip(official["class"], tokens)):
        np.testing.assert_allclose(np.asarray(ours), layer_norm(token[:, 0], gamma, beta, eps), atol=2e-5)
        assert not np.allclose(np.asarray(ours), np.asarray(plain["class"][block]), atol=1e-3)
    # the last block's normed class token is what the head sees
    final = np.asarray(raw.model.forward(images)["features"][:, 0])
    np.testing.assert_allclose(np.asarray(official["class"][-1]), final, atol=2e-5)


def test_feature_experiments_default_to_normed_tokens_and_cache_them_apart(vit, tmp_path):
    from vitlab.data.dataset import from_arrays
    from vitlab.features import shared

    raw, _, images = vit
    data = from_arrays(np.concatenate([images] * 2), np.arange(6) % 2, batch_size=4, num_classes=2)

    class Quiet:
        def log(self, *args, **kwargs):
            pass

        def progress(self, *args, **kwargs):
            pass

    assert shared.FeatureOptions().token_norm is True
    on = shared.extract_split(
        raw, data, shared.FeatureOptions(blocks="last4", kinds=["class"], cache_dir=str(tmp_path)), Quiet()
    )
    off = shared.extract_split(
        raw,
        data,
        shared.FeatureOptions(blocks="last4", kinds=["class"], cache_dir=str(tmp_path), token_norm=False),
        Quiet(),
    )
    assert on.path != off.path  # the cache key says which features these are
    tokens = np.asarray(raw.forward(images, tokens=True)["tokens"][-1])[:, 0]
    gamma, beta = np.asarray(raw.model.norm.gamma), np.asarray(raw.model.norm.beta)
    np.testing.assert_allclose(on.read(1, "class")[:3], layer_norm(tokens, gamma, beta, 1e-6), atol=2e-5)
    np.testing.assert_allclose(off.read(1, "class")[:3], tokens, atol=2e-5)
    assert shared.normed(raw, shared.FeatureOptions()).token_norm and not raw.token_norm


def test_official_probe_settings():
    assert probe_protocol.PROBE_LEARNING_RATE == 5e-4
    assert probe_protocol.PROBE_WEIGHT_DECAY == 0.05
    assert probe_protocol.PROBE_BATCH_SIZE == 256
    assert probe_protocol.PROBE_EPOCHS == 10
    assert probe_protocol.PAPER_TOP_N_BLOCKS == 4


def test_official_probe_uses_adamw_batch_256_drop_last_and_reports_best_and_last(monkeypatch):
    import keras

    seen = {"optimizer": [], "fit": []}
    real_adamw, real_fit = keras.optimizers.AdamW, keras.Model.fit

    def adamw(*args, **kwargs):
        seen["optimizer"].append((args, kwargs))
        return real_adamw(*args, **kwargs)

    def fit(self, x=None, y=None, **kwargs):
        seen["fit"].append((len(x), kwargs["batch_size"], kwargs["epochs"]))
        return real_fit(self, x, y, **kwargs)

    monkeypatch.setattr(keras.optimizers, "AdamW", adamw)
    monkeypatch.setattr(keras.Model, "fit", fit)
    rng = np.random.default_rng(0)
    labels = np.arange(600) % 3
    x = (np.eye(3, 8)[labels] * 4 + rng.normal(scale=0.5, size=(600, 8))).astype("float32")
    score = probes.linear_layer_probe(x, labels, x[:90], labels[:90], 3, epochs=3)
    ((args, kwargs),) = seen["optimizer"]
    assert args == (5e-4,) and kwargs["weight_decay"] == 0.05 and kwargs["epsilon"] == 1e-8
    assert seen["fit"] == [(512, 256, 1)] * 3  # 600 rows, batch 256, the partial batch dropped
    assert len(score.detail["per epoch"]) == 3
    assert score.accuracy == max(score.detail["per epoch"])
    assert score.detail["last epoch top1"] == score.detail["per epoch"][-1]
    assert score.detail["best epoch"] == int(np.argmax(score.detail["per epoch"])) + 1

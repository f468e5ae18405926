"""AdaIN with tiny random weights: statistics matching, shapes, determinism, a training step."""

import numpy as np
import pytest

from vitlab.data_prep import adain


@pytest.fixture(scope="module")
def tiny_models():
    return adain.build_encoder(depth=2), adain.build_decoder(depth=2, seed=0)


def _images(seed, count=2, size=32):
    return np.random.default_rng(seed).random((count, size, size, 3), dtype=np.float32)


def test_adain_output_has_the_style_channel_mean_and_std():
    rng = np.random.default_rng(0)
    content = rng.normal(1.0, 2.0, (2, 8, 8, 5)).astype("float32")
    style = rng.normal(-3.0, 0.5, (2, 6, 6, 5)).astype("float32") * np.arange(1, 6, dtype="float32")
    out = np.asarray(adain.adaptive_instance_norm(content, style))
    assert out.shape == content.shape
    assert np.allclose(out.mean(axis=(1, 2)), style.mean(axis=(1, 2)), atol=1e-4)
    assert np.allclose(out.std(axis=(1, 2)), style.std(axis=(1, 2)), rtol=1e-3)
    normalized = (content - content.mean(axis=(1, 2), keepdims=True)) / content.std(axis=(1, 2), keepdims=True)
    assert np.allclose(
        (out - out.mean(axis=(1, 2), keepdims=True)) / out.std(axis=(1, 2), keepdims=True), normalized, atol=1e-3
    )  # the content's spatial pattern survives


def test_full_depth_encoder_and_decoder_shapes():
    encoder, decoder = adain.build_encoder(), adain.build_decoder()
    features = adain.encode(encoder, _images(0))
    assert [f.shape[1:] for f in features] == [(32, 32, 64), (16, 16, 128), (8, 8, 256), (4, 4, 512)]
    assert tuple(decoder(features[-1]).shape) == (2, 32, 32, 3)


def test_stylize_is_deterministic_in_range_and_alpha_zero_ignores_style(tiny_models):
    encoder, decoder = tiny_models
    content, style, other_style = _images(1), _images(2), _images(3)
    first = np.asarray(adain.stylize(encoder, decoder, content, style))
    assert first.shape == (2, 32, 32, 3) and 0.0 <= first.min() and first.max() <= 1.0
    assert np.array_equal(first, np.asarray(adain.stylize(encoder, decoder, content, style)))
    assert np.array_equal(np.asarray(adain.build_decoder(depth=2, seed=0).weights[0]), np.asarray(decoder.weights[0]))
    plain = np.asarray(adain.stylize(encoder, decoder, content, style, alpha=0.0))
    assert np.allclose(plain, np.asarray(adain.stylize(encoder, decoder, content, other_style, alpha=0.0)))
    with pytest.raises(ValueError, match="alpha"):
        adain.stylize(encoder, decoder, content, style, alpha=2.0)


def test_train_decoder_lowers_the_loss_and_leaves_the_encoder_alone(tiny_models):
    encoder, _ = tiny_models
    decoder = adain.build_decoder(depth=2, seed=1)
    encoder_before = np.asarray(encoder.weights[0]).copy()
    steps = []
    history = adain.train_decoder(
        encoder,
        decoder,
        [_images(4, 4)],
        [_images(5, 4)],
        steps=12,
        learning_rate=1e-3,
        on_step=lambda step, losses: steps.append(step),
    )
    assert steps == list(range(1, 13))
    assert history[-1]["loss"] < history[0]["loss"]
    assert np.array_equal(encoder_before, np.asarray(encoder.weights[0]))


def test_stylize_dataset_writes_a_loadable_folder_tree(tiny_models, tmp_path, monkeypatch):
    import tensorflow as tf

    from vitlab import data
    from vitlab.data_prep.stylize_dataset import stylize_dataset

    monkeypatch.setenv("VITLAB_CACHE", str(tmp_path / "cache"))
    styles = tmp_path / "styles"
    styles.mkdir()
    for i in range(2):
        (styles / f"s{i}.png").write_bytes(tf.io.encode_png(tf.cast(_images(i, 1, 40)[0] * 255, tf.uint8)).numpy())
    encoder, decoder = tiny_models
    written = stylize_dataset(
        "shapes,test_size=6",
        str(styles),
        str(tmp_path / "out"),
        image_size=32,
        batch_size=4,
        encoder=encoder,
        decoder=decoder,
    )
    assert written == 6
    assert (
        stylize_dataset(
            "shapes,test_size=6", str(styles), str(tmp_path / "out"), image_size=32, encoder=encoder, decoder=decoder
        )
        == 0
    )  # resumes: nothing left to do
    loaded = data.load(str(tmp_path / "out"), image_size=32, batch_size=8)
    original = next(data.load("shapes,test_size=6", batch_size=8).batches())
    assert sorted(next(loaded.batches())["label"].tolist()) == sorted(original["label"].tolist())
    assert len(loaded.class_names) == 10 and loaded.class_names[3] == "003_star"

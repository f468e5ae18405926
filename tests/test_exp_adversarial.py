"""FGSM / PGD: exact epsilon-ball and [0, 1] bounds, epsilon 0 changes nothing, transfer."""

import numpy as np
import pytest

from vitlab.config import ConfigError
from vitlab.experiments import runner
from vitlab.experiments.heads import head_logits
from vitlab.experiments.run_context import Context
from vitlab.perturb import adversarial as lib


def _l2(a, b):
    diff = a.astype(np.float64) - b.astype(np.float64)
    return np.sqrt((diff.reshape(len(a), -1) ** 2).sum(axis=1))


@pytest.fixture(scope="module")
def vit():
    return runner.resolve_model("vit_test", num_classes=10)


@pytest.fixture
def images():
    rng = np.random.default_rng(1)
    x = rng.random((6, 32, 32, 3), dtype=np.float32)
    x[:, :4] = 0.0  # pixels on the [0, 1] border, where clipping matters
    x[:, -4:] = 1.0
    return x, np.arange(6) % 10


@pytest.mark.parametrize("eps", [1 / 255, 8 / 255, 0.3])
def test_projection_is_exact_on_garbage(images, eps):
    x, _ = images
    garbage = x + np.random.default_rng(2).normal(scale=3.0, size=x.shape).astype(np.float32)
    linf = lib.project_exact(garbage, x, eps, "linf")
    assert np.abs(linf.astype(np.float64) - x).max() <= eps and linf.min() >= 0 and linf.max() <= 1
    assert np.abs(linf - x).max() <= eps  # also in float32 arithmetic
    l2 = lib.project_exact(garbage, x, eps * 10, "l2")
    assert _l2(l2, x).max() <= eps * 10 and l2.min() >= 0 and l2.max() <= 1


@pytest.mark.parametrize("norm,eps", [("linf", 8 / 255), ("linf", 1 / 255), ("l2", 0.5)])
def test_pgd_stays_in_ball_and_raises_loss(vit, images, norm, eps):
    import keras

    x, y = images
    fn = head_logits(vit, "class")
    step = lib.compile_step(fn, norm)
    noise = lib.random_start(x.shape, eps, norm, np.random.default_rng(0))
    adv = lib.pgd(step, x, y, eps, norm, steps=4, noise=noise)
    assert adv.dtype == np.float32 and adv.min() >= 0.0 and adv.max() <= 1.0
    if norm == "linf":
        assert np.abs(adv.astype(np.float64) - x).max() <= eps
    else:
        assert _l2(adv, x).max() <= eps

    def loss(images_):
        return float(np.sum(keras.losses.sparse_categorical_crossentropy(y, fn(images_), from_logits=True)))

    assert loss(adv) > loss(x)
    fgsm = lib.fgsm(step, x, y, eps, norm)
    assert fgsm.min() >= 0 and fgsm.max() <= 1 and (fgsm != x).any()


def test_targeted_pgd_moves_towards_the_target(vit, images):
    import keras

    x, y = images
    fn = head_logits(vit, "class")
    targets = (y + 3) % 10
    adv = lib.pgd(lib.compile_step(fn, "linf"), x, y, 8 / 255, "linf", steps=4, targets=targets)

    def target_loss(images_):
        return float(np.sum(keras.losses.sparse_categorical_crossentropy(targets, fn(images_), from_logits=True)))

    assert target_loss(adv) < target_loss(x)
    assert np.abs(adv.astype(np.float64) - x).max() <= 8 / 255


def test_epsilon_zero_keeps_accuracy_and_transfer_diagonal(tiny_dataset):
    from vitlab.experiments import adversarial

    adapters = [runner.resolve_model(n, num_classes=10) for n in ("deit_test_distilled", "resnet_test")]
    config = runner.build_config("adversarial", overrides=["epsilons=0,4/255", "steps=2", "heads=class,average"])
    result = adversarial.run(adapters, tiny_dataset, config, Context())
    accuracy = result.arrays["accuracy"]  # model x head x attack x epsilon
    for m, adapter in enumerate(adapters):
        for h, head in enumerate(config.heads):
            if not adapter.has_dist_token and head != "class":
                assert np.isnan(accuracy[m, h]).all()
                continue
            clean = np.mean(
                np.concatenate(
                    [
                        np.asarray(adapter.logits(b["image"], head=head)).argmax(-1) == b["label"]
                        for b in tiny_dataset.batches()
                    ]
                )
            )
            np.testing.assert_allclose(accuracy[m, h, :, 0], clean)
    # crafted on a model and judged by itself (average head) = its white-box accuracy
    transfer = result.arrays["transfer"]
    np.testing.assert_allclose(transfer[:, :, 0, 0], accuracy[0, 1])
    np.testing.assert_allclose(transfer[:, :, 1, 1], accuracy[1, 0])
    assert transfer.shape == (2, 2, 2, 2)
    assert result.summary["pgd@4_255/deit_test_distilled/average"] == accuracy[0, 1, 1, 1]


@pytest.mark.parametrize(
    "override,message",
    [("attacks=cw", "'cw'"), ("epsilons=0,2", "epsilon 2"), ("norm=l1", "'l1'"), ("heads=shape", "'shape'")],
)
def test_bad_attack_settings_are_named(override, message):
    with pytest.raises(ConfigError, match=message):
        runner.build_config("adversarial", overrides=[override])

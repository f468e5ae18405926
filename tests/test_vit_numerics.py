"""The ViT's numbers stay what they were when its layers change for speed.

tests/data/vit_numerics.npz holds, for a tiny ViT with fixed weights and inputs, what the
layers computed before the CPU speed work on attention, GELU and the Dense layers' input
shape: the logits, the attention maps, logits with tokens dropped inside the network, the
gradients of a loss and the weights after one step of the trainer's AdamW (with weight
decay and gradient clipping). Rewriting the same mathematics must give them back within
float32 rounding; running this file as a script rewrites the reference (only ever from
code whose numbers are the ones to keep).

    .venv/bin/python tests/test_vit_numerics.py   # rewrite tests/data/vit_numerics.npz
"""

import os
from pathlib import Path

import numpy as np

REFERENCE = Path(__file__).parent / "data" / "vit_numerics.npz"
# patch 4 on 16 px: 16 patch tokens and the class token; head width 8, so the attention scale
# 8 ** -0.5 is not a power of two and its rounding counts
ARCH = dict(image_size=16, patch_size=4, num_classes=5, hidden_dim=16, depth=2, num_heads=2, mlp_ratio=2.0)
BATCH = 3


def _model():
    import keras

    from vitlab.models.vit import VisionTransformer

    model = VisionTransformer(**ARCH, mean=(0.5, 0.4, 0.3), std=(0.2, 0.25, 0.3), name="reference_vit")
    rng = np.random.default_rng(7)
    for variable in model.weights:  # every weight drawn here, none from Keras' initializers
        scale = 1.0 if "gamma" in variable.path else 0.3
        base = 1.0 if "gamma" in variable.path else 0.0
        variable.assign((base + scale * rng.standard_normal(variable.shape)).astype("float32"))
    return keras, model


def _inputs():
    rng = np.random.default_rng(11)
    images = rng.random((BATCH, ARCH["image_size"], ARCH["image_size"], 3), dtype=np.float32)
    targets = np.eye(ARCH["num_classes"], dtype=np.float32)[rng.integers(0, ARCH["num_classes"], BATCH)]
    keep = rng.random((BATCH, (ARCH["image_size"] // ARCH["patch_size"]) ** 2)) > 0.4
    return images, targets, keep


def compute():
    """Every number the reference holds, from the code as it is now."""
    keras, model = _model()
    from keras import ops

    from vitlab.training import trainer
    from vitlab.training.recipe_sections import OptimSection

    images, targets, keep = _inputs()
    out = {"logits": ops.convert_to_numpy(model(images))}
    forward = model.forward(images, return_attention=True, return_tokens=True)
    out["attention_last"] = ops.convert_to_numpy(forward["attention"][-1])
    out["tokens_first"] = ops.convert_to_numpy(forward["tokens"][0])
    out["logits_dropped"] = ops.convert_to_numpy(model.forward(images, token_keep={1: keep})["logits"])

    import tensorflow as tf

    with tf.GradientTape() as tape:
        logits = model(images, training=True)
        loss = ops.mean(keras.losses.categorical_crossentropy(targets, logits, from_logits=True))
    gradients = tape.gradient(loss, model.trainable_variables)
    out["loss"] = np.float32(loss)
    for variable, gradient in zip(model.trainable_variables, gradients):
        out[f"grad/{variable.path}"] = ops.convert_to_numpy(gradient)

    training = trainer.TrainingModel(model)
    optim = OptimSection(learning_rate=1e-2, warmup_epochs=0.0, weight_decay=0.05, clip_norm=0.5, epochs=1)
    training.compile(optimizer=trainer.optimizer(optim, steps_per_epoch=10), jit_compile=False)
    training.train_on_batch(images, targets)
    for variable in model.trainable_variables:
        out[f"step/{variable.path}"] = ops.convert_to_numpy(variable)
    return out


def test_logits_attention_gradients_and_one_training_step_match_the_reference():
    reference = dict(np.load(REFERENCE))
    now = compute()
    assert sorted(now) == sorted(reference)
    for key, expected in reference.items():
        # float32 rounding of a reordered computation moves the forward and the gradients by
        # 1e-6 relative; AdamW's first step is lr * g / (|g| + eps), so where a gradient is near
        # 0 that rounding can show in the updated weight, up to 0.5% of the learning rate (1e-2)
        atol = 5e-5 if key.startswith("step/") else 1e-5
        np.testing.assert_allclose(now[key], expected, rtol=1e-5, atol=atol, err_msg=key)


def test_one_training_step_moves_every_weight():
    """The reference is not trivially met: the step changes each weight tensor by far more than the tolerance."""
    reference = dict(np.load(REFERENCE))
    _, model = _model()
    for variable in model.trainable_variables:
        moved = np.max(np.abs(reference[f"step/{variable.path}"] - np.asarray(variable)))
        assert moved > 1e-3, variable.path


if __name__ == "__main__":
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    REFERENCE.parent.mkdir(exist_ok=True)
    np.savez(REFERENCE, **compute())
    print(f"wrote {REFERENCE}")

"""FGSM and PGD in [0, 1] pixel space, L-infinity or L2, untargeted or targeted.

The caller passes a `logits_fn(images) -> logits` (e.g. `lambda x: adapter.logits(x, head)`);
this module differentiates through whichever Keras backend is active: tf.GradientTape
inside one tf.function on TensorFlow, jax.grad under jax.jit on JAX. One compiled step is a
forward + backward pass plus the projection, so PGD-k costs k gradient passes and the
evaluation one forward pass more.

The final projection is done again in float64 NumPy so that the guarantees hold exactly,
not up to float32 rounding: every output pixel lies in [0, 1], and ||x_adv - x||_inf <= eps
(L2: ||x_adv - x||_2 <= eps per image).
"""

import numpy as np

from vitlab.errors import UserError

NORMS = ("linf", "l2")


class AttackError(UserError):
    pass


def check_attack(norm, epsilons):
    if norm not in NORMS:
        raise AttackError(f"norm {norm!r} is not one of {', '.join(NORMS)}")
    for eps in epsilons:
        if not 0.0 <= float(eps) <= 1.0:
            raise AttackError(f"epsilon {eps} is outside [0, 1] (pixel units: 8/255 is 0.0314)")


def _loss(logits_fn, images, labels):
    import keras

    logits = logits_fn(images)
    losses = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    return keras.ops.sum(losses)  # a sum, so each image's gradient is independent of the batch


def _update(images, originals, gradient, eps, step_size, norm, direction):
    """One ascent (direction=+1) or descent (-1) step, projected on the ball and [0, 1]."""
    from keras import ops

    gradient = gradient * direction
    if norm == "linf":
        images = images + step_size * ops.sign(gradient)
        images = ops.clip(images, originals - eps, originals + eps)
    else:
        axes = (1, 2, 3)
        grad_norm = ops.sqrt(ops.sum(gradient * gradient, axis=axes, keepdims=True)) + 1e-12
        images = images + step_size * gradient / grad_norm
        delta = images - originals
        delta_norm = ops.sqrt(ops.sum(delta * delta, axis=axes, keepdims=True)) + 1e-12
        delta = delta * ops.minimum(1.0, eps / delta_norm)
        images = originals + delta
    return ops.clip(images, 0.0, 1.0)


def compile_step(logits_fn, norm="linf"):
    """step(images, originals, labels, eps, step_size, direction) -> images, compiled once."""
    from vitlab.perturb import compiled

    backend = compiled.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        def step(images, originals, labels, eps, step_size, direction):
            with tf.GradientTape() as tape:
                tape.watch(images)
                loss = _loss(logits_fn, images, labels)
            gradient = tape.gradient(loss, images)
            return _update(images, originals, gradient, eps, step_size, norm, direction)

        return compiled.compile_fn(step)
    if backend == "jax":
        import jax

        grad = jax.grad(lambda images, labels: _loss(logits_fn, images, labels))

        @jax.jit
        def step(images, originals, labels, eps, step_size, direction):
            return _update(images, originals, grad(images, labels), eps, step_size, norm, direction)

        return step
    raise AttackError(f"adversarial attacks need the tensorflow or jax backend, not {backend!r}")


def random_start(shape, eps, norm, rng):
    """A random point of the eps-ball around 0 (NumPy, from a seeded generator)."""
    if norm == "linf":
        return rng.uniform(-eps, eps, size=shape).astype("float32")
    direction = rng.normal(size=shape)
    direction /= np.sqrt((direction.reshape(shape[0], -1) ** 2).sum(axis=1)).reshape(-1, 1, 1, 1) + 1e-12
    radius = eps * rng.uniform(0, 1, size=(shape[0], 1, 1, 1))
    return (direction * radius).astype("float32")


def project_exact(adversarial, originals, eps, norm="linf"):
    """Project onto the eps-ball around `originals` and [0, 1] with no rounding slack (float32 out)."""
    x0 = np.asarray(originals, dtype=np.float32)
    x064 = x0.astype(np.float64)
    adv = np.asarray(adversarial, dtype=np.float64)
    if norm == "linf":
        low, high = np.maximum(x064 - eps, 0.0), np.minimum(x064 + eps, 1.0)
        out = np.clip(adv, low, high).astype(np.float32)
        # float32 rounding may step just outside [low, high]: move such pixels one ulp inwards
        out = np.where(out.astype(np.float64) > high, np.nextafter(out, x0), out)
        out = np.where(out.astype(np.float64) < low, np.nextafter(out, x0), out)
        return out.astype(np.float32)
    delta = np.clip(adv, 0.0, 1.0) - x064
    count = len(x0)
    norms = np.sqrt((delta.reshape(count, -1) ** 2).sum(axis=1))
    factor = np.minimum(1.0, eps / np.maximum(norms, 1e-300)).reshape(-1, 1, 1, 1)
    out = x0.copy()
    for _ in range(40):  # shrink each image until its float32 version is inside the ball
        candidate = np.clip(x064 + delta * factor, 0.0, 1.0).astype(np.float32)
        distance = np.sqrt(((candidate.astype(np.float64) - x064).reshape(count, -1) ** 2).sum(axis=1))
        inside = distance <= eps
        out[inside] = candidate[inside]
        if inside.all():
            return out
        factor[~inside] *= 0.999
    return out  # images never inside stay at the original (distance 0)


def attack(step, images, labels, eps, norm="linf", steps=10, step_size=None, noise=None, targets=None):
    """FGSM (steps=1, step_size=eps, no noise) or PGD. Returns float32 adversarial images.

    step: from compile_step. noise: a random start in the eps-ball (random_start), or None.
    targets: labels to move towards (targeted attack); None attacks `labels` (untargeted).
    """
    originals = np.asarray(images, dtype=np.float32)
    if eps == 0 or steps == 0:
        return originals.copy()
    step_size = float(eps if step_size is None else step_size)
    current = originals if noise is None else np.clip(originals + noise, 0.0, 1.0).astype(np.float32)
    current = project_exact(current, originals, eps, norm)
    direction = -1.0 if targets is not None else 1.0
    goal = np.asarray(targets if targets is not None else labels, dtype=np.int32)
    for _ in range(int(steps)):
        current = step(current, originals, goal, np.float32(eps), np.float32(step_size), np.float32(direction))
    return project_exact(np.asarray(current), originals, eps, norm)


def fgsm(step, images, labels, eps, norm="linf", targets=None):
    return attack(step, images, labels, eps, norm, steps=1, step_size=eps, targets=targets)


def pgd(step, images, labels, eps, norm="linf", steps=10, step_size=None, noise=None, targets=None):
    """PGD; step_size defaults to 2.5 * eps / steps (Madry et al.)."""
    step_size = 2.5 * eps / max(int(steps), 1) if step_size is None else step_size
    return attack(step, images, labels, eps, norm, steps, step_size, noise, targets)

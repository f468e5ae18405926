"""The training objective, shared by model.fit and the custom distributed loop.

A plain model learns its (soft) targets with cross-entropy. A DeiT with a distillation
token learns with two heads: the class head on the labels and the distillation head on
the teacher (hard: the teacher's argmax, as DeiT; soft: KL at a temperature), and the loss
is their weighted average (0.5 / 0.5 by default). When the teacher is shape-biased (trained
on stylized images) the distillation token becomes the paper's "shape token".
"""

import keras
from keras import ops

from vitlab.training.recipe_sections import DistillSection


def student_heads(model, images, training):
    """{'class': logits[, 'dist': logits]} in float32; both heads of a distilled ViT."""
    if getattr(model, "distilled", False) and hasattr(model, "forward"):
        heads = model.forward(images, training=training)["heads"]
    else:
        heads = {"class": model(images, training=training)}
    return {name: ops.cast(logits, "float32") for name, logits in heads.items()}


def teacher_logits(teacher, images):
    """The frozen teacher's logits, resizing the batch when the teacher expects another size."""
    size = getattr(teacher, "image_size", None)
    if size and images.shape[1] is not None and int(images.shape[1]) != int(size):
        images = ops.image.resize(images, (size, size))
    return ops.stop_gradient(ops.cast(teacher(images, training=False), "float32"))


def teacher_targets(logits, config: DistillSection):
    """Hard: one-hot of the teacher's argmax; soft: softmax at the temperature."""
    if config.kind == "hard":
        return ops.one_hot(ops.argmax(logits, axis=-1), ops.shape(logits)[-1])
    return ops.softmax(logits / config.temperature, axis=-1)


def per_example_loss(heads, targets, teacher_out=None, config: DistillSection | None = None):
    """Loss per image (no reduction), so each training path can average it its own way."""
    class_loss = keras.losses.categorical_crossentropy(targets, heads["class"], from_logits=True)
    if "dist" not in heads:
        return class_loss
    config = config or DistillSection()
    if teacher_out is None:  # a distilled architecture trained without teacher: both heads on labels
        dist_loss = keras.losses.categorical_crossentropy(targets, heads["dist"], from_logits=True)
    elif config.kind == "hard":
        dist_loss = keras.losses.categorical_crossentropy(
            teacher_targets(teacher_out, config), heads["dist"], from_logits=True
        )
    else:
        temperature = config.temperature
        student = ops.softmax(heads["dist"] / temperature, axis=-1)
        dist_loss = keras.losses.kl_divergence(teacher_targets(teacher_out, config), student) * temperature**2
    weight = config.dist_weight
    return (1.0 - weight) * class_loss + weight * dist_loss


def combined_logits(heads):
    """What the model predicts at inference: the average of its heads (DeiT)."""
    if "dist" in heads:
        return (heads["class"] + heads["dist"]) / 2.0
    return heads["class"]

"""DeiT-style augmentation as a tf.data stage, built from Keras and keras-cv layers.

Batches leave as (images float32 [0, 1], targets float32 one-hot, label-smoothed and mixed),
so every loss in vitlab.training.distill works on soft targets and MixUp/CutMix just work.

Every random draw is keyed by the batch's position in the stream: before a batch is
augmented, each layer's seed generator is set to (seed + layer, position x 4096), and the
MixUp-or-CutMix coin is a stateless draw of the same key. The stream is then a function of
the seed alone, whatever iterators a strategy opens over it and however a resume rebuilds
it (measured: a MirroredStrategy resume with flips differed by 0.057 from the uninterrupted
weights before keying, 0.0 after; tests/test_training_mirrored.py).
"""

import keras

from vitlab.training.recipe_sections import AugmentSection

VALUE_RANGE = (0.0, 1.0)
DTYPE = "float32"  # pixels stay float32 under a mixed-precision policy; the model casts


def image_augmenter(config: AugmentSection, seed=0):
    """Per-image augmentation (flip, RandAugment, random erasing) as one Keras Sequential, or None."""
    layers = []
    if config.flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=seed, dtype=DTYPE))
    if config.rand_augment:
        layers.append(keras.layers.RandAugment(value_range=VALUE_RANGE, num_ops=config.rand_augment_ops,
                                               factor=config.rand_augment_factor, seed=seed + 1,
                                               dtype=DTYPE))
    if config.erasing_prob > 0:
        layers.append(keras.layers.RandomErasing(factor=config.erasing_prob, value_range=VALUE_RANGE, seed=seed + 2,
                                                  dtype=DTYPE))
    return keras.Sequential(layers, name="augment") if layers else None


def repeated(augmenter, repeats):
    """keras-cv RepeatedAugmentation: each image appears `repeats` times, augmented independently."""
    import keras_cv

    return keras_cv.layers.RepeatedAugmentation(augmenters=[augmenter] * repeats, shuffle=True, dtype=DTYPE)


def mixer_layers(config: AugmentSection, seed=0):
    """The MixUp and CutMix layers a config asks for (batch_mixer combines them)."""
    mixers = []
    if config.mixup_alpha > 0:
        mixers.append(keras.layers.MixUp(alpha=config.mixup_alpha, seed=seed + 3, dtype=DTYPE))
    if config.cutmix_alpha > 0:
        mixers.append(keras.layers.CutMix(factor=config.cutmix_alpha, seed=seed + 4, dtype=DTYPE))
    return mixers


def batch_mixer(config: AugmentSection, seed=0, mixers=None):
    """MixUp and/or CutMix on a {"images", "labels"} batch (DeiT: one of them per batch), or None.
    The returned function takes the batch and its stream position (the key of the coin)."""
    mixers = mixer_layers(config, seed) if mixers is None else mixers
    if not mixers:
        return None
    if len(mixers) == 1:
        return lambda batch, position=0: mixers[0](batch, training=True)
    mixup, cutmix = mixers

    def either(batch, position=0):
        import tensorflow as tf

        key = tf.stack([tf.constant(seed + 5, tf.int64), tf.cast(position, tf.int64)])
        return tf.cond(tf.random.stateless_uniform((), seed=key) < 0.5, lambda: mixup(batch, training=True),
                       lambda: cutmix(batch, training=True))

    return either


KEY_STRIDE = 4096  # seed-generator draws one batch may take (each call takes one or a few)


def seed_states(*layers):
    """The seed-generator state variables of Keras layers (None entries skipped)."""
    states = []
    for layer in layers:
        if layer is None:
            continue
        states += [v for v in layer.variables if v.path.endswith("seed_generator_state")]
    return states


def key_draws(states, seed, position):
    """Set each seed generator to (seed + its index, position x KEY_STRIDE): the draws of the
    batch at `position` then depend on the seed and the position only."""
    import tensorflow as tf

    position = tf.cast(position, tf.int64)
    for index, state in enumerate(states):
        state.assign(tf.stack([tf.constant(seed + index, tf.int64), position * KEY_STRIDE]))


def soft_targets(labels, num_classes, label_smoothing=0.0):
    import tensorflow as tf

    targets = tf.one_hot(tf.cast(labels, tf.int32), num_classes, dtype=tf.float32)
    if label_smoothing:
        targets = targets * (1.0 - label_smoothing) + label_smoothing / num_classes
    return targets


def training_batches(pipeline, config: AugmentSection, num_classes, batch_size, seed=0, shuffle_buffer=2048,
                     image_size=None, count=None):
    """An endless tf.data pipeline of augmented (images, targets) batches of `batch_size`.

    With repeated augmentation, batches are drawn `batch_size // repeats` images at a time
    and each image is repeated, so the batch size the optimizer sees stays `batch_size`.
    """
    import tensorflow as tf

    if batch_size % config.repeats:
        from vitlab.config import ConfigError

        raise ConfigError(f"augment.repeats: {config.repeats} must divide optim.batch_size {batch_size}")
    images = pipeline.unbatch().map(lambda b: (b["image"], b["label"]))
    if image_size:
        images = images.map(lambda x, y: (tf.image.resize(x, (image_size, image_size)), y))
    # Repeat, then shuffle the endless stream with a fixed seed: each new iterator replays one
    # order. (A reshuffling shuffle before repeat draws each pass's order from a seed generator
    # that advances with every iterator made over the pipeline, so a distributed fit, which
    # makes more than one, trained on other orders from run to run and resumed inexactly.)
    images = images.repeat()
    if count:  # a buffer past one pass would hold copies of one image (and take passes to fill)
        shuffle_buffer = min(shuffle_buffer, count)
    if shuffle_buffer:
        images = images.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=False)
    images = images.batch(batch_size // config.repeats, drop_remainder=True).enumerate()
    augmenter = image_augmenter(config, seed)
    mixers = mixer_layers(config, seed)
    mixer = batch_mixer(config, seed, mixers)
    states = seed_states(augmenter, *mixers)

    def augment(position, pair):
        x, y = pair
        key_draws(states, seed, position)
        batch = {"images": x, "labels": soft_targets(y, num_classes, config.label_smoothing)}
        if config.repeats > 1:
            batch = repeated(augmenter or keras.layers.Identity(dtype=DTYPE), config.repeats)(batch, training=True)
        elif augmenter is not None:
            batch = {"images": augmenter(batch["images"], training=True), "labels": batch["labels"]}
        if mixer is not None:
            batch = mixer(batch, position)
        return tf.clip_by_value(batch["images"], 0.0, 1.0), batch["labels"]

    # One call at a time unless asked: the Keras layers draw from stateful seed generators, and
    # parallel calls take their draws in a racing order, so a rebuilt pipeline (a resume) would
    # flip and mix other images than the first did. Sequential, the stream is the seed's alone.
    calls = tf.data.AUTOTUNE if config.parallel else None
    return images.map(augment, num_parallel_calls=calls).prefetch(tf.data.AUTOTUNE)


def evaluation_batches(pipeline, num_classes, image_size=None):
    """Validation (images, one-hot targets) batches, unaugmented."""
    import tensorflow as tf

    def convert(batch):
        images = batch["image"]
        if image_size:
            images = tf.image.resize(images, (image_size, image_size))
        return images, soft_targets(batch["label"], num_classes)

    from vitlab.data.dataset import finite_pass

    return finite_pass(pipeline.map(convert).prefetch(tf.data.AUTOTUNE))

"""Training augmentation as a tf.data stage, in DeiT's order and with timm's definitions.

Per image: crop (vitlab.training.crops), horizontal flip (p 0.5), RandAugment
(vitlab.training.randaugment), random erasing (vitlab.training.erasing); per batch: MixUp or
CutMix (vitlab.training.mixing) with label-smoothed targets. Batches leave as (images
float32, targets float32 [B, K] soft), so every loss in vitlab.training.distill works on soft
targets. Pixels are in [0, 1] up to random erasing, whose noise (mean + std x N(0, 1), the
model's own mean/std) is deliberately left unclipped, as timm erases the normalised tensor.

Repeated augmentation (deit samplers.py RASampler): an epoch of DeiT sees len(dataset)
samples, each image three times, each copy in the same optimizer step on another GPU. Here a
batch of B holds B / repeats images, tiled `repeats` times (copy k of every image in block k,
so under MirroredStrategy each replica's slice holds distinct images, as each of DeiT's GPUs
does) and augmented independently; an epoch counts samples, so it too sees 1 / repeats of the
images. What differs: RASampler also truncates each epoch to a multiple of 256 samples, and
timm mixes each GPU's batch with itself reversed, vitlab the whole batch (with B / repeats
even, no image is mixed with its own copy).

Every random draw is a stateless function of (seed, the batch's stream position): a batch
is the same whatever iterators a strategy opens over the stream, however a resume rebuilds
it, and with `parallel` on or off (tests/test_training_mirrored.py, tests/test_augment_timm.py).
"""

import dataclasses

from vitlab.training.recipe_sections import AugmentSection

IMAGENET_MEAN = (0.485, 0.456, 0.406)  # timm's defaults, for callers that name no model
IMAGENET_STD = (0.229, 0.224, 0.225)
STAGES = {"crop": 1, "flip": 2, "rand_augment": 3, "erasing": 4, "mixing": 5}


def resolved(config: AugmentSection) -> AugmentSection:
    """A copy with the preset's values (or off) in the fields left unset."""
    return dataclasses.replace(config).validate()


def crop_kind(config: AugmentSection, image_size):
    """The crop a config means at this image size ('auto': DeiT's rule, padded at 32 px and below)."""
    if config.crop == "auto":
        return "padded" if image_size <= 32 else "random_resized"
    return config.crop


def stage_key(seed, position, stage):
    """The key of one stage's draws for the batch at `position`."""
    import tensorflow as tf

    base = tf.stack([tf.cast(seed, tf.int64), tf.cast(position, tf.int64)])
    return tf.random.experimental.stateless_fold_in(base, STAGES[stage])


def augment_images(images, config: AugmentSection, seed, position, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """The per-image stages on a [B, H, W, 3] batch in [0, 1] (config already resolved)."""
    import tensorflow as tf

    from vitlab.training import crops, erasing, randaugment

    size = images.shape[1]
    kind = crop_kind(config, size)
    if kind == "random_resized":
        images = crops.random_resized_crop(images, stage_key(seed, position, "crop"))
    elif kind == "padded":
        images = crops.padded_crop(images, stage_key(seed, position, "crop"), crops.padding_for(size))
    if config.flip:  # torchvision RandomHorizontalFlip: flip when a uniform draw is below 0.5
        flips = tf.random.stateless_uniform(tf.shape(images)[:1], stage_key(seed, position, "flip")) < 0.5
        images = tf.where(flips[:, None, None, None], tf.reverse(images, [2]), images)
    if config.rand_augment:
        images = randaugment.rand_augment(
            images,
            stage_key(seed, position, "rand_augment"),
            mean,
            config.rand_augment_ops,
            config.rand_augment_magnitude,
            config.rand_augment_magnitude_std,
        )
    if config.erasing_prob > 0:
        images = erasing.random_erasing(images, stage_key(seed, position, "erasing"), config.erasing_prob, mean, std)
    return images


def soft_targets(labels, num_classes, label_smoothing=0.0):
    """One-hot targets, smoothed as timm's mixup_target: 1 - s + s / K on the label, s / K elsewhere."""
    import tensorflow as tf

    targets = tf.one_hot(tf.cast(labels, tf.int32), num_classes, dtype=tf.float32)
    if label_smoothing:
        targets = targets * (1.0 - label_smoothing) + label_smoothing / num_classes
    return targets


def augment_batch(
    position, images, labels, config: AugmentSection, num_classes, seed=0, mean=IMAGENET_MEAN, std=IMAGENET_STD
):
    """One batch of B / repeats images -> (images, targets) of B, every draw keyed by position."""
    import tensorflow as tf

    from vitlab.training import mixing

    images = tf.cast(images, tf.float32)  # pixels stay float32 under a mixed-precision policy; the model casts
    targets = soft_targets(labels, num_classes, config.label_smoothing)
    if config.repeats > 1:
        images = tf.tile(images, [config.repeats, 1, 1, 1])
        targets = tf.tile(targets, [config.repeats, 1])
    images = augment_images(images, config, seed, position, mean, std)
    if config.mixup_alpha > 0 or config.cutmix_alpha > 0:
        images, targets, _ = mixing.mix(
            images, targets, stage_key(seed, position, "mixing"), config.mixup_alpha, config.cutmix_alpha
        )
    return images, targets


def training_batches(
    pipeline,
    config: AugmentSection,
    num_classes,
    batch_size,
    seed=0,
    shuffle_buffer=2048,
    image_size=None,
    count=None,
    mean=None,
    std=None,
    start=0,
):
    """An endless tf.data pipeline of augmented (images, targets) batches of `batch_size`,
    from batch `start` on (a resume): every draw is keyed by the batch's position, so the
    batches skipped are never augmented, and the stream is the one an uninterrupted run reads.

    `mean`/`std` are the model's normalisation (random erasing's fill, RandAugment's fill
    colour); left out, timm's ImageNet defaults. With repeated augmentation, batches are
    drawn `batch_size // repeats` images at a time and each image is repeated, so the batch
    size the optimizer sees stays `batch_size`.
    """
    import tensorflow as tf

    config = resolved(config)
    if batch_size % config.repeats:
        from vitlab.config import ConfigError

        raise ConfigError(f"augment.repeats: {config.repeats} must divide optim.batch_size {batch_size}")
    mean, std = tuple(mean or IMAGENET_MEAN), tuple(std or IMAGENET_STD)
    images = pipeline.unbatch().map(lambda b: (b["image"], b["label"]))
    if image_size:
        images = images.map(lambda x, y: (tf.image.resize(x, (image_size, image_size)), y))
    # Repeat, then shuffle the endless stream with a fixed seed: each new iterator replays one
    # order. (A reshuffling shuffle before repeat draws each pass's order from a seed generator
    # that advances with every iterator made over the pipeline, so a distributed fit, which
    # makes more than one, trained on other orders from run to run and resumed inexactly.)
    height, width = images.element_spec[0].shape[:2]
    if height is None or width is None:
        from vitlab.errors import UserError

        raise UserError("augment: the training images have no fixed size; pass image_size (data.image_size)")
    images = images.repeat()
    if count:  # a buffer past one pass would hold copies of one image (and take passes to fill)
        shuffle_buffer = min(shuffle_buffer, count)
    if shuffle_buffer:
        images = images.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=False)
    images = images.batch(batch_size // config.repeats, drop_remainder=True).enumerate()
    if start:
        images = images.skip(start)

    def augment(position, pair):
        return augment_batch(position, pair[0], pair[1], config, num_classes, seed, mean, std)

    calls = tf.data.AUTOTUNE if config.parallel else None
    # Plain TensorFlow throughout (no Python control flow on tensors): AutoGraph would only
    # convert it again, and doubled the time to build the stage.
    augment = tf.autograph.experimental.do_not_convert(augment)
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

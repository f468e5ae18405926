"""tf.data building blocks shared by the sources: ordering, batching, resizing."""

import numpy as np


def resize_images(images, image_size):
    """float32 [0,1] (B, H, W, 3) -> (B, S, S, 3), antialiased when shrinking."""
    import tensorflow as tf

    height = images.shape[1]
    if height == image_size and images.shape[2] == image_size:
        return images
    shrinking = height is not None and height > image_size
    resized = tf.image.resize(images, (image_size, image_size), method="bilinear", antialias=shrinking)
    return tf.clip_by_value(resized, 0.0, 1.0)


def resize_masks(masks, image_size):
    """(B, H, W) masks -> (B, S, S) with nearest-neighbour, so they stay in {0, 1}."""
    import tensorflow as tf

    if masks.shape[1] == image_size and masks.shape[2] == image_size:
        return masks
    return tf.image.resize(masks[..., None], (image_size, image_size), method="nearest")[..., 0]


def resize_and_centre_crop(image, image_size):
    """One uint8 (H, W, C) image of any size -> float32 (S, S, 3): shorter side to S, centre crop."""
    import tensorflow as tf

    image = tf.image.convert_image_dtype(image, tf.float32)
    if image.shape[-1] == 1:
        image = tf.image.grayscale_to_rgb(image)
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = image_size / tf.reduce_min(shape)
    new_size = tf.maximum(tf.cast(tf.math.ceil(shape * scale), tf.int32), image_size)
    image = tf.image.resize(image, new_size, method="bilinear", antialias=True)
    image = tf.image.resize_with_crop_or_pad(image, image_size, image_size)
    return tf.clip_by_value(image, 0.0, 1.0)


def ordered_indices(count, batch_size, seed, shuffle, repeat):
    """Batches of example indices: seeded full shuffle (new order each epoch), optional repeat."""
    import tensorflow as tf

    order = tf.data.Dataset.range(count)
    if shuffle:
        order = order.shuffle(max(count, 1), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        order = order.repeat()
    return order.batch(batch_size)


def array_pipeline(columns, image_size, batch_size, limit, seed, shuffle, repeat):
    """A pipeline over in-memory arrays: `columns` has image (uint8, N,H,W[,3]), label, and
    optionally mask (N,H,W) and label2; returns (pipeline, count)."""
    import tensorflow as tf

    count = len(columns["label"]) if limit is None else min(int(limit), len(columns["label"]))
    tensors = {key: tf.constant(np.asarray(value)[:count]) for key, value in columns.items()}

    def gather(indices):
        images = tf.cast(tf.gather(tensors["image"], indices), tf.float32) / 255.0
        if len(tensors["image"].shape) == 3:
            images = tf.repeat(images[..., None], 3, axis=-1)
        batch = {"image": resize_images(images, image_size),
                 "label": tf.cast(tf.gather(tensors["label"], indices), tf.int32),
                 "index": indices}
        if "mask" in tensors:
            batch["mask"] = resize_masks(tf.cast(tf.gather(tensors["mask"], indices), tf.float32), image_size)
        if "label2" in tensors:
            batch["label2"] = tf.cast(tf.gather(tensors["label2"], indices), tf.int32)
        return batch

    pipeline = ordered_indices(count, batch_size, seed, shuffle, repeat)
    return pipeline.map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE), count

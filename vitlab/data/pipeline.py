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


def resize_and_centre_crop(image, image_size, crop_pct=None, interpolation=None):
    """One uint8 (H, W, C) image of any size -> float32 (S, S, 3): the evaluation transform.

    The shorter side goes to floor(S / crop_pct), then the centre S x S crop, at the pixel
    positions of torchvision's Resize + CenterCrop (vitlab/protocol/crop.py). crop_pct and
    interpolation default to the official evaluate.py's Resize(256) + CenterCrop(224), bilinear.
    """
    import tensorflow as tf

    image = tf.image.convert_image_dtype(image, tf.float32)
    if image.shape[-1] == 1:
        image = tf.image.grayscale_to_rgb(image)
    new_size, top, left = _crop_geometry(tf.shape(image)[:2], image_size, crop_pct)
    image = tf.image.resize(image, new_size, method=_method(interpolation), antialias=True)
    image = tf.image.crop_to_bounding_box(image, top, left, image_size, image_size)
    return tf.clip_by_value(image, 0.0, 1.0)


def resize_and_centre_crop_mask(mask, image_size, crop_pct=None):
    """A (H, W) or (H, W, 1) label mask -> (S, S) with the same geometry as its image, nearest."""
    import tensorflow as tf

    mask = mask if len(mask.shape) == 3 else mask[..., None]
    new_size, top, left = _crop_geometry(tf.shape(mask)[:2], image_size, crop_pct)
    mask = tf.image.resize(mask, new_size, method="nearest")
    return tf.image.crop_to_bounding_box(mask, top, left, image_size, image_size)[..., 0]


def centre_crop_only(image, image_size):
    """One uint8 (H, W, C) image -> float32 (S, S, 3): torchvision CenterCrop(S) alone, no resize
    (zero padding where the image is smaller, as torchvision pads). Hendrycks' ImageNet-C test.py
    (line 244) reads the released 224 x 224 files this way: they were resized and cropped once
    already when the set was made (make_imagenet_c.py line 583)."""
    import tensorflow as tf

    image = tf.image.convert_image_dtype(image, tf.float32)
    if image.shape[-1] == 1:
        image = tf.image.grayscale_to_rgb(image)
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    pad_h, pad_w = tf.maximum(image_size - height, 0), tf.maximum(image_size - width, 0)
    image = tf.pad(image, [[pad_h // 2, pad_h - pad_h // 2], [pad_w // 2, pad_w - pad_w // 2], [0, 0]])
    height, width = tf.shape(image)[0], tf.shape(image)[1]

    def offset(length):  # int(round((length - S) / 2)), half to even, as torchvision CenterCrop
        half = (length - image_size) // 2
        return half + ((length - image_size) % 2) * (half % 2)

    return tf.image.crop_to_bounding_box(image, offset(height), offset(width), image_size, image_size)


def transform_image(image, image_size, resize="crop", crop_pct=None, interpolation=None):
    """One decoded image -> float32 (S, S, 3) by a resize mode (RESIZE_MODES)."""
    if resize == "squash":  # the official segmentation transform: bilinear whatever the model stores
        return resize_to_square(image, image_size)
    if resize == "centre":
        return centre_crop_only(image, image_size)
    return resize_and_centre_crop(image, image_size, crop_pct, interpolation)


def resize_to_square(image, image_size, interpolation=None):
    """One uint8 (H, W, C) image -> float32 (S, S, 3), both sides to S and no crop: the official
    segmentation transform, torchvision Resize((512, 512)) with its default bilinear (utils.py
    get_voc_dataset, lines 22-26); the loaders call it without an interpolation for that reason."""
    import tensorflow as tf

    image = tf.image.convert_image_dtype(image, tf.float32)
    if image.shape[-1] == 1:
        image = tf.image.grayscale_to_rgb(image)
    image = tf.image.resize(image, (image_size, image_size), method=_method(interpolation), antialias=True)
    return tf.clip_by_value(image, 0.0, 1.0)


def resize_to_square_mask(mask, image_size):
    """A (H, W) or (H, W, 1) label mask -> (S, S), nearest (PIL resizes palette images nearest)."""
    import tensorflow as tf

    mask = mask if len(mask.shape) == 3 else mask[..., None]
    return tf.image.resize(mask, (image_size, image_size), method="nearest")[..., 0]


def crop_record(crop_pct, interpolation):
    """What a run records of the evaluation crop (Dataset.preprocessing; feature caches key on it)."""
    from vitlab.protocol import crop

    crop_pct = crop.PAPER_CROP_PCT if crop_pct is None else float(crop_pct)
    return {
        "resize": "shorter side to floor(image_size / crop_pct), centre crop",
        "crop_pct": crop_pct,
        "interpolation": interpolation or crop.PAPER_INTERPOLATION,
    }


def _method(interpolation):
    from vitlab.protocol import crop

    interpolation = interpolation or crop.PAPER_INTERPOLATION
    if interpolation not in crop.INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {', '.join(crop.INTERPOLATIONS)}, got {interpolation!r}")
    return interpolation


def _crop_geometry(shape, image_size, crop_pct):
    """(resized (h, w), top, left) as int32 tensors: integer arithmetic, so the positions equal
    torchvision's exactly (floor for the long side, half-to-even rounding for the offsets)."""
    import tensorflow as tf

    from vitlab.protocol import crop

    short = tf.constant(crop.scale_size(image_size, crop.PAPER_CROP_PCT if crop_pct is None else crop_pct), tf.int64)
    height, width = tf.cast(shape[0], tf.int64), tf.cast(shape[1], tf.int64)
    new_h = tf.where(height <= width, short, short * height // width)
    new_w = tf.where(height <= width, short * width // height, short)

    def offset(length):
        half = (length - image_size) // 2
        return half + ((length - image_size) % 2) * (half % 2)  # round(d / 2), half to even

    return (
        tf.cast(tf.stack([new_h, new_w]), tf.int32),
        tf.cast(offset(new_h), tf.int32),
        tf.cast(offset(new_w), tf.int32),
    )


def index_order(count, seed, shuffle, repeat):
    """Example indices 0..count-1: seeded full shuffle (new order each epoch), optional repeat.
    Every pipeline draws its order here, so resume and replay see the same sequence."""
    import tensorflow as tf

    order = tf.data.Dataset.range(count)
    if shuffle:
        order = order.shuffle(max(count, 1), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        order = order.repeat()
    return order


def ordered_indices(count, batch_size, seed, shuffle, repeat):
    """Batches of example indices in `index_order`."""
    return index_order(count, seed, shuffle, repeat).batch(batch_size)


def file_pipeline(count, read, finish, batch_size, seed, shuffle, repeat):
    """A pipeline over files decoded one example at a time: `read(index)` returns the example
    with an `ok` flag (unreadable files are dropped, the caller names them), `finish` resizes."""
    import tensorflow as tf

    order = index_order(count, seed, shuffle, repeat)
    return (
        order.map(read, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .filter(lambda example: example["ok"])
        .map(finish, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )


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
        batch = {
            "image": resize_images(images, image_size),
            "label": tf.cast(tf.gather(tensors["label"], indices), tf.int32),
            "index": indices,
        }
        if "mask" in tensors:
            batch["mask"] = resize_masks(tf.cast(tf.gather(tensors["mask"], indices), tf.float32), image_size)
        if "label2" in tensors:
            batch["label2"] = tf.cast(tf.gather(tensors["label2"], indices), tf.int32)
        return batch

    pipeline = ordered_indices(count, batch_size, seed, shuffle, repeat)
    return pipeline.map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE), count


# crop: Resize(floor(S / crop_pct)) + CenterCrop(S); squash: Resize((S, S)); centre: CenterCrop(S) alone
RESIZE_MODES = ("crop", "squash", "centre")


def resize_record(resize, crop_pct, interpolation):
    """crop_record for any resize mode."""
    from vitlab.protocol import crop

    if resize == "centre":
        return {"resize": "centre crop only, no resize (released ImageNet-C files)"}
    if resize == "squash":
        return {"resize": "both sides to image_size, no crop", "interpolation": crop.PAPER_INTERPOLATION}
    return crop_record(crop_pct, interpolation)

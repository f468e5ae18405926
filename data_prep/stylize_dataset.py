"""Stylize a whole dataset with AdaIN into an image-folder tree (OUT/<split>/<NNN_class>/<index>.png).

Each image gets one style image, chosen from (seed, image index), so reruns match and an
interrupted run resumes: files already written are skipped. Class folders are prefixed
with the label number so that loading OUT back by path keeps the label order.
"""

import pathlib
import re

import numpy as np

from vitlab import atomic
from vitlab.data.errors import DatasetError


def load_styles(folder, image_size):
    """All decodable images under `folder`, resized/cropped to image_size: float32 (N, S, S, 3)."""
    import tensorflow as tf

    from vitlab.data.folder import IMAGE_SUFFIXES
    from vitlab.data.pipeline import resize_and_centre_crop

    root = pathlib.Path(folder).expanduser()
    if not root.is_dir():
        raise DatasetError(f"style folder {folder!r} does not exist")
    styles = []
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
        try:
            image = tf.io.decode_image(tf.io.read_file(str(path)), channels=3, expand_animations=False)
        except tf.errors.OpError:
            continue
        styles.append(resize_and_centre_crop(image, image_size).numpy())
    if not styles:
        raise DatasetError(f"style folder {folder!r} has no readable images")
    return np.stack(styles)


def _with_weights(role, build, path):
    if path and not pathlib.Path(path).is_file():
        raise DatasetError(f"{role} weights {path!r}: no such file")
    try:
        return build()
    except (OSError, ValueError) as error:
        reason = str(error).splitlines()[0][:160]
        raise DatasetError(f"{role} weights {path!r} do not fit the AdaIN {role}: {reason}") from None


def _folder_name(label, name):
    return f"{label:03d}_{re.sub(r'[^A-Za-z0-9._-]+', '-', str(name))}"


def stylize_dataset(
    dataset,
    styles,
    out,
    encoder_weights=None,
    decoder_weights=None,
    split="test",
    image_size=224,
    alpha=1.0,
    limit=None,
    seed=0,
    data_dir=None,
    batch_size=16,
    progress=None,
    encoder=None,
    decoder=None,
):
    """Write the stylized split; returns the number of images written. `encoder`/`decoder` models
    may be passed directly (tests) instead of weight files."""
    import tensorflow as tf

    from vitlab import data
    from vitlab.data_prep import adain

    if not 0.0 <= alpha <= 1.0:
        raise DatasetError(f"--alpha must be in [0, 1], got {alpha}")
    source = data.load(
        dataset, split=split, image_size=image_size, batch_size=batch_size, limit=limit, data_dir=data_dir
    )
    style_images = load_styles(styles, image_size)
    if encoder is None:
        encoder = _with_weights("encoder", lambda: adain.build_encoder(encoder_weights), encoder_weights)
    if decoder is None:
        if not decoder_weights:
            raise DatasetError("--decoder weights are required (train them with data_prep.adain.train_decoder)")
        decoder = adain.build_decoder()
        _with_weights("decoder", lambda: decoder.load_weights(decoder_weights), decoder_weights)
    root = pathlib.Path(out) / source.split
    for label, name in enumerate(source.class_names):  # every class, so labels survive a reload by path
        (root / _folder_name(label, name)).mkdir(parents=True, exist_ok=True)
    written, done = 0, 0
    for batch in source.batches():
        paths = [
            root / _folder_name(label, source.class_names[label]) / f"{index:08d}.png"
            for label, index in zip(batch["label"], batch["index"])
        ]
        todo = [i for i, path in enumerate(paths) if not path.exists()]
        if todo:
            choice = [np.random.default_rng([seed, int(batch["index"][i])]).integers(len(style_images)) for i in todo]
            result = adain.stylize(encoder, decoder, batch["image"][todo], style_images[choice], alpha)
            pixels = tf.image.convert_image_dtype(result, tf.uint8, saturate=True)
            for i, image in zip(todo, pixels):
                atomic.write_bytes(paths[i], tf.io.encode_png(image).numpy())
                written += 1
        done += len(paths)
        if progress:
            progress(done, source.num_examples)
    return written

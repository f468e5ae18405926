"""Name -> source dispatch for vitlab.data.load / describe."""

import os

from vitlab.data import fashion_mnist, folder, objects_source, shapes_source, tfds_source, voc
from vitlab.data.errors import DatasetError

_FASHION = ("fashion_mnist", "fashion-mnist")


def _kind(name):
    if not isinstance(name, (str, os.PathLike)) or not str(name).strip():
        raise DatasetError(f"dataset name must be a non-empty string, got {name!r}")
    name = str(name)
    if name == "shapes" or name.startswith(("shapes:", "shapes,")):
        return "shapes"
    if objects_source.matches(name):
        return "objects64"
    if name in _FASHION:
        return "fashion_mnist"
    if name.startswith("tfds:"):
        if not name[5:]:
            raise DatasetError("tfds: needs a dataset name, e.g. tfds:cifar10")
        return "tfds"
    if name.startswith("voc:"):
        if not name[4:]:
            raise DatasetError("voc: needs a path, e.g. voc:~/data/VOCdevkit/VOC2012")
        return "voc"
    if os.path.isdir(os.path.expanduser(name)) or os.sep in name or name.startswith((".", "~")):
        return "folder"
    raise DatasetError(
        f"unknown dataset {name!r}; known: shapes[:default|stylized|cue_conflict], objects64[:VARIANT], "
        f"fashion_mnist, tfds:NAME[/CONFIG], voc:PATH, or a folder path"
    )


def _check_sizes(image_size, batch_size, limit):
    if int(image_size) < 1 or int(batch_size) < 1:
        raise DatasetError(f"image_size and batch_size must be >= 1, got {image_size} and {batch_size}")
    if limit is not None and int(limit) < 1:
        raise DatasetError(f"limit must be >= 1, got {limit}")


def describe(name, split="test", data_dir=None, shapes=None):
    kind = _kind(name)
    if kind == "shapes":
        return shapes_source.describe(name, split, shapes)
    if kind == "objects64":
        return objects_source.describe(name, split, shapes)
    if kind == "fashion_mnist":
        return fashion_mnist.describe(split, data_dir)
    if kind == "tfds":
        return tfds_source.describe(str(name)[5:], split, data_dir)
    if kind == "voc":
        return voc.describe(str(name)[4:], split)
    return folder.describe(name, split)


def _check_crop(crop_pct, interpolation, resize="crop"):
    from vitlab.data import pipeline
    from vitlab.protocol import crop

    if resize not in pipeline.RESIZE_MODES:
        raise DatasetError(f"resize must be one of {', '.join(pipeline.RESIZE_MODES)}, got {resize!r}")

    from vitlab.models import preprocessing

    try:  # the one check of a crop (models store theirs, runs override it)
        preprocessing.check(crop_pct, interpolation)
    except ValueError as error:
        raise DatasetError(str(error)) from None
    return {
        "crop_pct": crop.PAPER_CROP_PCT if crop_pct is None else float(crop_pct),
        "interpolation": interpolation or crop.PAPER_INTERPOLATION,
        "resize": resize,
    }


def _load(args):
    name, split, data_dir, shapes = args["name"], args["split"], args["data_dir"], args["shapes"]
    kind = _kind(name)
    _check_sizes(args["image_size"], args["batch_size"], args["limit"])
    eval_crop = _check_crop(args["crop_pct"], args["interpolation"], args["resize"])
    common = dict(
        image_size=int(args["image_size"]),
        batch_size=int(args["batch_size"]),
        limit=args["limit"],
        seed=int(args["seed"]),
        shuffle=bool(args["shuffle"]),
        repeat=bool(args["repeat"]),
    )
    if kind == "shapes":
        return shapes_source.load(name, split, options=shapes, **common)
    if kind == "objects64":
        return objects_source.load(name, split, options=shapes, **common)
    if kind == "fashion_mnist":
        return fashion_mnist.load(split, data_dir=data_dir, **common)
    if kind == "tfds":
        return tfds_source.load(str(name)[5:], split, data_dir=data_dir, **common, **eval_crop)
    if kind == "voc":
        return voc.load(str(name)[4:], split, **common, **eval_crop)
    return folder.load(str(name), split, **common, **eval_crop)


def load(args):
    """The dataset `vitlab.data.load` names. `args` is that call's arguments by name (the signature
    lives there only); the dataset keeps it as load_args, so it can be loaded again."""
    dataset = _load(args)
    dataset.load_args = args
    return dataset


def known_sources():
    return [
        ("shapes", "generated shapes/texture set, splits train/test (texture agrees with class w.p. p=0.8)"),
        ("shapes:stylized", "generated, texture independent of class (Stylized-ImageNet analogue)"),
        ("shapes:cue_conflict", "generated, shape of class a + texture of class b != a (label2)"),
        (
            "objects64",
            "generated 64-px objects: 3-5 instances of the class (layout=multi) or one (layout=single), "
            "photo and procedural textures, texture agrees with class w.p. p=0.8",
        ),
        ("objects64:stylized", "generated 64-px objects, texture independent of class"),
        ("objects64:cue_conflict", "generated 64-px objects, shape of class a + texture of class b != a (label2)"),
        ("fashion_mnist", f"Fashion-MNIST IDX files ({fashion_mnist.DEFAULT_DIR}), splits train/test"),
        ("tfds:NAME[/CONFIG]", "a TFDS dataset prepared in --data-dir (never downloaded by vitlab)"),
        ("voc:PATH", "PASCAL VOC 2012 segmentation (VOC2012 folder): images with per-class object masks"),
        ("PATH", "an image-folder tree: PATH/<class>/*.jpg or PATH/<split>/<class>/*.jpg"),
    ]

"""ImageNet-C as released: files made the way the release was made are read with CenterCrop(224)
alone (Hendrycks' test.py line 244), and vitlab's own corruptions say they are not the release."""

import json

import numpy as np
import pytest
from PIL import Image

from vitlab import data as data_lib
from vitlab.experiments import runner
from vitlab.experiments.run_context import Context
from vitlab.protocol import corruption as protocol
from vitlab.protocol import crop

CLASSES = ("n01440764", "n01443537")


def smooth_image(rng, height, width):
    """A photo-like uint8 image: a coarse random field upsampled (JPEG keeps it close)."""
    coarse = (rng.random((height // 16 + 1, width // 16 + 1, 3)) * 255).astype(np.uint8)
    return np.asarray(Image.fromarray(coarse).resize((width, height), Image.BILINEAR))


def pil_centre_crop(image, size):
    """torchvision CenterCrop(size) of a PIL image at least `size` on each side."""
    width, height = image.size
    top, left = crop.centre_offset(height, size), crop.centre_offset(width, size)
    return image.crop((left, top, left + size, top + size))


def release(image):
    """make_imagenet_c.py: Resize(256) + CenterCrop(224) (lines 583), then JPEG quality 85 (line 119)."""
    pil = Image.fromarray(image)
    short = crop.scale_size(protocol.RELEASED_SIZE, crop.PAPER_CROP_PCT)
    new_h, new_w = crop.resized_shape(pil.height, pil.width, short)
    return pil_centre_crop(pil.resize((new_w, new_h), Image.BILINEAR), protocol.RELEASED_SIZE)


def write_release(root, rng, sizes, quality=protocol.RELEASED_JPEG_QUALITY):
    paths = []
    for index, (height, width) in enumerate(sizes):
        folder = root / CLASSES[index % 2]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"ILSVRC2012_val_{index:08d}.JPEG"
        release(smooth_image(rng, height, width)).save(path, quality=quality, optimize=True)
        paths.append(path)
    return paths


def test_released_files_are_read_with_the_centre_crop_alone(tmp_path):
    rng = np.random.default_rng(0)
    paths = write_release(tmp_path / "fog" / "3", rng, [(300, 400), (400, 300), (256, 256), (375, 500)])
    odd = tmp_path / "fog" / "3" / CLASSES[0] / "odd.png"  # not a released size: cropped, never resized
    Image.fromarray(smooth_image(rng, 231, 240)).save(odd)
    loaded = data_lib.load(str(tmp_path / "fog" / "3"), image_size=224, batch_size=8, resize="centre")
    batch = next(loaded.batches())
    files = sorted(paths[0::2] + [odd]) + sorted(paths[1::2])  # the folder's order: class, then file name
    assert batch["image"].shape == (5, 224, 224, 3) and loaded.preprocessing["resize"].startswith("centre crop only")
    for image, path in zip(batch["image"], files):
        with Image.open(path) as opened:
            reference = np.asarray(pil_centre_crop(opened.convert("RGB"), 224), dtype=np.float32) / 255.0
        np.testing.assert_allclose(image, reference, atol=1e-6, err_msg=str(path))
    # the old path (the model's evaluation crop on top) resampled the released pixels: 8/7 zoom
    twice = next(data_lib.load(str(tmp_path / "fog" / "3"), image_size=224, batch_size=8).batches())["image"]
    assert np.abs(twice - batch["image"]).max() > 0.05


def test_imagenet_c_folder_is_scored_against_alexnet_and_labelled_released(tmp_path):
    """<root>/<corruption>/<severity>/<class>/<file>; clean images from the run's dataset."""
    rng = np.random.default_rng(1)
    from vitlab.experiments import corruption

    clean_root = tmp_path / "clean"
    for index in range(4):
        folder = clean_root / CLASSES[index % 2]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(smooth_image(rng, 300, 360)).save(folder / f"{index}.png")
    for severity in (1, 2):
        write_release(tmp_path / "c" / "fog" / str(severity), rng, [(300, 360)] * 4)
    data = data_lib.load(str(clean_root), image_size=32, batch_size=4)
    adapter = runner.resolve_model("vit_test", num_classes=2)
    config = runner.build_config(
        "corruption", overrides=["corruptions=fog", "severities=1,2", f"imagenet_c={tmp_path / 'c'}"]
    )
    context = Context()
    result = corruption.run([adapter], data, config, context)
    errors = result.arrays["errors"][0, 0]
    assert errors.shape == (2,) and ((errors * 4) % 1 == 0).all()  # 4 images per severity
    # CE against AlexNet's published fog errors at severities 1 and 2
    assert result.arrays["ce"][0, 0] == pytest.approx(errors.sum() / (0.67474 + 0.7605))
    assert any("AlexNet" in note for note in result.notes)
    assert result.config["corruption_images"] == protocol.IMAGES_RELEASED
    assert context.facts == {"corruption_images": protocol.IMAGES_RELEASED}
    assert not any("not the released" in note for note in result.notes)


def test_on_the_fly_corruptions_say_they_are_not_the_release(tmp_path):
    """In the result's config and notes, in every curve title (the frame's `curve` column), in
    run.json (facts) and in the report."""
    from vitlab.experiments import eval_command, evaluation

    options = evaluation.options(
        "corruption", overrides=["corruptions=gaussian_noise", "severities=1"], limit=8, batch_size=8
    )
    run = eval_command.evaluate(options, ["vit_test"], "shapes", out=str(tmp_path / "run"), quiet=True)
    result = run.result("corruption")
    assert result.config["corruption_images"] == protocol.IMAGES_ON_THE_FLY
    assert protocol.NOT_RELEASED_NOTE in result.notes
    frame = result.to_frame(summary=False)
    assert frame.curve.str.contains("vitlab's corruptions, made on the fly").all()
    facts = json.loads((tmp_path / "run" / "run.json").read_text())["facts"]["corruption"]
    assert facts["corruption_images"] == protocol.IMAGES_ON_THE_FLY
    assert "not the released ImageNet-C files" in (tmp_path / "run" / "report" / "index.md").read_text()

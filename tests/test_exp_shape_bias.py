"""Shape bias (Geirhos et al.) on hand-built decisions, file-name parsing, the 16-class mapping."""

import numpy as np
import pytest

from vitlab.data.dataset import from_arrays
from vitlab.experiments import runner, shape_bias
from vitlab.experiments.run_context import Context


def test_shape_bias_by_hand():
    shapes = [0, 1, 2, 3, 4, 0]
    textures = [1, 2, 3, 4, 0, 0]  # the last image has no conflict: left out
    decisions = [0, 2, 3, 1, 0, 9]  # shape, texture, texture, neither, texture
    stats = shape_bias.shape_bias_stats(decisions, shapes, textures, num_classes=5)
    assert stats["count"] == 5
    assert stats["shape_bias"] == pytest.approx(1 / 4)
    assert stats["shape_fraction"] == pytest.approx(1 / 5)
    assert stats["texture_fraction"] == pytest.approx(3 / 5)
    assert stats["neither_fraction"] == pytest.approx(1 / 5)
    np.testing.assert_array_equal(stats["per_class"][[0, 1, 2, 4]], [1.0, 0.0, 0.0, 0.0])
    assert np.isnan(stats["per_class"][3])  # only a "neither" decision


def test_cue_conflict_names():
    assert shape_bias.parse_cue_conflict_name("x/airplane/airplane1-bicycle2.png") == ("airplane", "bicycle")
    for bad in [
        "airplane/airplane1_bicycle2.png",
        "airplane/plane1-bicycle2.png",
        "cat/airplane1-bicycle2.png",
        "airplane/airplane1-bicycle2.jpg",
    ]:
        with pytest.raises(shape_bias.CueConflictError, match=bad.split("/")[-1]):
            shape_bias.parse_cue_conflict_name(bad)


def test_sixteen_categories_average_probabilities():
    categories = shape_bias.categories()
    assert len(categories) == 16 and categories["airplane"] == [404] and len(categories["bear"]) == 4
    probabilities = np.zeros((2, 1000))
    probabilities[0, 404] = 1.0  # airplane
    probabilities[1, [294, 295]] = 0.5  # two of the four bear classes
    aggregated = shape_bias.aggregate_16(probabilities)
    names = list(categories)
    assert aggregated[0, names.index("airplane")] == 1.0
    assert aggregated[1, names.index("bear")] == pytest.approx(0.25)
    assert aggregated[1].argmax() == names.index("bear")


def _write_folder(root, files):
    from PIL import Image

    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((40, 40, 3), 128, np.uint8)).save(path)


def test_geirhos_folder_end_to_end(tmp_path):
    _write_folder(tmp_path, ["airplane/airplane1-bicycle2.png", "knife/knife3-oven1.png", "cat/cat1-cat2.png"])
    imagenet_model = runner.resolve_model("vit_test", num_classes=1000)
    config = runner.build_config("shape-bias", overrides=[f"cue_conflict_dir={tmp_path}"])
    dummy = from_arrays(np.zeros((1, 32, 32, 3), np.float32), [0])
    result = shape_bias.run([imagenet_model], dummy, config, Context())
    assert result.tables[0].rows[0][-1] == 2  # the cat-on-cat image is no conflict
    assert result.arrays["per_class"].shape == (1, 16)
    small_model = runner.resolve_model("vit_test", num_classes=10)
    assert shape_bias.run([runner.resolve_model("resnet_test", num_classes=16)], dummy, config, Context()).arrays[
        "shape_bias"
    ].shape == (1,)  # a 16-category model decides directly
    with pytest.raises(shape_bias.CueConflictError, match="1000"):
        shape_bias.run([small_model], dummy, config, Context())
    _write_folder(tmp_path, ["airplane/airplane-bicycle.png"])
    with pytest.raises(shape_bias.CueConflictError, match="airplane-bicycle.png"):
        shape_bias.run([imagenet_model], dummy, config, Context())


def test_dataset_with_texture_labels(tiny_arrays):
    images, labels, _ = tiny_arrays
    data = from_arrays(images, labels, labels2=(labels + 1) % 10, batch_size=8, num_classes=10)
    adapters = [runner.resolve_model(n, num_classes=10) for n in ("deit_test_distilled", "resnet_test")]
    result = shape_bias.run(adapters, data, runner.build_config("shape-bias"), Context())
    assert result.config["rows"] == [
        "deit_test_distilled/class",
        "deit_test_distilled/dist",
        "deit_test_distilled/average",
        "resnet_test",
    ]
    predictions = np.concatenate([np.asarray(adapters[1].logits(b["image"])).argmax(-1) for b in data.batches()])
    expected = shape_bias.shape_bias_stats(predictions, labels, (labels + 1) % 10, 10)
    np.testing.assert_equal(result.arrays["shape_bias"][3], expected["shape_bias"])
    with pytest.raises(shape_bias.CueConflictError, match="label2"):
        shape_bias.run(adapters, from_arrays(images, labels), runner.build_config("shape-bias"), Context())

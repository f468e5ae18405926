"""The paper's definitions (vitlab/protocol) against hand-computed values and small NumPy
transcriptions of the official formulas, on fixed arrays. No TensorFlow: milliseconds."""

import json
import pathlib

import numpy as np
import pytest
from helpers import official_per_sample_jaccard

from vitlab.protocol import corruption, crop, occlusion, saliency, segmentation


# --- evaluation crop ----------------------------------------------------------------------
def torchvision_eval_geometry(width, height, size, crop_pct):
    """Transcription of torchvision Resize(int(size / crop_pct)) + CenterCrop(size) (PIL sizes W x H)."""
    scale = int(size / crop_pct)
    short, long = min(width, height), max(width, height)
    new_short, new_long = scale, int(scale * long / short)
    new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
    top = int(round((new_h - size) / 2.0))
    left = int(round((new_w - size) / 2.0))
    return new_h, new_w, top, left


@pytest.mark.parametrize(
    "width, height, crop_pct, expected",
    [
        (500, 375, 0.875, (256, 341, 16, 58)),  # round(58.5) = 58: half to even, as torchvision
        (375, 500, 0.875, (341, 256, 58, 16)),
        (500, 375, 0.9, (248, 330, 12, 53)),
        (375, 500, 0.9, (330, 248, 53, 12)),
        (500, 375, 0.95, (235, 313, 6, 44)),  # round(5.5) = 6, round(44.5) = 44
        (500, 375, 1.0, (224, 298, 0, 37)),
    ],
)
def test_crop_geometry_equals_torchvision(width, height, crop_pct, expected):
    assert crop.crop_geometry(height, width, 224, crop_pct) == expected
    assert torchvision_eval_geometry(width, height, 224, crop_pct) == expected


def test_crop_geometry_matches_transcription_on_many_sizes():
    rng = np.random.default_rng(0)
    for width, height in rng.integers(100, 900, size=(200, 2)):
        for crop_pct in (0.875, 0.9, 0.95, 1.0):
            assert crop.crop_geometry(int(height), int(width), 224, crop_pct) == torchvision_eval_geometry(
                int(width), int(height), 224, crop_pct
            )


def test_paper_crop_is_resize_256_centre_224():
    assert crop.scale_size(224, crop.PAPER_CROP_PCT) == 256
    with pytest.raises(ValueError, match="crop_pct"):
        crop.scale_size(224, 1.5)


# --- DINO saliency mask ---------------------------------------------------------------------
def official_dino_mask(attentions, drop_lambda):
    """NumPy transcription of evaluate.py lines 142-148 (torch.sort, cumsum, argsort back)."""
    idx = np.argsort(attentions, axis=1, kind="stable")
    val = np.take_along_axis(attentions, idx, axis=1)
    val = val / val.sum(axis=1, keepdims=True)
    th_attn = np.cumsum(val, axis=1) > (1 - drop_lambda)
    idx2 = np.argsort(idx, axis=1)
    return np.stack([th_attn[b][idx2[b]] for b in range(len(th_attn))])


# masses 0.01 .. 0.30 (sum 1), placed out of order
ATTENTION = np.array([0.05, 0.30, 0.01, 0.15, 0.08, 0.20, 0.02, 0.10, 0.03, 0.06])


@pytest.mark.parametrize(
    "mass, salient",
    [
        (0.2, {1}),  # the cumulative mass from below passes 0.8 only at 0.30
        (0.6, {1, 3, 5}),  # 0.15 + 0.20 + 0.30 hold 0.65 > 0.6; the ascending sum passes 0.4 at 0.15
        (0.9, {0, 1, 3, 4, 5, 7, 9}),  # everything above 0.03 (ascending sum 0.11 > 0.1)
        (1.0, set(range(10))),
    ],
)
def test_dino_mask_on_a_fixed_attention_vector(mass, salient):
    mask = saliency.salient_mask(ATTENTION, mass)
    assert set(np.flatnonzero(mask)) == salient
    assert np.array_equal(saliency.salient_mask(ATTENTION * 3.7, mass), mask)  # mass, not raw values
    assert np.array_equal(official_dino_mask(ATTENTION[None], mass)[0], mask)


def test_dino_mask_equals_the_official_transcription_on_random_rows():
    attention = np.random.default_rng(1).random((8, 196))
    for mass in saliency.PAPER_LAMBDAS:
        assert np.array_equal(saliency.salient_mask(attention, mass), official_dino_mask(attention, mass))


def test_dino_constants_and_pixel_mask():
    assert (saliency.DINO_HEAD, saliency.DINO_BLOCK) == (1, -1)
    assert saliency.PAPER_LAMBDAS == (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
    pixels = saliency.pixel_mask(np.array([True, False, False, True]), grid=2, image_size=4)
    assert pixels.tolist() == [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]]
    images = np.ones((1, 4, 4, 3), np.float32)
    assert saliency.occlude(images, pixels[None], drop_foreground=True)[0, :, :, 0].sum() == 8
    assert saliency.occlude(images, pixels[None], drop_foreground=False)[0, 0, 0, 0] == 1.0


# --- mCE ------------------------------------------------------------------------------------
PUBLISHED_ALEXNET = {  # Hendrycks & Dietterich 2019; google-research/augmix imagenet.py ALEXNET_ERR
    "gaussian_noise": 0.886428,
    "shot_noise": 0.894468,
    "impulse_noise": 0.922640,
    "defocus_blur": 0.819880,
    "glass_blur": 0.826268,
    "motion_blur": 0.785948,
    "zoom_blur": 0.798360,
    "snow": 0.866816,
    "frost": 0.826572,
    "fog": 0.819324,
    "brightness": 0.564592,
    "contrast": 0.853204,
    "elastic_transform": 0.646056,
    "pixelate": 0.717840,
    "jpeg_compression": 0.606500,
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_ALEXNET))
def test_alexnet_errors_equal_the_published_table(name):
    assert corruption.ALEXNET_MEAN_ERRORS[name] == PUBLISHED_ALEXNET[name]


def test_alexnet_table_has_exactly_the_15_corruptions_and_agrees_with_the_per_severity_table():
    from vitlab.perturb import corruptions

    assert list(corruption.ALEXNET_MEAN_ERRORS) == list(corruptions.COMMON)
    for name, mean in PUBLISHED_ALEXNET.items():
        assert np.mean(corruptions.ALEXNET_ERRORS[name]) == pytest.approx(mean, abs=1e-6)


def test_mce_baseline_rule():
    run = [("vit_nano_patch4_32", "vit"), ("resnet_nano_32", "cnn"), ("resnet_test", "cnn")]
    assert corruption.mce_baseline(1000, None, run)[0] == "alexnet"
    assert corruption.mce_baseline(1000, "resnet_test", run)[0] == "resnet_test"
    baseline, label = corruption.mce_baseline(10, None, run)
    assert baseline == "resnet_nano_32" and "first CNN" in label and "10 classes" in label
    assert corruption.mce_baseline(10, "alexnet", run)[0] == "alexnet"
    assert corruption.mce_baseline(10, None, run[:1])[0] is None
    assert corruption.mce_baseline(1000, "none", run)[0] is None


# --- segmentation ----------------------------------------------------------------------------
def two_objects_in_a_void_border():
    target = np.full((6, 6), 255)
    target[1:5, 1:5] = 0
    target[1:3, 1:3] = 1  # object 1: 4 px
    target[3:5, 3:5] = 2  # object 2: 4 px
    heads = np.zeros((2, 6, 6), bool)
    heads[0, 1:3, 1:5] = True  # 8 px over object 1: J = 4/8
    heads[1, 3:5, 3:6] = True  # 6 px over object 2, 2 of them void: J = 4/6 (void stays in the union)
    return heads, target


def test_per_object_jaccard_two_objects_and_a_void_border():
    heads, target = two_objects_in_a_void_border()
    expected = (4 / 8 + 4 / 6) / 2  # best head per object, then the mean over objects
    assert segmentation.object_jaccard(heads, target) == pytest.approx(expected)
    assert official_per_sample_jaccard(heads, target) == pytest.approx(expected)
    assert segmentation.object_jaccard(heads[::-1], target) == pytest.approx(expected)  # head order irrelevant


def test_mean_jaccard_is_over_images_with_objects():
    heads, target = two_objects_in_a_void_border()
    empty = np.where(target == 255, 255, 0)
    scores = [segmentation.object_jaccard(heads, target), segmentation.object_jaccard(heads, empty)]
    assert np.isnan(scores[1])
    assert segmentation.mean_jaccard(scores) == pytest.approx((4 / 8 + 4 / 6) / 2)
    assert (segmentation.PAPER_INPUT_SIZE, segmentation.PAPER_MASS) == (512, 0.9)


# --- PatchDrop grid -------------------------------------------------------------------------
@pytest.mark.parametrize("size, grid", [(224, 14), (32, 8), (384, 12), (28, 14), (64, 8), (96, 12), (7, 7), (1, 1)])
def test_default_grid_depends_on_image_size_alone(size, grid):
    assert occlusion.default_grid(size) == grid
    assert size % grid == 0


def test_paper_occlusion_constants():
    assert occlusion.PAPER_GRID_OFFSET == (8, 8)
    assert occlusion.paper_drop_counts() == [0, 19, 39, 58, 78, 98, 117, 137, 156, 176]
    assert 224 // occlusion.default_grid(224) == 16  # the paper's 16 px cells


# --- cue conflict: the 16 categories -------------------------------------------------------
MODEL_VS_HUMAN_16 = {  # bethgelab/model-vs-human modelvshuman/helper/human_categories.py, *_indices
    "airplane": [404],
    "bear": [294, 295, 296, 297],
    "bicycle": [444, 671],
    "bird": [
        8,
        10,
        11,
        12,
        13,
        14,
        15,
        16,
        18,
        19,
        20,
        22,
        23,
        24,
        80,
        81,
        82,
        83,
        87,
        88,
        89,
        90,
        91,
        92,
        93,
        94,
        95,
        96,
        98,
        99,
        100,
        127,
        128,
        129,
        130,
        131,
        132,
        133,
        135,
        136,
        137,
        138,
        139,
        140,
        141,
        142,
        143,
        144,
        145,
    ],
    "boat": [472, 554, 625, 814, 914],
    "bottle": [440, 720, 737, 898, 899, 901, 907],
    "car": [436, 511, 817],
    "cat": [281, 282, 283, 284, 285, 286],
    "chair": [423, 559, 765, 857],
    "clock": [409, 530, 892],
    "dog": [
        152,
        153,
        154,
        155,
        156,
        157,
        158,
        159,
        160,
        161,
        162,
        163,
        164,
        165,
        166,
        167,
        168,
        169,
        170,
        171,
        172,
        173,
        174,
        175,
        176,
        177,
        178,
        179,
        180,
        181,
        182,
        183,
        184,
        185,
        186,
        187,
        188,
        189,
        190,
        191,
        193,
        194,
        195,
        196,
        197,
        198,
        199,
        200,
        201,
        202,
        203,
        205,
        206,
        207,
        208,
        209,
        210,
        211,
        212,
        213,
        214,
        215,
        216,
        217,
        218,
        219,
        220,
        221,
        222,
        223,
        224,
        225,
        226,
        228,
        229,
        230,
        231,
        232,
        233,
        234,
        235,
        236,
        237,
        238,
        239,
        240,
        241,
        243,
        244,
        245,
        246,
        247,
        248,
        249,
        250,
        252,
        253,
        254,
        255,
        256,
        257,
        259,
        261,
        262,
        263,
        265,
        266,
        267,
        268,
    ],
    "elephant": [385, 386],
    "keyboard": [508, 878],
    "knife": [499],
    "oven": [766],
    "truck": [555, 569, 656, 675, 717, 734, 864, 867],
}


@pytest.mark.parametrize("category", sorted(MODEL_VS_HUMAN_16))
def test_16_category_mapping_equals_model_vs_human(category):
    path = pathlib.Path(__file__).resolve().parents[1] / "vitlab" / "experiments" / "imagenet_16_categories.json"
    categories = json.loads(path.read_text())["categories"]
    assert sorted(categories) == sorted(MODEL_VS_HUMAN_16)
    assert categories[category] == MODEL_VS_HUMAN_16[category]


def test_pos_embed_resampling_is_torch_bicubic_without_antialias():
    ramp = np.arange(4, dtype=np.float64)[:, None, None] * np.ones((4, 4, 1))
    out = segmentation.resample_pos_grid(ramp, 8)[:, 0, 0]
    # output 0 samples at -0.25: taps (clamped) 0, 0, 0, 1 and weight cc2(1.25) = -0.10546875 on the 1
    assert out[0] == pytest.approx(-0.10546875)
    # output 3 samples at 1.25: weights (-0.10546875, 0.87890625, 0.26171875, -0.03515625) on 0, 1, 2, 3;
    # a = -0.75 bends a ramp (1.296875), where TF's a = -0.5 would give 1.25
    assert out[3] == pytest.approx(1.296875)
    constant = segmentation.resample_pos_grid(np.full((14, 14, 3), 0.7), 32)
    assert constant.shape == (32, 32, 3) and np.allclose(constant, 0.7)


def test_one_saliency_model_for_the_whole_sweep():
    from vitlab.errors import UserError

    assert saliency.choose_saliency_model("dino.keras", False, ["deit"])[0] == "dino.keras"
    name, label = saliency.choose_saliency_model("", True, ["vit_nano", "deit_nano"])
    assert name == "vit_nano" and "shared by every model" in label
    assert saliency.choose_saliency_model("", False, ["deit"], modes=["random"]) == (None, "")
    with pytest.raises(UserError, match="needs saliency_model=MODEL.*no ground-truth masks"):
        saliency.choose_saliency_model("", False, ["deit"])
    with pytest.raises(UserError, match="needs saliency_model"):
        saliency.choose_saliency_model("", True, [])  # only CNNs and no saliency model

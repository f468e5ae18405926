"""The official lesion (vit_models/deit.py, vit_models/resnet.py) on tiny models."""

import numpy as np
import pytest

from vitlab.protocol import lesion


def test_token_counts_are_the_official_int_rate_times_all_tokens():
    assert [lesion.token_count(r, 197) for r in lesion.PAPER_RATES] == [49, 98, 147]
    assert lesion.token_count(0.5, 17) == 8  # vit_test: 16 patches + the class token
    assert lesion.PAPER_BLOCKS == (0, 2, 4, 8, 10) and lesion.PAPER_RESNET_POINTS == (1, 2, 3, 4, 5)
    assert lesion.default_blocks(12) == [0, 2, 4, 8, 10] and lesion.default_blocks(6) == [0, 2, 4]


def test_token_and_cell_keep_are_per_image_and_reproducible():
    keep = lesion.token_keep(seed=0, indices=[0, 1, 0], num_patches=196, count=98)
    assert (~keep).sum(axis=1).tolist() == [98, 98, 98]
    assert np.array_equal(keep[0], keep[2]) and not np.array_equal(keep[0], keep[1])
    assert np.array_equal(keep, lesion.token_keep(0, [0, 1, 0], 196, 98))
    cells = lesion.cell_keep(seed=0, indices=[0, 1], shape=(56, 56), rate=0.25)
    assert set(np.unique(cells)) == {0.0, 1.0}
    assert cells.mean() == pytest.approx(0.75, abs=0.02)


@pytest.fixture(scope="module")
def tiny():
    import keras

    from vitlab import models
    from vitlab.models.adapter import ModelAdapter

    keras.utils.set_random_seed(0)
    images = np.random.default_rng(0).random((4, 32, 32, 3), dtype=np.float32)
    return ModelAdapter(models.create("vit_test")), ModelAdapter(models.create("resnet_test")), images


def official_deit_lesion(model, images, block_index, rows):
    """Transcription of deit.py forward_features lines 105-118: zero patch tokens once, at the
    input of block_index, class token kept; then the final norm and the class head."""
    x = np.asarray(model.embed(images))
    for idx, blk in enumerate(model.blocks):
        if idx == block_index:
            features = x[:, 1:].copy()
            features[:, rows, :] = 0.0
            x = np.concatenate([x[:, :1], features], axis=1)
        x = np.asarray(blk(x)[0])
    return np.asarray(model.head(model.norm(x)[:, 0]))


@pytest.mark.parametrize("block", [0, 1])
def test_vit_lesion_equals_the_official_transcription(tiny, block):
    vit, _, images = tiny
    rows = np.array([0, 3, 5, 6, 9, 10, 12, 15])  # int(0.5 * 17) = 8 of the 16 patches
    keep = np.ones((4, 16), bool)
    keep[:, rows] = False
    ours = np.asarray(lesion.vit_forward(vit, images, block, keep)["class"])
    np.testing.assert_allclose(ours, official_deit_lesion(vit.model, images, block, rows), atol=1e-5)
    # vitlab's key-mask variant is a different measurement
    key_mask = np.asarray(vit.forward(images, token_keep={block: keep})["heads"]["class"])
    assert not np.allclose(ours, key_mask, atol=1e-4)
    intact = np.asarray(lesion.vit_forward(vit, images, block, np.ones((4, 16), bool))["class"])
    np.testing.assert_allclose(intact, np.asarray(vit.logits(images, head="class")), atol=1e-5)


def test_resnet_drop_points_start_right_after_the_stem(tiny):
    from vitlab import models

    _, resnet, images = tiny
    assert [lesion.resnet_point_shape(resnet.model, p) for p in lesion.PAPER_RESNET_POINTS] == [
        (32, 32),
        (32, 32),
        (16, 16),
        (8, 8),
        (4, 4),
    ]  # 3x3/1 stem; layer2..4 halve
    resnet50 = models.create("resnet50", num_classes=0)
    assert [lesion.resnet_point_shape(resnet50, p)[0] for p in lesion.PAPER_RESNET_POINTS] == [56, 56, 28, 14, 7]
    logits = np.asarray(resnet.logits(images))
    for point in lesion.PAPER_RESNET_POINTS:
        shape = lesion.resnet_point_shape(resnet.model, point)
        ones = np.ones((4, *shape), "float32")
        np.testing.assert_allclose(np.asarray(lesion.resnet_forward(resnet, images, point, ones)), logits, atol=1e-4)
    zeros = np.zeros((4, 4, 4), "float32")  # everything dropped after layer4: the head sees zeros
    np.testing.assert_allclose(
        np.asarray(lesion.resnet_forward(resnet, images, 5, zeros)),
        np.broadcast_to(np.asarray(resnet.model.fc.bias), (4, 10)),
        atol=1e-6,
    )
    half = lesion.cell_keep(0, range(4), (32, 32), 0.5)
    assert not np.allclose(np.asarray(lesion.resnet_forward(resnet, images, 1, half)), logits, atol=1e-3)


def test_vit_at_512_keeps_weights_and_resamples_positions(tiny):
    from vitlab.protocol import segmentation

    vit, _, _ = tiny
    big = segmentation.at_input_size(vit, 64)  # vit_test: patch 8, 4x4 -> 8x8 grid (512 does 14 -> 32)
    assert big.model.image_size == 64 and big.patch_grid == (8, 8)
    np.testing.assert_array_equal(
        np.asarray(big.model.blocks[1].fc1.kernel), np.asarray(vit.model.blocks[1].fc1.kernel)
    )
    table = np.asarray(vit.model.pos_embed)
    expected = segmentation.resample_pos_grid(table[0, 1:].reshape(4, 4, -1), 8).reshape(1, 64, -1)
    np.testing.assert_allclose(np.asarray(big.model.pos_embed)[:, 1:], expected, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(big.model.pos_embed)[:, :1], table[:, :1])
    attention = big.cls_attention(np.random.default_rng(0).random((1, 64, 64, 3), dtype=np.float32), head=1)
    assert attention.shape == (1, 8, 8)
    assert segmentation.at_input_size(vit, 32) is vit


def test_official_lesion_sweep_counts_and_hits(tiny):
    vit, resnet, images = tiny
    labels = np.asarray(vit.logits(images, head="class")).argmax(axis=1)
    sweep = lesion.OfficialLesion(vit, 1, [0.0, 0.5], repeats=2, seed=0, head="class", top_k=3)
    assert sweep.counts == [[0, 0], [8, 0], [0, 1], [8, 1]]
    hits1, hitsk = sweep(images, labels, np.arange(4))
    assert hits1.shape == (4, 4) and hits1[0].all() and hits1[2].all()  # nothing dropped: the model's own answer
    assert (hitsk >= hits1).all()
    expected = np.asarray(lesion.vit_forward(vit, images, 1, sweep.keep(np.arange(4), 1))["class"]).argmax(axis=1)
    np.testing.assert_array_equal(hits1[1], expected == labels)
    cnn = lesion.OfficialLesion(resnet, 0, [0.25], repeats=1, seed=0)  # drop point 1: after the stem
    assert cnn.shape == (32, 32) and cnn.counts == [[0.25, 0]]
    assert cnn(images, labels, np.arange(4))[0].shape == (1, 4)

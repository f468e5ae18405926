"""Class vs distillation token similarity per block; models without one are skipped, not fatal."""

import numpy as np
import pytest

from vitlab.experiments import runner, token_similarity
from vitlab.experiments.run_context import Context


def test_cosine_by_hand():
    assert token_similarity.cosine([1, 0], [0, 2]) == pytest.approx(0.0)
    assert token_similarity.cosine([1, 1], [2, 2]) == pytest.approx(1.0)
    assert token_similarity.cosine([[3, 4]], [[-3, -4]])[0] == pytest.approx(-1.0)


def test_similarity_and_head_accuracy_match_direct_computation(tiny_dataset):
    deit = runner.resolve_model("deit_test_distilled", num_classes=10)
    resnet = runner.resolve_model("resnet_test", num_classes=10)
    result = token_similarity.run([deit, resnet], tiny_dataset, runner.build_config("token-similarity"), Context())
    sims, hits = [], {"class": 0, "dist": 0, "average": 0}
    for batch in tiny_dataset.batches():
        features = deit.block_features(batch["image"], kinds=("class", "dist"))
        sims.append(
            np.stack(
                [
                    token_similarity.cosine(np.asarray(c), np.asarray(d))
                    for c, d in zip(features["class"], features["dist"])
                ],
                axis=1,
            )
        )
        for head in hits:
            hits[head] += int((np.asarray(deit.logits(batch["image"], head=head)).argmax(-1) == batch["label"]).sum())
    sims = np.concatenate(sims)
    np.testing.assert_allclose(result.arrays["deit_test_distilled/similarity_mean"], sims.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(result.arrays["deit_test_distilled/similarity_std"], sims.std(axis=0), atol=1e-4)
    np.testing.assert_allclose(
        result.arrays["deit_test_distilled/accuracy"], [hits["class"] / 16, hits["dist"] / 16, hits["average"] / 16]
    )
    assert any("resnet_test" in note and "skipped" in note for note in result.notes)
    assert "accuracy/resnet_test" in result.summary

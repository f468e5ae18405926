"""Snapshots along training (vitlab.training.trainer.SnapshotCallback): one per epoch end and one
after each step asked for, counted across a resume; `[optim] snapshot_steps` validated."""

import keras
import pytest

from vitlab.config import ConfigError
from vitlab.training import trainer
from vitlab.training.recipe_sections import OptimSection


def _callback(tmp_path, at_steps):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    callback = trainer.SnapshotCallback(tmp_path, steps_per_epoch=3, at_steps=at_steps)
    callback.set_model(model)
    return callback


def _saved(tmp_path):
    return sorted(p.name for p in tmp_path.glob("*.keras"))


def test_snapshots_at_epoch_ends_and_at_the_steps_asked_for(tmp_path):
    callback = _callback(tmp_path, (2, 4))
    for epoch in range(2):
        callback.on_epoch_begin(epoch)
        for batch in range(3):
            callback.on_train_batch_end(batch)
        callback.on_epoch_end(epoch)
    assert _saved(tmp_path) == ["epoch-001.keras", "epoch-002.keras", "step-0000002.keras", "step-0000004.keras"]
    assert keras.saving.load_model(tmp_path / "step-0000004.keras").count_params() == 3


def test_a_resumed_partial_epoch_counts_its_steps_from_the_checkpoint(tmp_path):
    # resumed in epoch 2 (0-based 1) after its first batch: the fit's batch 0 is step 3 + 1 + 1 = 5
    callback = _callback(tmp_path, (5, 6, 7))
    callback.batch_offset = 1
    callback.on_epoch_begin(1)
    callback.on_train_batch_end(0)
    assert _saved(tmp_path) == ["step-0000005.keras"]
    callback.on_train_batch_end(1)
    callback.on_epoch_end(1)
    callback.on_epoch_begin(2)  # the next epoch starts at its first batch
    callback.on_train_batch_end(0)
    # its batch 0 is step 2 * 3 + 1 = 7: the resume's offset ended with its epoch
    assert _saved(tmp_path) == ["epoch-002.keras", "step-0000005.keras", "step-0000006.keras", "step-0000007.keras"]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"snapshot_steps": [100]}, "needs snapshots = true"),
        ({"snapshots": True, "snapshot_steps": [0, 10]}, "step counts of 1 or more"),
        ({"snapshots": True, "snapshot_steps": [2.5]}, "step counts of 1 or more"),
    ],
)
def test_snapshot_steps_are_checked(options, message):
    with pytest.raises(ConfigError, match=message):
        OptimSection(**options).validate()

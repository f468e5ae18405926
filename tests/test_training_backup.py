"""A backup torn by a kill mid-write never blocks a resume."""

import json

import keras
import numpy as np

from vitlab.training.trainer import SafeBackupAndRestore


def _model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_torn_backup_without_a_previous_one_restarts_the_step(tmp_path):
    (tmp_path / "latest.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n torn by kill -9")
    (tmp_path / "training_metadata.json").write_text(json.dumps({"epoch": 1, "batch": 0}))
    history = _model().fit(np.zeros((8, 4)), np.zeros((8, 2)), epochs=2, verbose=0,
                           callbacks=[SafeBackupAndRestore(str(tmp_path), delete_checkpoint=False,
                                                           double_checkpoint=True)])
    assert len(history.history["loss"]) == 2  # started over from epoch 0
    assert json.loads((tmp_path / "training_metadata.json").read_text())["epoch"] == 2


def test_torn_backup_falls_back_to_the_previous_one(tmp_path):
    model = _model()
    backup = SafeBackupAndRestore(str(tmp_path), delete_checkpoint=False, double_checkpoint=True)
    model.fit(np.zeros((8, 4)), np.zeros((8, 2)), epochs=2, verbose=0, callbacks=[backup])
    assert (tmp_path / "latest.weights.h5.bkp").exists()
    (tmp_path / "latest.weights.h5").write_bytes(b"torn")
    history = _model().fit(np.zeros((8, 4)), np.zeros((8, 2)), epochs=3, verbose=0,
                           callbacks=[SafeBackupAndRestore(str(tmp_path), delete_checkpoint=False,
                                                           double_checkpoint=True)])
    assert len(history.history["loss"]) == 2  # resumed after epoch 1 (the previous backup)

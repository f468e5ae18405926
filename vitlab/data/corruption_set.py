"""Reading a prepared corruption set (the layout `vitlab data prepare corruptions` writes,
see vitlab.data_prep.corruption_set): experiments read through here, so the data side never
imports the makers in data_prep.
"""

import json
from pathlib import Path

import numpy as np

from vitlab.errors import UserError

FORMAT = 1
MANIFEST = "manifest.json"
CLEAN = "clean.npz"


class CorruptionSetError(UserError):
    pass


def pair_file(corruption, severity):
    return f"{corruption}/{int(severity)}.npz"


class CorruptionSet:
    """A prepared set opened for reading: clean arrays plus one (corruption, severity) at a time."""

    def __init__(self, path):
        self.path = Path(path)
        manifest_path = self.path / MANIFEST
        if not manifest_path.exists():
            raise CorruptionSetError(f"{self.path}: no {MANIFEST}; make one with `vitlab data prepare corruptions`")
        self.manifest = json.loads(manifest_path.read_text())
        with np.load(self.path / CLEAN) as stored:
            self.clean = {key: stored[key] for key in stored.files}

    @property
    def pairs(self):
        return [(v["corruption"], int(v["severity"])) for v in self.manifest["pairs"].values()]

    def has(self, corruption, severity):
        return pair_file(corruption, severity) in self.manifest["pairs"]

    def images(self, corruption, severity):
        if not self.has(corruption, severity):
            raise CorruptionSetError(
                f"{self.path}: no {corruption} at severity {severity}; prepare it with "
                f"`vitlab data prepare corruptions --out {self.path} --corruptions {corruption} "
                f"--severities {severity}`"
            )
        with np.load(self.path / pair_file(corruption, severity)) as stored:
            return stored["image"]

"""What the feature experiments share: their common options, the train/test features of
each model (through the cache), and the list of feature sets to probe.

The evaluated data (`vitlab eval --split`, default test) is the test side; the training
side is loaded by name with `train_split`, or, for datasets with a single split,
`train_split=holdout` splits the evaluated data itself (stratified, seeded).
"""

import dataclasses

import numpy as np

from vitlab.config import ConfigError
from vitlab.features import blocks as blocks_lib


@dataclasses.dataclass
class FeatureOptions:
    blocks: str = "all"  # index list, last, last4, all
    token_norm: bool = True  # final LayerNorm on every block's tokens (official models/models.py lines 31-38)
    kinds: list[str] = dataclasses.field(default_factory=list)  # empty: every kind the model has
    train_split: str = "train"  # or "holdout": split the evaluated data
    holdout_fraction: float = 0.5  # share of the evaluated data used for training with holdout
    limit_train: int | None = None
    train_batch_size: int = 64
    data_dir: str | None = None  # TFDS data_dir when the training split is loaded by name
    cache_dir: str | None = None  # default $VITLAB_CACHE/features or ~/.cache/vitlab/features
    chunk_rows: int = 1024

    def validate(self):
        blocks_lib.parse_blocks(self.blocks, 10_000)  # syntax only; the model's depth is checked later
        if not 0.0 < self.holdout_fraction < 1.0:
            raise ConfigError(f"holdout_fraction: must be between 0 and 1, got {self.holdout_fraction}")
        if self.chunk_rows < 1 or self.train_batch_size < 1:
            raise ConfigError("chunk_rows and train_batch_size must be positive")
        if self.limit_train is not None and self.limit_train < 1:
            raise ConfigError(f"limit_train: must be positive, got {self.limit_train}")


@dataclasses.dataclass
class Features:
    """Rows of one cache file (all of them, or a holdout part)."""

    file: object  # FeatureFile
    rows: np.ndarray | None = None

    def labels(self):
        labels = self.file.labels()
        return labels if self.rows is None else labels[self.rows]

    def read(self, block, kind):
        values = self.file.read(block, kind)
        return values if self.rows is None else values[self.rows]

    def read_concat(self, parts):
        return np.concatenate([self.read(block, kind) for block, kind in parts], axis=1)


def normed(adapter, config):
    """The adapter whose per-block tokens pass the final LayerNorm when config.token_norm: the
    official features, for every feature experiment (probes, k-NN, few-shot, correlation)."""
    token_norm = bool(getattr(config, "token_norm", True))  # configs without the option: the paper's
    if not adapter.is_transformer or adapter.token_norm == token_norm:
        return adapter
    return dataclasses.replace(adapter, token_norm=token_norm)


def extract_split(adapter, data, config, context):
    from vitlab.features.extract import extract

    adapter = normed(adapter, config)
    return extract(
        adapter,
        data,
        blocks=config.blocks,
        kinds=config.kinds,
        cache_dir=config.cache_dir,
        chunk_rows=config.chunk_rows,
        context=context,
    )


def load_train_data(data, config, seed=0):
    """The training split as a Dataset (None with holdout), with the test split's evaluation crop."""
    if config.train_split == "holdout":
        return None
    from vitlab import data as data_lib

    crop = {key: data.load_args[key] for key in ("crop_pct", "interpolation") if key in (data.load_args or {})}
    return data_lib.load(
        data.name,
        split=config.train_split,
        image_size=data.image_size,
        batch_size=config.train_batch_size,
        limit=config.limit_train,
        seed=seed,
        data_dir=config.data_dir,
        **crop,
    )


def holdout_rows(labels, fraction, seed):
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(labels))
    _, counts = np.unique(labels, return_counts=True)
    stratify = labels if counts.min() >= 2 else None
    train, test = train_test_split(rows, train_size=fraction, stratify=stratify, random_state=seed)
    return np.sort(train), np.sort(test)


def train_test_features(adapter, data, train_data, config, context):
    """(train Features, test Features) for one model, extracted or read from the cache."""
    test_file = extract_split(adapter, data, config, context)
    if train_data is None:
        train_rows, test_rows = holdout_rows(test_file.labels(), config.holdout_fraction, context.seed)
        return Features(test_file, train_rows), Features(test_file, test_rows)
    return Features(extract_split(adapter, train_data, config, context)), Features(test_file)


def feature_sets(adapter, config):
    """[(label, block or None, [(block, kind), ...])]: each block and kind, then the concatenations
    of the main kind (class token / pooled stage) over the last 4 and over all chosen blocks."""
    chosen = blocks_lib.parse_blocks(config.blocks, adapter.num_blocks, adapter.name)
    kinds = blocks_lib.choose_kinds(adapter, list(config.kinds))
    sets = [(f"block {block + 1} {kind}", block, [(block, kind)]) for block in chosen for kind in kinds]
    main = blocks_lib.main_kind(adapter)
    if main in kinds and len(chosen) > 1:
        last4 = chosen[-4:]
        sets.append((f"last {len(last4)} {main} concat", None, [(b, main) for b in last4]))
        if len(chosen) > 4:
            sets.append((f"all {len(chosen)} {main} concat", None, [(b, main) for b in chosen]))
    return sets

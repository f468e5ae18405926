"""The HDF5 feature cache: features extracted once, reused by every probe.

One file per (model, weights, dataset, split, preprocessing); inside it one chunked,
compressed dataset per (block, token kind) plus labels and image indices. The attrs name
what the features are, so a file is only ever read for the key it was written for, and
`rows_done` (updated after each flushed chunk) lets a killed extraction resume.
"""

import contextlib
import dataclasses
import hashlib
import json
import os
from pathlib import Path

import h5py
import numpy as np

from vitlab.errors import UserError

FORMAT_NAME = "vitlab-features"
FORMAT_VERSION = 1
IDENTITY_FIELDS = ("model", "weights", "dataset", "split", "preprocessing", "num_examples", "content")


class FeatureCacheError(UserError):
    """A cache file that cannot serve this request: another model, version or dataset."""


def default_cache_dir():
    root = os.environ.get("VITLAB_CACHE")
    return Path(root) / "features" if root else Path.home() / ".cache" / "vitlab" / "features"


def weights_fingerprint(model):
    """sha1 over every weight's path, shape and bytes: same weights, same features."""
    digest = hashlib.sha1()
    for variable in model.weights:
        value = np.ascontiguousarray(variable.numpy())
        digest.update(f"{variable.path}:{value.shape}:{value.dtype}".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def content_fingerprint(data):
    """Hash of an in-memory dataset's images and labels: its name ('arrays') says nothing."""
    digest = hashlib.sha1()
    for batch in data.batches():
        digest.update(np.ascontiguousarray(batch["image"]).tobytes())
        digest.update(np.ascontiguousarray(batch["label"]).tobytes())
    return digest.hexdigest()


@dataclasses.dataclass
class CacheKey:
    """What the features depend on; equal keys mean equal features."""

    model: str
    weights: str
    dataset: str
    split: str
    preprocessing: str  # canonical JSON of data.preprocessing + image sizes
    num_examples: int
    content: str = ""  # only for in-memory datasets

    @classmethod
    def for_data(cls, adapter, data):
        preprocessing = {
            **(data.preprocessing or {}),
            "data_image_size": data.image_size,
            "model_image_size": adapter.image_size,
        }
        if getattr(adapter, "token_norm", False):
            preprocessing["token_norm"] = True  # tokens after the final LayerNorm: other features
        content = content_fingerprint(data) if preprocessing.get("source") == "arrays" else ""
        return cls(
            model=adapter.name,
            weights=weights_fingerprint(adapter.model),
            dataset=data.name,
            split=data.split,
            preprocessing=json.dumps(preprocessing, sort_keys=True, default=str),
            num_examples=-1 if data.num_examples is None else int(data.num_examples),
            content=content,
        )

    def digest(self):
        text = json.dumps(dataclasses.asdict(self), sort_keys=True)
        return hashlib.sha1(f"{FORMAT_VERSION}:{text}".encode()).hexdigest()[:16]

    def file_name(self):
        def safe(text):
            return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(text))[:60]

        return f"{safe(self.model)}-{safe(self.dataset)}-{safe(self.split)}-{self.digest()}.h5"

    def mismatch(self, attrs):
        """The first identity field where a file's attrs differ from this key, or None."""
        mine = dataclasses.asdict(self)
        for field in IDENTITY_FIELDS:
            theirs = attrs.get(field)
            theirs = theirs.decode() if isinstance(theirs, bytes) else theirs
            if isinstance(theirs, np.generic):
                theirs = theirs.item()
            if theirs != mine[field]:
                return field, theirs, mine[field]
        return None


class FeatureFile:
    """Read access to one cache file; arrays are read on demand so memory stays small."""

    def __init__(self, path):
        self.path = Path(path)
        with h5py.File(self.path, "r") as handle:
            self.attrs = {key: _plain(value) for key, value in handle.attrs.items()}

    @property
    def complete(self):
        return bool(self.attrs.get("complete", False))

    @property
    def rows_done(self):
        return int(self.attrs.get("rows_done", 0))

    @property
    def blocks(self):
        return list(json.loads(self.attrs.get("blocks", "[]")))

    @property
    def kinds(self):
        return list(json.loads(self.attrs.get("kinds", "[]")))

    @property
    def class_names(self):
        return list(json.loads(self.attrs.get("class_names", "[]")))

    def covers(self, blocks, kinds):
        return set(blocks) <= set(self.blocks) and set(kinds) <= set(self.kinds)

    def labels(self):
        with h5py.File(self.path, "r") as handle:
            return handle["labels"][: self.rows_done]

    def indices(self):
        with h5py.File(self.path, "r") as handle:
            return handle["index"][: self.rows_done]

    def read(self, block, kind):
        from vitlab.features.blocks import dataset_name

        with h5py.File(self.path, "r") as handle:
            name = dataset_name(block, kind)
            if name not in handle:
                raise FeatureCacheError(f"{self.path}: has no features for block {block}, kind {kind!r}")
            return handle[name][: self.rows_done].astype("float32")


def _plain(value):
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value


def check_file(path, key, explicit):
    """Open an existing cache file for `key`, or refuse it with the reason.

    Returns a FeatureFile, or None when a file in the keyed cache directory is unreadable
    (a kill during the very first write): then it is simply extracted again.
    """
    try:
        features = FeatureFile(path)
    except OSError:
        if explicit:
            raise FeatureCacheError(
                f"{path}: exists but is not a readable HDF5 feature cache; remove it or choose another --out"
            ) from None
        return None
    if features.attrs.get("format") != FORMAT_NAME:
        raise FeatureCacheError(
            f"{path}: is not a vitlab feature cache (no '{FORMAT_NAME}' format attr); choose another file"
        )
    version = features.attrs.get("format_version")
    if version != FORMAT_VERSION:
        raise FeatureCacheError(
            f"{path}: written by feature format version {version}, this vitlab reads "
            f"version {FORMAT_VERSION}; delete the file to extract again"
        )
    difference = key.mismatch(features.attrs)
    if difference:
        field, theirs, mine = difference
        raise FeatureCacheError(
            f"{path}: holds features for {field}={_short(theirs)}, not {_short(mine)}; remove it or choose another file"
        )
    return features


def _short(value):
    text = str(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def new_file(path, key, blocks, kinds, class_names):
    """Create (replace) a cache file with its identity attrs and nothing extracted yet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as handle:
        handle.attrs.update({k: v for k, v in dataclasses.asdict(key).items()})
        handle.attrs.update(
            {
                "format": FORMAT_NAME,
                "format_version": FORMAT_VERSION,
                "blocks": json.dumps(list(blocks)),
                "kinds": json.dumps(list(kinds)),
                "class_names": json.dumps(list(class_names)),
                "rows_done": 0,
                "complete": False,
            }
        )


@contextlib.contextmanager
def locked(path, log=None):
    """Hold an exclusive flock on `<file>.lock` while one process checks, extracts or resumes the
    file: a second process waits, then finds the features complete and reads them (h5py files
    cannot be shared by two writers). The kernel drops the lock when its holder dies."""
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if log is not None:
                log(f"cache busy: another process is extracting {path}; waiting for it")
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield path


def size_limit():
    """The cache's size cap in bytes from VITLAB_CACHE_MAX_GB (default 50; 0 = no limit)."""
    text = os.environ.get("VITLAB_CACHE_MAX_GB", "50")
    try:
        limit = float(text)
    except ValueError:
        raise FeatureCacheError(f"VITLAB_CACHE_MAX_GB: expected a number of gigabytes, got {text!r}") from None
    return int(limit * 1e9) if limit > 0 else None


def directory_bytes(directory):
    return sum(f.stat().st_size for f in Path(directory).glob("*.h5") if f.is_file())


def check_size(directory, limit=None):
    """Refuse to grow the cache past its cap; the partial file stays and resumes once there is room."""
    limit = size_limit() if limit is None else limit
    if not limit or not Path(directory).is_dir():
        return
    used = directory_bytes(directory)
    if used > limit:
        raise FeatureCacheError(
            f"feature cache {directory} holds {used / 1e9:.2f} GB, over its limit of "
            f"{limit / 1e9:.2f} GB (VITLAB_CACHE_MAX_GB); delete files there or raise the limit"
        )

"""vitlab: study how vision transformers behave (Naseer et al., NeurIPS 2021, made into a tool).

Importing vitlab is cheap: the public names below resolve on first use, and TensorFlow and
Keras load only when something needs them (docs/python-api.md).

    >>> import vitlab
    >>> result = vitlab.evaluate("shuffle", models=["vit_nano_patch4_32"], dataset="shapes", limit=32)
    >>> frame = result.to_frame()
"""

import os as _os

__version__ = "0.1.0"

# oneDNN kernels for TensorFlow (and XLA:CPU): TensorFlow turns them on by itself only on CPUs
# with AVX-512 VNNI or AMX. On the 2-core AVX2 machine here they train vit_nano 1.4-1.7x faster
# (benchmarks/bench_onednn.py). Set before TensorFlow loads; a user's own setting wins.
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

_PUBLIC = {
    # name: module that defines it (imported on first access)
    "evaluate": "vitlab.api",
    "train": "vitlab.api",
    "open_run": "vitlab.api",
    "list_runs": "vitlab.api",
    "list_models": "vitlab.api",
    "create_model": "vitlab.api",
    "load_model": "vitlab.api",
    "list_experiments": "vitlab.api",
    "list_recipes": "vitlab.api",
    "RunView": "vitlab.api",
    "Result": "vitlab.results.result",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'vitlab' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *_PUBLIC})

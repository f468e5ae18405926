"""vitlab: study how vision transformers behave (Naseer et al., NeurIPS 2021, made into a tool).

Importing vitlab is cheap: the public names below resolve on first use, and TensorFlow and
Keras load only when something needs them (docs/python-api.md).

    >>> import vitlab
    >>> result = vitlab.evaluate("shuffle", models=["vit_nano_patch4_32"], dataset="shapes", limit=32)
    >>> frame = result.to_frame()
"""

import os as _os
import sys as _sys

__version__ = "0.1.0"

ONEDNN_NOTICE = (
    "vitlab: TensorFlow was loaded before vitlab with its oneDNN kernels off, so it may run at about "
    "half its speed on this CPU; import vitlab before keras or tensorflow, or set TF_ENABLE_ONEDNN_OPTS=1 "
    "before they load (VITLAB_ONEDNN_CHECK=0 silences this)"
)


def _onednn_notice(environ=_os.environ, modules=_sys.modules):
    """ONEDNN_NOTICE when TensorFlow is already loaded with oneDNN off and nobody asked for that.

    TensorFlow reads TF_ENABLE_ONEDNN_OPTS once, while it loads (setting it later changes nothing,
    measured), and turns oneDNN on by itself only on CPUs with AVX-512 VNNI or AMX. A notebook that
    imports keras first therefore trains DeiT at about half timm's pace on an AVX2 CPU, silently.
    """
    if "tensorflow" not in modules or environ.get("VITLAB_ONEDNN_CHECK", "1") == "0":
        return None
    if environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip().lower() in ("0", "false"):
        return None  # the user's own choice
    try:
        from tensorflow.python.util import _pywrap_util_port

        enabled = bool(_pywrap_util_port.IsMklEnabled())
    except Exception:  # a TensorFlow without the probe: say nothing rather than guess
        return None
    return None if enabled else ONEDNN_NOTICE


# oneDNN kernels for TensorFlow (and XLA:CPU): on an AVX2 CPU they train vit_nano 1.4-1.7x faster
# (benchmarks/bench_onednn.py). Set before TensorFlow loads; a user's own setting wins.
if (_notice := _onednn_notice()) is not None:
    print(_notice, file=_sys.stderr)
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
    # the errors a user can fix; UserError is their common base (vitlab/errors.py)
    "UserError": "vitlab.errors",
    "ConfigError": "vitlab.config",
    "DatasetError": "vitlab.data.errors",
    "RunStoreError": "vitlab.results.store",
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

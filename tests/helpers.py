"""Shared test helpers, in the manner of keras-hub's `test_case.py`: one call checks a layer,
a registered model or a registered experiment the same way every time, so a new one is
covered by adding it to its registry (or one line in a parametrize list), with no new
boilerplate.

- run_layer_test: build and call, get_config/from_config round trip (with the dtype policy:
  a mixed_bfloat16 layer must come back mixed_bfloat16), a `.keras` save/load round trip.
- run_model_test: the same for a registered model at a tiny size, loaded back with plain
  `keras.saving.load_model` after `import vitlab.models` (the Keras convention).
- run_experiment_test: a registered experiment on tiny models with its `smoke` settings,
  written to a run, read back, rendered into the report, every summary key declared.
- run_cli / run_cli_process / VITLAB: the one way a test calls `vitlab`, in this process or
  in one of its own.
"""

import math
import sys

import keras
import numpy as np
from keras import ops

TINY_MODELS = ("deit_test_distilled", "vit_test", "resnet_test")
MIXED = "mixed_bfloat16"


def _numpy(value):
    return ops.convert_to_numpy(value)


def _policy_names(layer):
    """The dtype policy of a layer and of every sublayer it tracks."""
    return {sub.name: sub.dtype_policy.name for sub in layer._flatten_layers(include_self=True)}


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_data,
    expected_output_shape,
    tmp_path,
    select=lambda out: out,
    call_kwargs=None,
    atol=1e-6,
):
    """Check one layer class; `select` picks the tensor from outputs that are tuples."""
    call_kwargs = call_kwargs or {}
    layer = layer_cls(**init_kwargs)
    output = select(layer(input_data, **call_kwargs))
    assert tuple(output.shape) == tuple(expected_output_shape)

    config = layer.get_config()
    for key, value in init_kwargs.items():  # every constructor argument is in the config
        assert key in config, f"{layer_cls.__name__}.get_config() lacks {key!r}"
        stored = config[key]
        assert (list(stored) if isinstance(stored, tuple) else stored) == (
            list(value) if isinstance(value, tuple) else value
        ), key
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config
    clone_output = select(clone(input_data, **call_kwargs))
    assert tuple(clone_output.shape) == tuple(expected_output_shape)

    mixed = layer_cls(**init_kwargs, dtype=MIXED)
    mixed_output = select(mixed(input_data, **call_kwargs))
    assert keras.backend.standardize_dtype(mixed_output.dtype) == "bfloat16"
    restored = layer_cls.from_config(mixed.get_config())
    restored(input_data, **call_kwargs)
    assert set(_policy_names(restored).values()) == {MIXED}, _policy_names(restored)
    assert all(keras.backend.standardize_dtype(w.dtype) == "float32" for w in restored.trainable_weights)

    inputs = keras.Input(shape=tuple(input_data.shape[1:]), batch_size=None)
    outputs = layer(inputs, **call_kwargs)
    wrapper = keras.Model(inputs, list(outputs) if isinstance(outputs, tuple) else outputs)
    path = tmp_path / f"{layer_cls.__name__}.keras"
    wrapper.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    pick = (lambda out: select(tuple(out))) if isinstance(outputs, tuple) else select
    np.testing.assert_allclose(_numpy(pick(loaded(input_data))), _numpy(pick(wrapper(input_data))), atol=atol)
    return layer


def tiny_overrides(name):
    """Shrink any registered variant to a few blocks at 32x32 so every name is cheap to test."""
    from vitlab.models import registry

    spec = registry.get_spec(name)
    if spec.family == "vit":
        patch = spec.kwargs["patch_size"]
        return dict(image_size=max(32, 2 * patch), depth=2, num_classes=5)
    return dict(image_size=32, stage_depths=(1, 1, 1, 1), num_classes=5)


def run_model_test(name, tmp_path, overrides=None, atol=1e-5):
    """Check one registered model: output shape, config, dtype policy and .keras round trips."""
    from vitlab import models

    overrides = tiny_overrides(name) if overrides is None else overrides
    model = models.create(name, **overrides)
    size = model.image_size
    images = np.random.default_rng(0).random((2, size, size, 3), dtype=np.float32)
    expected = _numpy(model(images))
    assert expected.shape == (2, overrides.get("num_classes", model.num_classes))

    mixed = models.create(name, dtype=MIXED, **overrides)
    restored = type(mixed).from_config(mixed.get_config())
    assert restored.dtype_policy.name == MIXED
    assert keras.backend.standardize_dtype(restored(images).dtype) == "bfloat16"
    assert set(_policy_names(restored).values()) == {MIXED}, _policy_names(restored)

    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)  # from_config; registered by `import vitlab.models`
    assert type(loaded) is type(model)
    assert loaded.get_config() == model.get_config()
    np.testing.assert_allclose(_numpy(loaded(images)), expected, atol=atol)
    return model


def tiny_data(rows=24, num_classes=4, size=32, batch_size=8):
    """Seeded images with square foreground masks and a second (texture) label."""
    from vitlab.data.dataset import from_arrays

    rng = np.random.default_rng(0)
    labels = np.arange(rows) % num_classes
    images = rng.random((rows, size, size, 3), dtype=np.float32) * 0.5 + labels[:, None, None, None] * 0.15
    masks = np.zeros((rows, size, size), dtype=np.float32)
    masks[:, size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 1.0
    return from_arrays(
        images, labels, masks=masks, labels2=(labels + 1) % num_classes, batch_size=batch_size, num_classes=num_classes
    )


def tiny_adapters(experiment, num_classes=4):
    """Tiny models that meet the experiment's requirements: every one of TINY_MODELS that
    has the `every` capabilities (so `some` ones are met by the ViTs among them)."""
    from vitlab.experiments import base
    from vitlab.models.adapter import resolve

    keras.utils.set_random_seed(0)
    adapters = [resolve(name, num_classes=num_classes) for name in TINY_MODELS]
    chosen = [a for a in adapters if set(experiment.requires.every) <= base.capabilities(a)]
    assert chosen, f"no tiny model meets {experiment.name}'s requirements {experiment.requires}"
    return chosen


def run_experiment_test(name, tmp_path, adapters=None, data=None):
    """Run a registered experiment end to end through the runner; returns (result, stored)."""
    from vitlab.experiments import base, get, runner
    from vitlab.report.markdown import write_report
    from vitlab.results import RunStore

    experiment = get(name)
    data = data or tiny_data()
    adapters = adapters or tiny_adapters(experiment, data.num_classes)
    config = runner.build_config(name, values=experiment.smoke)
    run = RunStore(tmp_path / "runs").create(
        name=name, kind="eval", config={"experiment": name}, models=[a.name for a in adapters], dataset=data.name
    )
    result = runner.run_step(run, name, name, adapters, data, config, seed=0, quiet=True)

    assert result.experiment == name
    assert set(result.models) >= {a.name for a in adapters}  # corruption may add its baseline
    assert result.summary, f"{name}: empty summary"
    for key, value in result.summary.items():
        metric, subject = base.split_key(key)
        assert subject, f"{name}: summary key {key!r} is not <metric>/<subject>"
        assert experiment.metric(metric) is not None, f"{name}: summary metric {metric!r} is not declared"
        assert isinstance(value, (int, float)) and (math.isnan(value) or math.isfinite(value)), (key, value)
    assert run.step_done(name)

    stored = run.result(name)  # read back from results.h5
    assert stored.experiment == name and stored.models == result.models
    assert list(stored.summary) == list(result.summary)
    for key, value in result.summary.items():
        back = stored.summary[key]  # the store writes NaN as JSON null
        assert back == value or (math.isnan(value) and (back is None or math.isnan(back))), (key, value, back)
    assert set(stored.arrays) == set(result.arrays)
    for key, array in result.arrays.items():
        left, right = np.asarray(array), np.asarray(stored.arrays[key])
        assert left.shape == right.shape, key
        if left.dtype.kind in "fc":
            np.testing.assert_allclose(right, left, equal_nan=True, err_msg=key)
        else:
            assert left.tolist() == right.tolist(), key

    write_report(run)
    index = (run.path / "report" / "index.md").read_text()
    assert name in index
    if result.curves:
        assert list((run.path / "report").glob("*.png")), f"{name}: curves but no plot"
    return result, stored


def keras_file_weights(path):
    """{dataset path: array} of a .keras file's weights, read without building the model, so
    runs made in other processes (or on other backends) compare array by array."""
    import io
    import zipfile

    import h5py

    with zipfile.ZipFile(path) as archive:
        data = archive.read("model.weights.h5")
    arrays = {}
    with h5py.File(io.BytesIO(data), "r") as handle:
        handle.visititems(lambda name, obj: arrays.setdefault(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return arrays


def official_per_sample_jaccard(pred, target):
    """NumPy transcription of evaluate_segmentation.py get_per_sample_jaccard (lines 51-65)."""
    jac, objects = 0.0, 0
    for label in np.unique(target):
        if label in (0, 255):
            continue
        region = target == label
        intersection = ((region * pred) * (region != 255)).sum(axis=(1, 2))
        union = (((region + pred) > 0) * (region != 255)).sum(axis=(1, 2))
        jac += (intersection / union).max()
        objects += 1
    return jac / objects if objects else float("nan")


# --- the CLI ------------------------------------------------------------------------------
# The one way tests call `vitlab`: run_cli in this process (no second TensorFlow import), and
# run_cli_process (or VITLAB, for Popen) where the test needs a process of its own: signals,
# a cold start, a clean console, another backend's environment.
VITLAB = (sys.executable, "-m", "vitlab.cli")


def run_cli(capsys, *argv):
    """`vitlab ARGV` through its entry point (vitlab.cli.main, the one error boundary) in this
    process: (exit code, stdout, stderr). `capsys` is pytest's fixture, read after the command;
    None captures here instead (a module-scoped fixture has no capsys)."""
    import contextlib
    import io

    import pytest

    from vitlab.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:
        if capsys is None:
            stack.enter_context(contextlib.redirect_stdout(out))
            stack.enter_context(contextlib.redirect_stderr(err))
        with pytest.raises(SystemExit) as exit_info:
            main([str(arg) for arg in argv])
    if capsys is not None:
        captured = capsys.readouterr()
        return exit_info.value.code or 0, captured.out, captured.err
    return exit_info.value.code or 0, out.getvalue(), err.getvalue()


def run_cli_process(*argv, timeout=600, **options):
    """`vitlab ARGV` in a process of its own: the CompletedProcess, output as text. `options`
    go to subprocess.run (env, cwd)."""
    import subprocess

    return subprocess.run([*VITLAB, *map(str, argv)], capture_output=True, text=True, timeout=timeout, **options)

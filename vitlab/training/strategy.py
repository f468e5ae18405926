"""Choosing the distribution and the precision a recipe asks for.

On TensorFlow, a tf.distribute strategy. `mirrored` on a machine without GPUs splits the
CPU into logical devices, so the same code path is exercised on a laptop and in CI.
`multi_worker` reads TF_CONFIG, as every TensorFlow cluster launcher sets it.

On JAX (KERAS_BACKEND=jax), keras.distribution.DataParallel over the local devices,
wrapped in the little of tf.distribute's interface the trainer uses (`scope`,
`num_replicas_in_sync`), so the plan runs unchanged.
"""

import contextlib
import json
import os

from vitlab.errors import UserError

CPU_REPLICAS = int(os.environ.get("VITLAB_CPU_REPLICAS", "2"))
_MIRRORED = {}


def _split_cpu(count):
    """Make `count` logical CPUs; only possible before TensorFlow initialises its devices."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError:
        pass  # already initialised: use the logical devices that exist
    return [device.name for device in tf.config.list_logical_devices("CPU")]


def backend():
    import keras

    return keras.backend.backend()


class DataParallelStrategy:
    """keras.distribution.DataParallel (JAX) behind the interface of a tf.distribute strategy.

    The distribution is made global, because model.fit on JAX shards each batch by the
    distribution current when it runs, outside any scope."""

    cluster_resolver = None

    def __init__(self, devices):
        import keras

        self.devices = list(devices)
        self.num_replicas_in_sync = len(self.devices)
        self.distribution = keras.distribution.DataParallel(devices=self.devices) if len(self.devices) > 1 else None
        keras.distribution.set_distribution(self.distribution)

    @property
    def name(self):
        return "DataParallel" if self.distribution is not None else "OneDevice"

    def scope(self):
        return self.distribution.scope() if self.distribution is not None else contextlib.nullcontext()


def _select_jax(name):
    import jax

    if name == "multi_worker":
        raise UserError(
            "strategy multi_worker needs the TensorFlow backend (tf.distribute); on JAX use "
            "'mirrored' (keras.distribution.DataParallel over this machine's devices)"
        )
    if name == "mirrored":
        try:  # CPU replicas for machines without accelerators; only possible before JAX starts
            jax.config.update("jax_num_cpu_devices", CPU_REPLICAS)
        except RuntimeError:
            pass  # already started: use the CPU devices that exist
    accelerators = [d for d in jax.devices() if d.platform != "cpu"]
    if name == "mirrored":
        return DataParallelStrategy(accelerators or jax.devices("cpu"))
    if name == "auto" and len(accelerators) > 1:
        return DataParallelStrategy(accelerators)
    return DataParallelStrategy(jax.devices()[:1])


def _mirrored(devices):
    """One MirroredStrategy per device set and process. A second instance over the same devices
    (a second run from the Python API, or the CLI then a script) failed its first all-reduce
    with "Shape mismatch in the collective instance" (their collective keys collide, it seems;
    reusing one instance avoids the question)."""
    import tensorflow as tf

    key = tuple(devices or ())
    if key not in _MIRRORED:
        _MIRRORED[key] = tf.distribute.MirroredStrategy(devices=devices)
    return _MIRRORED[key]


def strategy_name(strategy):
    """What run.json records: DataParallel / OneDevice on JAX, the tf.distribute class name on TF
    (OneDevice for TensorFlow's default strategy)."""
    if isinstance(strategy, DataParallelStrategy):
        return strategy.name
    name = type(strategy).__name__
    return "OneDevice" if name == "_DefaultDistributionStrategy" else name


def select(name):
    """The distribution for a recipe's `strategy` value: a tf.distribute.Strategy on
    TensorFlow, a DataParallelStrategy on JAX."""
    if backend() == "jax":
        return _select_jax(name)
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if name == "multi_worker":
        if not os.environ.get("TF_CONFIG"):
            raise UserError("strategy multi_worker needs TF_CONFIG (cluster spec and this task) in the environment")
        try:
            json.loads(os.environ["TF_CONFIG"])
        except json.JSONDecodeError as error:
            raise UserError(f"TF_CONFIG is not valid JSON ({error})") from None
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "mirrored":
        return _mirrored(None if gpus else _split_cpu(CPU_REPLICAS))
    if name == "auto" and len(gpus) > 1:
        return _mirrored(None)
    # One device: TensorFlow's default strategy (Keras places ops itself). OneDeviceStrategy made
    # model.fit distribute the dataset, which opens extra iterators over it; those advanced the
    # augmentation layers' seed generators by a timing-dependent number of draws, so runs
    # trained on other flips from run to run and a resumed run could not replay its stream.
    return tf.distribute.get_strategy()


def uses_fit(strategy):
    """model.fit works for one device and Mirrored; MultiWorkerMirrored needs the custom loop
    (model.fit fails there: keras-team/keras#20585)."""
    if isinstance(strategy, DataParallelStrategy):
        return True
    import tensorflow as tf

    return not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def needs_even_batches(strategy):
    """Every replica must get equal full batches: the custom loop, and JAX's sharded arrays."""
    return not uses_fit(strategy) or (isinstance(strategy, DataParallelStrategy) and strategy.num_replicas_in_sync > 1)


def is_chief(strategy):
    """True for the task that writes checkpoints and results (the only task outside a cluster)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def set_precision(name):
    """Global Keras dtype policy for models built after this call."""
    import keras

    keras.mixed_precision.set_dtype_policy(name)

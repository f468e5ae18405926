"""Choosing the tf.distribute strategy and the precision a recipe asks for.

`mirrored` on a machine without GPUs splits the CPU into logical devices, so the same
code path is exercised on a laptop and in CI. `multi_worker` reads TF_CONFIG, as every
TensorFlow cluster launcher sets it.
"""

import json
import os

from vitlab.errors import UserError

CPU_REPLICAS = int(os.environ.get("VITLAB_CPU_REPLICAS", "2"))


def _split_cpu(count):
    """Make `count` logical CPUs; only possible before TensorFlow initialises its devices."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError:
        pass  # already initialised: use the logical devices that exist
    return [device.name for device in tf.config.list_logical_devices("CPU")]


def select(name):
    """A tf.distribute.Strategy for a recipe's `strategy` value."""
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
        if gpus:
            return tf.distribute.MirroredStrategy()
        return tf.distribute.MirroredStrategy(devices=_split_cpu(CPU_REPLICAS))
    if name == "auto" and len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.OneDeviceStrategy("/gpu:0" if gpus else "/cpu:0")


def uses_fit(strategy):
    """model.fit works for one device and Mirrored; MultiWorkerMirrored needs the custom loop
    (model.fit fails there: keras-team/keras#20585)."""
    import tensorflow as tf

    return not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


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

"""`tf_strategy`: the tf.distribute strategy for N devices (or workers)."""

import json
import os

from keras_perceiver import argument_checks
from keras_perceiver.backend_differences import BACKENDS


def tf_strategy(num_devices=None):
    """A `tf.distribute` strategy for synchronous data-parallel training.

    Build and compile the model under `strategy.scope()`; `model.fit` then
    splits every batch over the replicas and averages the gradients.

    - With `TF_CONFIG` set (several hosts, one worker each):
      `tf.distribute.MultiWorkerMirroredStrategy` over every worker's GPUs
      (or CPU); `num_devices` must then be None.
    - With GPUs: `tf.distribute.MirroredStrategy` over the first
      `num_devices` GPUs.
    - Without GPUs: the CPU is split into `num_devices` logical devices and
      mirrored over them (for tests; it does not add compute). This only
      works before TensorFlow has run anything; otherwise the logical CPU
      devices that exist are used.

    Args:
        num_devices: int or None. Number of replicas on this host. Defaults
            to None, meaning every GPU (or the one CPU).

    Returns:
        A `tf.distribute.Strategy`.

    Example:

    ```python
    strategy = tf_strategy(num_devices=4)
    with strategy.scope():  # the weights are mirrored on every GPU
        model = keras_perceiver.Perceiver(num_classes=10)
        keras_perceiver.training.compile_for_classification(model)
    model.fit(x, y, batch_size=256)  # 64 examples per GPU
    ```
    """
    argument_checks.check_optional_positive_int("num_devices", num_devices)
    BACKENDS["tensorflow"].require("tf_strategy")
    import tensorflow as tf

    if BACKENDS["tensorflow"].launched():
        if num_devices is not None:
            raise ValueError(
                "`num_devices` must be None with TF_CONFIG set: "
                "MultiWorkerMirroredStrategy uses every device of each "
                f"worker. Received: num_devices={num_devices}"
            )
        _check_tf_config(os.environ["TF_CONFIG"])
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        num_devices = num_devices or len(gpus)
        if num_devices > len(gpus):
            raise ValueError(
                f"`num_devices` must be at most the {len(gpus)} GPUs "
                f"available. Received: num_devices={num_devices}"
            )
        return tf.distribute.MirroredStrategy(
            [f"/gpu:{index}" for index in range(num_devices)]
        )
    num_devices = num_devices or 1
    cpus = _logical_cpus(tf, num_devices)
    if num_devices > len(cpus):
        raise ValueError(
            f"`num_devices` must be at most the {len(cpus)} logical CPU "
            "devices available: TensorFlow was already initialised, so call "
            "`tf_strategy` before anything else runs. Received: "
            f"num_devices={num_devices}"
        )
    return tf.distribute.MirroredStrategy(
        [f"/cpu:{index}" for index in range(num_devices)]
    )


def _logical_cpus(tf, num_devices):
    if num_devices > 1:
        try:
            tf.config.set_logical_device_configuration(
                tf.config.list_physical_devices("CPU")[0],
                [tf.config.LogicalDeviceConfiguration()] * num_devices,
            )
        except RuntimeError:  # the runtime is already initialised
            pass
    return tf.config.list_logical_devices("CPU")


def _check_tf_config(text):
    try:
        config = json.loads(text)
        config["cluster"]["worker"], config["task"]["index"]
    except (ValueError, KeyError, TypeError):
        raise ValueError(
            "`TF_CONFIG` must be JSON like {\"cluster\": {\"worker\": "
            "[\"host1:port\", ...]}, \"task\": {\"type\": \"worker\", "
            f"\"index\": 0}}}}. Received: TF_CONFIG={text!r}"
        ) from None

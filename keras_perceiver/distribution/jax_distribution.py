"""`jax_distribution`: DataParallel or ModelParallel over N JAX devices."""

import keras
import numpy as np

from keras_perceiver import argument_checks
from keras_perceiver.backend_differences import BACKENDS
from keras_perceiver.distribution.even_sharding_model_parallel import (
    EvenShardingModelParallel,
)
from keras_perceiver.distribution.perceiver_layout_map import (
    perceiver_layout_map,
)

STRATEGIES = ("data", "model")

CPU_DEVICES_HINT = (
    "on a CPU, start with XLA_FLAGS=--xla_force_host_platform_device_count={n} "
    "to get {n} CPU devices"
)


def jax_distribution(strategy="data", num_devices=None, model_parallel=None):
    """A `keras.distribution` distribution for a Perceiver on JAX devices.

    `"data"` gives `keras.distribution.DataParallel`: the weights are
    replicated and each batch is split over the devices. `"model"` gives an
    `EvenShardingModelParallel` on a `("batch", "model")` mesh with the
    `perceiver_layout_map`: the latent array, attention and MLP weights are
    split over the `"model"` axis and the batch over the `"batch"` axis.
    Pass the result to `keras.distribution.set_distribution` before the model
    is built. Over several hosts, call `keras.distribution.initialize()` first
    on every host; the devices are then those of all hosts.

    Args:
        strategy: str. `"data"` or `"model"`. Defaults to `"data"`.
        num_devices: int or None. How many of the devices
            (`keras.distribution.list_devices()`: the GPUs or TPUs, otherwise
            the CPU devices) to use. Defaults to None, meaning all.
        model_parallel: int or None. For `"model"`: the size of the
            `"model"` mesh axis; it must divide `num_devices`. Defaults to
            None, meaning `num_devices` (no data parallelism).

    Returns:
        A `keras.distribution.Distribution`.

    Example:

    ```python
    # 8 GPUs: 2 data-parallel replicas, each split over 4 GPUs.
    keras.distribution.set_distribution(
        jax_distribution("model", num_devices=8, model_parallel=4))
    model = keras_perceiver.Perceiver(num_classes=10, latent_dim=1024)
    ```
    """
    argument_checks.check_choice("strategy", strategy, STRATEGIES)
    argument_checks.check_optional_positive_int("num_devices", num_devices)
    argument_checks.check_optional_positive_int("model_parallel", model_parallel)
    BACKENDS["jax"].require("jax_distribution")
    devices = keras.distribution.list_devices()
    num_devices = num_devices or len(devices)
    if num_devices > len(devices):
        raise ValueError(
            f"`num_devices` must be at most the {len(devices)} JAX devices "
            "available ("
            + CPU_DEVICES_HINT.format(n=num_devices)
            + f"). Received: num_devices={num_devices}"
        )
    devices = devices[:num_devices]
    if strategy == "data":
        return keras.distribution.DataParallel(devices=devices)
    model_parallel = model_parallel or num_devices
    if num_devices % model_parallel:
        raise ValueError(
            f"`model_parallel` must divide `num_devices` ({num_devices}). "
            f"Received: model_parallel={model_parallel}"
        )
    mesh = keras.distribution.DeviceMesh(
        (num_devices // model_parallel, model_parallel),
        axis_names=("batch", "model"),
        devices=np.array(devices),
    )
    return EvenShardingModelParallel(
        layout_map=perceiver_layout_map(mesh), batch_dim_name="batch"
    )

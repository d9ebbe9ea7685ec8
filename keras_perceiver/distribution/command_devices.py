"""`distributed_training_for`: the devices `keras-perceiver train` asks for."""

import os
import sys

from keras_perceiver import backend_differences
from keras_perceiver.distribution.distributed_training import (
    DistributedTraining,
)
from keras_perceiver.distribution.torchrun_command import torchrun_command


def distributed_training_for(devices, strategy, jit_compile, batch_size,
                             command_arguments):
    """The `DistributedTraining` a command asks for, or None for one device.

    Training is distributed with `devices`, `strategy="model"`, or when the
    backend's launcher set up several processes (torchrun, `TF_CONFIG`,
    `KERAS_DISTRIBUTION_JOB_ADDRESSES`: see
    `keras_perceiver.backend_differences`). On the torch backend, several
    `devices` outside torchrun start the command again under
    `torchrun --standalone --nproc_per_node N` (one host): this process is
    replaced.

    Args:
        devices: int or None. `--devices`.
        strategy: str. `"data"` or `"model"` (`--distribution`).
        jit_compile: bool. `--jit-compile`.
        batch_size: int. The global batch, a multiple of the replicas.
        command_arguments: list of str. The command's arguments, to start
            it again under torchrun (`sys.argv[1:]`).

    Returns:
        A `DistributedTraining`, or None.

    Raises:
        ValueError: where the backend cannot train so.

    Example:

    >>> distributed_training_for(None, "data", False, 64, sys.argv[1:])
    """
    differences = backend_differences.current()
    if strategy == "model" and not differences.model_parallel:
        raise ValueError(
            f"--distribution model needs the JAX backend (keras.distribution"
            f".ModelParallel); on {differences.name} use --distribution data"
        )
    launched = differences.launched()
    if devices is None and strategy == "data" and not launched:
        return None
    if jit_compile and not differences.trains_jit_compiled_on_devices:
        raise ValueError(
            f"--jit-compile does not work in {differences.title}'s "
            f"multi-device training ({differences.engine}); train without it"
        )
    if (differences.relaunches_for_devices and not launched
            and (devices or 1) > 1):
        command = torchrun_command(devices, command_arguments)
        sys.stdout.flush()
        os.execv(sys.executable, command)
    training = DistributedTraining(devices, strategy)
    if batch_size % training.num_replicas:
        raise ValueError(
            f"--batch-size must be a multiple of the {training.num_replicas} "
            f"data-parallel replicas, got {batch_size}"
        )
    return training

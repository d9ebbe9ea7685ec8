"""Training on many devices with the engines each backend already has.

- JAX: `keras.distribution` (`jax_distribution`, with `DataParallel`, or
  `ModelParallel` and the `perceiver_layout_map`).
- TensorFlow: `tf.distribute` (`tf_strategy`: `MirroredStrategy`, or
  `MultiWorkerMirroredStrategy` with `TF_CONFIG`).
- PyTorch: `DistributedDataParallel` under torchrun
  (`init_torch_process_group`, `fit_ddp`).

`DistributedTraining` picks the right one for the current backend;
`distributed_training_for` the one a command's options ask for.
"""

from keras_perceiver.distribution.command_devices import (
    distributed_training_for,
)
from keras_perceiver.distribution.distributed_training import (
    DistributedTraining,
)
from keras_perceiver.distribution.even_sharding_model_parallel import (
    EvenShardingModelParallel,
)
from keras_perceiver.distribution.fit_ddp import fit_ddp
from keras_perceiver.distribution.jax_distribution import jax_distribution
from keras_perceiver.distribution.perceiver_layout_map import (
    perceiver_layout_map,
)
from keras_perceiver.distribution.tf_strategy import tf_strategy
from keras_perceiver.distribution.torch_process_group import (
    init_torch_process_group,
)

__all__ = [
    "DistributedTraining",
    "EvenShardingModelParallel",
    "distributed_training_for",
    "fit_ddp",
    "init_torch_process_group",
    "jax_distribution",
    "perceiver_layout_map",
    "tf_strategy",
]

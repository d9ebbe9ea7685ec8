"""`DistributedTraining`: the current backend's own multi-device engine."""

import contextlib

import keras

from keras_perceiver import argument_checks
from keras_perceiver import backend_differences
from keras_perceiver.distribution.jax_distribution import (
    STRATEGIES,
    jax_distribution,
)


class DistributedTraining:
    """Data- or model-parallel training with the backend's own engine.

    Each backend's own engine (`keras_perceiver.backend_differences` says
    which, and which launcher starts several processes):

    - JAX: `keras.distribution` (`jax_distribution`): `"data"` is
      `DataParallel`, `"model"` is `ModelParallel` with the
      `perceiver_layout_map`. Several hosts: set the
      `KERAS_DISTRIBUTION_JOB_ADDRESSES`, `KERAS_DISTRIBUTION_NUM_PROCESSES`
      and `KERAS_DISTRIBUTION_PROCESS_ID` variables and
      `keras.distribution.initialize()` (`jax.distributed.initialize`) is
      called here.
    - TensorFlow: `tf.distribute.MirroredStrategy`, or
      `MultiWorkerMirroredStrategy` when `TF_CONFIG` is set (`tf_strategy`).
      `"data"` only.
    - PyTorch: `DistributedDataParallel` in each process torchrun started
      (`init_torch_process_group`, `fit_ddp`). `"data"` only.

    Build and compile the model under `scope()`, then train with `fit`.
    `batch_size` is always the global batch, split over the replicas.

    Args:
        num_devices: int or None. Devices to train on (JAX: in all; TF: on
            this host; torch: the number of torchrun processes, which it
            must equal). Defaults to None, meaning all of them.
        strategy: str. `"data"` or `"model"` (JAX only). Defaults to
            `"data"`.
        model_parallel: int or None. JAX `"model"` only: the size of the
            mesh axis that splits the weights. Defaults to None, meaning
            `num_devices`.

    Example:

    ```python
    training = DistributedTraining(num_devices=4)
    with training.scope():
        model = keras_perceiver.Perceiver(num_classes=10)
        model.compile(optimizer="adamw", loss=...)
        model.build(x_train.shape)
    training.fit(model, x_train, y_train, batch_size=256, epochs=10)
    if training.is_chief:
        model.save("model.keras")
    training.finish()
    ```
    """

    def __init__(self, num_devices=None, strategy="data", model_parallel=None):
        self.num_devices = argument_checks.check_optional_positive_int(
            "num_devices", num_devices
        )
        self.strategy = argument_checks.check_choice(
            "strategy", strategy, STRATEGIES
        )
        self.model_parallel = model_parallel
        self.differences = backend_differences.current()
        self.backend = self.differences.name
        self.rank = 0
        if strategy == "model" and not self.differences.model_parallel:
            raise ValueError(
                "`strategy` must be 'data' on the "
                f"{self.backend} backend: model parallelism uses "
                "keras.distribution.ModelParallel, which needs the JAX "
                "backend. Received: strategy='model'"
            )
        {"jax": self._init_jax, "tensorflow": self._init_tensorflow,
         "torch": self._init_torch}[self.backend]()

    def _init_jax(self):
        if self.differences.launched():
            keras.distribution.initialize()
        self.distribution = jax_distribution(
            self.strategy, self.num_devices, self.model_parallel
        )
        mesh = self.distribution.device_mesh
        self.num_devices = int(mesh.devices.size)
        self.num_replicas = mesh.shape[
            mesh.axis_names.index(self.distribution.batch_dim_name)
        ]
        import jax

        self.rank = jax.process_index()
        self.num_processes = jax.process_count()

    def _init_tensorflow(self):
        from keras_perceiver.distribution.tf_strategy import tf_strategy

        self.distribution = tf_strategy(self.num_devices)
        self.num_replicas = self.distribution.num_replicas_in_sync
        self.num_devices = self.num_replicas
        resolver = getattr(self.distribution, "cluster_resolver", None)
        self.num_processes = 1
        if self.differences.launched() and resolver is not None:
            self.rank = resolver.task_id or 0
            self.num_processes = len(
                resolver.cluster_spec().as_dict().get("worker", [None])
            )

    def _init_torch(self):
        from keras_perceiver.distribution.torch_process_group import (
            init_torch_process_group,
        )

        self.rank, self.local_rank, world_size = init_torch_process_group()
        if self.num_devices not in (None, world_size):
            raise ValueError(
                "`num_devices` must equal the number of torchrun processes "
                f"({world_size}). Received: num_devices={self.num_devices}"
            )
        self.distribution = None
        self.num_devices = self.num_replicas = world_size
        self.num_processes = world_size

    @property
    def is_chief(self):
        """True in the one process that should write files (rank 0)."""
        return self.rank == 0

    def scope(self):
        """Context in which to build and compile the model."""
        if self.distribution is None:  # torch: DDP wraps the model in fit
            return contextlib.nullcontext()
        return self.distribution.scope()

    def fit(self, model, x, y, batch_size, epochs=1, validation_data=None,
            callbacks=None, verbose=1, shuffle=True, seed=0):
        """Trains `model` like `model.fit` does, over all the devices.

        Args:
            model: a Keras model built and compiled under `scope()`.
            x: NumPy array or dict of NumPy arrays.
            y: NumPy array.
            batch_size: int. The global batch size; a multiple of
                `num_replicas`.
            epochs: int. Defaults to 1.
            validation_data: optional `(x_val, y_val)`. Defaults to None.
            callbacks: optional list of Keras callbacks. Defaults to None.
            verbose: int. Keras verbosity. Defaults to 1.
            shuffle: bool. Whether to shuffle the training data every
                epoch. Defaults to True.
            seed: int. Torch shuffling seed. Defaults to 0.

        Returns:
            A `keras.callbacks.History`.
        """
        argument_checks.check_positive_int("batch_size", batch_size)
        if batch_size % self.num_replicas:
            raise ValueError(
                f"`batch_size` must be a multiple of the {self.num_replicas} "
                f"data-parallel replicas. Received: batch_size={batch_size}"
            )
        if not self.differences.trains_with_keras_fit:
            from keras_perceiver.distribution.fit_ddp import fit_ddp

            return fit_ddp(
                model, x, y, batch_size, epochs=epochs,
                validation_data=validation_data, callbacks=callbacks,
                shuffle=shuffle, seed=seed, verbose=verbose,
            )
        if self.backend == "jax":
            # JAX splits every batch (the last one too) into equal parts.
            x, y = _trim(x, y, self.num_replicas)
            if validation_data is not None:
                validation_data = _trim(*validation_data, self.num_replicas)
        with self.scope():
            return model.fit(
                x, y, batch_size=batch_size, epochs=epochs,
                validation_data=validation_data, callbacks=callbacks,
                verbose=verbose, shuffle=shuffle,
            )

    def finish(self):
        """Waits for every process, then leaves the torch process group."""
        if self.backend == "torch":
            import torch.distributed as dist

            if dist.is_initialized():
                dist.barrier()
                dist.destroy_process_group()

    def __repr__(self):
        return (
            f"DistributedTraining(backend={self.backend!r}, "
            f"strategy={self.strategy!r}, num_devices={self.num_devices}, "
            f"num_replicas={self.num_replicas})"
        )


def _trim(x, y, multiple):
    keep = len(y) - len(y) % multiple
    if keep == 0:
        raise ValueError(
            f"The data must hold at least {multiple} examples, one per "
            f"replica. Received: {len(y)} examples"
        )
    return keras.tree.map_structure(lambda array: array[:keep], x), y[:keep]

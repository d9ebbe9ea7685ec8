"""`fit_ddp`: train a compiled Keras model with torch DistributedDataParallel."""

import math

import keras
import numpy as np

from keras_perceiver import argument_checks


def fit_ddp(
    model,
    x,
    y,
    batch_size,
    epochs=1,
    validation_data=None,
    callbacks=None,
    shuffle=True,
    seed=0,
    verbose=1,
):
    """Data-parallel training with `torch.nn.parallel.DistributedDataParallel`.

    On the torch backend a Keras model is a `torch.nn.Module`, so it can be
    wrapped in DDP as it is: every process (one per GPU, started by
    torchrun) computes the forward and backward pass of its share of each
    batch, DDP averages the gradients with all-reduce while the backward
    pass runs, and the model's own (compiled) optimizer applies them, so the
    replicas stay identical. Each process reads its own part of the data
    through a `torch.utils.data.distributed.DistributedSampler`.

    Call `init_torch_process_group()` first, and build and compile the model
    the same way in every process (DDP copies rank 0's weights to the
    others when it wraps the model). The compiled loss and metrics are used:
    each process updates the model's metrics (`model.metrics`, as Keras'
    own `fit` does) on its share of every batch, and at the end of an epoch
    their states are summed over all processes, so the epoch logs hold the
    loss and every compiled metric over the whole data, as one process
    training on the global batches would report them (for metrics whose
    state adds up: Keras' mean-based and confusion-matrix metrics), plus
    `val_` versions with `validation_data`. The progress bar shows rank 0's
    running values. Callbacks run in every process, with the same logs: let
    only rank 0 write files.

    Args:
        model: a compiled, built Keras model (torch backend).
        x: NumPy array, or dict of NumPy arrays, of inputs.
        y: NumPy array of targets.
        batch_size: int. The global batch size, split over the processes;
            it must be a multiple of the number of processes.
        epochs: int. Defaults to 1.
        validation_data: optional `(x_val, y_val)`, evaluated after every
            epoch, split over the processes. Defaults to None.
        callbacks: optional list of `keras.callbacks.Callback`. Defaults to
            None.
        shuffle: bool. Whether the sampler shuffles every epoch. Defaults to
            True.
        seed: int. Shuffling seed (the same in every process). Defaults to 0.
        verbose: 0 or 1. Progress bar in the process of rank 0. Defaults
            to 1.

    Returns:
        A `keras.callbacks.History`.

    Example:

    ```python
    # torchrun --nproc_per_node=4 train.py
    init_torch_process_group()
    model = keras_perceiver.Perceiver(num_classes=10)
    model.compile(optimizer="adamw", loss=keras.losses.
                  SparseCategoricalCrossentropy(from_logits=True))
    model.build(x_train.shape)
    fit_ddp(model, x_train, y_train, batch_size=256, epochs=10)
    ```
    """
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data import DataLoader
    from torch.utils.data.distributed import DistributedSampler

    if not dist.is_initialized():
        raise ValueError(
            "`fit_ddp` needs a torch.distributed process group: call "
            "`init_torch_process_group()` under torchrun first. Received: "
            "no process group"
        )
    world_size, rank = dist.get_world_size(), dist.get_rank()
    argument_checks.check_positive_int("batch_size", batch_size)
    argument_checks.check_positive_int("epochs", epochs)
    if batch_size % world_size:
        raise ValueError(
            f"`batch_size` must be a multiple of the {world_size} processes. "
            f"Received: batch_size={batch_size}"
        )
    if not model.built or model.optimizer is None:
        raise ValueError(
            "`model` must be built and compiled before `fit_ddp`. Received: "
            f"model.built={model.built}, optimizer={model.optimizer}"
        )
    device = next(iter(model.parameters())).device
    ddp_model = DistributedDataParallel(
        model,
        device_ids=[device.index] if device.type == "cuda" else None,
    )
    num_examples = len(y)
    sampler = DistributedSampler(
        range(num_examples), num_replicas=world_size, rank=rank,
        shuffle=shuffle, seed=seed, drop_last=True,
    )
    per_process = batch_size // world_size
    loader = DataLoader(range(num_examples), batch_size=per_process,
                        sampler=sampler)
    callbacks = keras.callbacks.CallbackList(
        callbacks, add_history=True, add_progbar=bool(verbose) and rank == 0,
        model=model, epochs=epochs, steps=len(loader), verbose=verbose,
    )
    callbacks.on_train_begin()
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        callbacks.on_epoch_begin(epoch)
        model.reset_metrics()
        for step, indices in enumerate(loader):
            callbacks.on_train_batch_begin(step)
            x_batch, y_batch = _take(x, y, indices.numpy())
            y_pred = ddp_model(x_batch, training=True)
            model.zero_grad()
            loss = model.compute_loss(
                x=x_batch, y=y_batch, y_pred=y_pred, training=True
            )
            model.optimizer.scale_loss(loss).backward()
            weights = model.trainable_weights
            with torch.no_grad():
                model.optimizer.apply([w.value.grad for w in weights], weights)
            _update_metrics(model, loss.detach(), x_batch, y_batch,
                            y_pred.detach())
            callbacks.on_train_batch_end(step, _metric_values(model))
        logs = _metric_values(model, sum_over_processes=True)
        if validation_data is not None:
            logs.update(_evaluate(model, *validation_data, per_process,
                                  rank, world_size))
        callbacks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callbacks.on_train_end()
    return model.history


def _take(x, y, indices):
    x_batch = keras.tree.map_structure(
        lambda array: keras.ops.convert_to_tensor(np.asarray(array)[indices]),
        x,
    )
    return x_batch, keras.ops.convert_to_tensor(np.asarray(y)[indices])


def _update_metrics(model, loss, x, y, y_pred):
    """What Keras' torch `train_step` records: the loss (weighted by the
    batch size) in the model's loss tracker, and the compiled metrics."""
    batch = next(iter(keras.tree.flatten(x))).shape[0]
    _loss_tracker(model).update_state(loss, sample_weight=batch)
    model.compute_metrics(x, y, y_pred)


def _loss_tracker(model):
    """The compiled model's running mean of the loss, the metric "loss" of
    `model.metrics`."""
    return next(metric for metric in model.metrics if metric.name == "loss")


def _metric_values(model, sum_over_processes=False):
    """The model's metric results as floats; with `sum_over_processes`,
    first the metric states of all processes are added up in each."""
    if sum_over_processes:
        import torch.distributed as dist

        for variable in (v for m in model.metrics for v in m.variables):
            total = variable.value.detach().clone()
            dist.all_reduce(total)
            variable.assign(total)
    return {name: float(keras.ops.convert_to_numpy(value))
            for name, value in model.get_metrics_result().items()}


def _evaluate(model, x, y, per_process, rank, world_size):
    """The `val_` logs: this process's share of `(x, y)`, the metrics
    summed over all processes."""
    import torch

    num_examples = len(y)
    share = math.ceil(num_examples / world_size)
    indices = np.arange(rank * share, min((rank + 1) * share, num_examples))
    model.reset_metrics()
    with torch.no_grad():
        for start in range(0, len(indices), per_process):
            x_batch, y_batch = _take(x, y, indices[start:start + per_process])
            y_pred = model(x_batch, training=False)
            loss = model.compute_loss(x=x_batch, y=y_batch, y_pred=y_pred,
                                      training=False)
            _update_metrics(model, loss, x_batch, y_batch, y_pred)
    values = _metric_values(model, sum_over_processes=True)
    return {f"val_{name}": value for name, value in values.items()}

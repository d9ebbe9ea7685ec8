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
    others when it wraps the model). The compiled loss is used; the epoch
    logs hold the loss and, for integer labels, the accuracy, averaged over
    all processes, plus `val_` versions with `validation_data`. Callbacks
    run in every process, with the same logs: let only rank 0 write files.

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
        totals = _Totals(device)
        running_loss = 0.0
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
            totals.add(loss.detach(), y_batch, y_pred.detach())
            # This process's running mean, as keras' own progress bar shows.
            running_loss += (float(loss.detach()) - running_loss) / (step + 1)
            callbacks.on_train_batch_end(step, {"loss": running_loss})
        logs = totals.reduce(prefix="")
        if validation_data is not None:
            logs.update(_evaluate(model, *validation_data, per_process,
                                  rank, world_size, device))
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


class _Totals:
    """Sums of loss, correct predictions and examples, all-reduced."""

    def __init__(self, device):
        import torch

        self.sums = torch.zeros(3, dtype=torch.float64, device=device)
        self.has_accuracy = True

    def add(self, loss, y, y_pred):
        count = y.shape[0]
        self.sums[0] += loss.double() * count
        if len(y.shape) == 1 and len(y_pred.shape) == 2:
            correct = (y_pred.argmax(-1) == y.long()).sum()
            self.sums[1] += correct.double()
        else:
            self.has_accuracy = False
        self.sums[2] += count

    def reduce(self, prefix):
        import torch.distributed as dist

        dist.all_reduce(self.sums)
        loss, correct, count = self.sums.tolist()
        logs = {f"{prefix}loss": loss / max(count, 1)}
        if self.has_accuracy:
            logs[f"{prefix}accuracy"] = correct / max(count, 1)
        return logs


def _evaluate(model, x, y, per_process, rank, world_size, device):
    import torch

    num_examples = len(y)
    share = math.ceil(num_examples / world_size)
    indices = np.arange(rank * share, min((rank + 1) * share, num_examples))
    totals = _Totals(device)
    with torch.no_grad():
        for start in range(0, len(indices), per_process):
            x_batch, y_batch = _take(x, y, indices[start:start + per_process])
            y_pred = model(x_batch, training=False)
            loss = model.compute_loss(x=x_batch, y=y_batch, y_pred=y_pred,
                                      training=False)
            totals.add(loss, y_batch, y_pred)
    return totals.reduce(prefix="val_")

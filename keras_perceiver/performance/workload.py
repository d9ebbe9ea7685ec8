"""What a measuring process trains: a model builder and one batch.

A workload travels to the measuring process as JSON: `{"build":
"module:function", "arguments": {...}, "batch_size": n}`. The function,
called there with the arguments and the batch size under that process's
backend, returns a `Workload`. `model_workload` builds a model from its
Keras config (the Python API); the command line passes its own, which
builds the model `train` would build (`keras_perceiver.cli.auto_options`).
"""

import dataclasses
import importlib
from typing import Any, Callable, Optional

# The builder of `model_workload`, as a workload names it.
MODEL_WORKLOAD = f"{__name__}:model_workload"


@dataclasses.dataclass
class Workload:
    """A model to train and one batch to train it on.

    Args:
        build_model: a function of no arguments returning a new,
            uncompiled classifier (logits out) under the current dtype
            policy.
        inputs: the inputs of one batch (arrays, or a dict of arrays).
        labels: array of int. Its class labels.
        steps_per_epoch: int or None. Training steps per epoch where the
            data set is known. Defaults to None.

    Example:

    >>> workload = Workload(lambda: keras_perceiver.Perceiver(num_classes=2),
    ...                     np.zeros((8, 8, 8, 1), "float32"),
    ...                     np.zeros(8, "int32"))
    """

    build_model: Callable
    inputs: Any
    labels: Any
    steps_per_epoch: Optional[int] = None


def model_workload(arguments, batch_size):
    """The workload of a model config: random inputs, labels 0.

    Args:
        arguments: dict. "model": the model as
            `keras.saving.serialize_keras_object` gives it; "input_shape":
            the shape of one example (no batch axis).
        batch_size: int.

    Returns:
        A `Workload`.

    Example:

    >>> config = keras.saving.serialize_keras_object(model)
    >>> model_workload({"model": config, "input_shape": [8, 8, 1]}, 32)
    """
    import keras
    import numpy as np

    import keras_perceiver  # noqa: F401  (registers the classes)

    inputs = np.random.default_rng(0).normal(
        size=(batch_size, *arguments["input_shape"])).astype("float32")
    return Workload(
        build_model=lambda: keras.saving.deserialize_keras_object(
            arguments["model"]),
        inputs=inputs,
        labels=np.zeros(batch_size, "int32"),
    )


def load_workload(workload):
    """Calls a workload's builder.

    Args:
        workload: dict. "build" ("module:function"), "arguments" and
            "batch_size".

    Returns:
        A `Workload`.
    """
    module, _, function = workload["build"].partition(":")
    build = getattr(importlib.import_module(module), function)
    return build(workload["arguments"], workload["batch_size"])

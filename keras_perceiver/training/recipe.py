"""The recipe that turns a data set into a trained, evaluated classifier.

One place for what `keras-perceiver train`, `tune` and `evaluate`,
`keras_perceiver.tuning.PerceiverHyperModel` and the examples share: the
compile settings (AdamW with gradient clipping, cross-entropy on the
logits, accuracy), the learning-rate schedule, the train/validation split
and the evaluation on the test split.

Example:

>>> data = keras_perceiver.datasets.load("digits")
>>> model = keras_perceiver.models.perceiver_for_dataset(data)
>>> steps = steps_per_epoch(data.num_train_examples, 64, 0.1)
>>> compile_for_classification(
...     model, learning_rate_schedule(1e-3, steps * 10))
>>> model.fit(**data.fit_data(64, validation_split=0.1), epochs=10)
>>> loss, accuracy = evaluate(model, data, batch_size=64)
"""

import math

import keras

from keras_perceiver import argument_checks
from keras_perceiver.datasets.splits import num_fitted_examples
from keras_perceiver.training.regional_compile import step_jit_compile
from keras_perceiver.training.schedules import warmup_cosine_decay
from keras_perceiver.training.defaults import (  # noqa: F401  (public here)
    GRADIENT_CLIP_NORM,
    LEARNING_RATE,
    SCHEDULES,
    WEIGHT_DECAY,
)


def compile_for_classification(model, learning_rate=LEARNING_RATE,
                               weight_decay=WEIGHT_DECAY, jit_compile="auto"):
    """Compiles `model` to be trained as a classifier of its logits.

    AdamW with the gradients clipped to norm 1, sparse categorical
    cross-entropy on the logits, and accuracy.

    Args:
        model: a Keras model whose outputs are class logits.
        learning_rate: float or a `keras.optimizers.schedules` schedule
            (see `learning_rate_schedule`). Defaults to 1e-3.
        weight_decay: float. AdamW's weight decay. Defaults to 1e-4.
        jit_compile: bool or "auto", Keras' `model.compile` argument.
            "auto" compiles the training step with XLA on JAX, and on
            TensorFlow only where there is a GPU; True compiles it on
            every backend: XLA on TensorFlow, and on PyTorch
            `torch.compile` on each repeated block, once per distinct
            block, with an eager step (`training.step_jit_compile`).
            Defaults to "auto".

    Returns:
        `model`, compiled.

    Example:

    >>> model = keras_perceiver.Perceiver(num_classes=10)
    >>> compile_for_classification(model, learning_rate=3e-4)
    """
    model.compile(
        optimizer=clipped_adamw(learning_rate, weight_decay),
        **_loss_and_metrics(),
        jit_compile=step_jit_compile(model, jit_compile),
    )
    return model


def clipped_adamw(learning_rate=LEARNING_RATE, weight_decay=WEIGHT_DECAY):
    """The optimizer of every recipe: AdamW, each gradient clipped to norm
    1 (`GRADIENT_CLIP_NORM`).

    Args:
        learning_rate: float or a `keras.optimizers.schedules` schedule.
            Defaults to 1e-3.
        weight_decay: float. AdamW's weight decay. Defaults to 1e-4.

    Returns:
        A `keras.optimizers.AdamW`.

    Example:

    >>> clipped_adamw(5e-4).clipnorm
    1.0
    """
    return keras.optimizers.AdamW(
        learning_rate, weight_decay=weight_decay, clipnorm=GRADIENT_CLIP_NORM
    )


def learning_rate_schedule(learning_rate, total_steps, schedule="cosine"):
    """The learning rate of a run of `total_steps` optimizer steps.

    Args:
        learning_rate: float. The peak learning rate.
        total_steps: int. Optimizer steps of the whole run (see
            `steps_per_epoch`).
        schedule: str. "cosine": linear warm-up over the first 5 % of the
            steps, then cosine decay to 0 (`schedules.warmup_cosine_decay`);
            "constant": `learning_rate` throughout. Defaults to "cosine".

    Returns:
        A float or a `keras.optimizers.schedules.CosineDecay`.

    Example:

    >>> learning_rate_schedule(1e-3, total_steps=500, schedule="constant")
    0.001
    """
    argument_checks.check_choice("schedule", schedule, SCHEDULES)
    if schedule == "constant":
        return learning_rate
    return warmup_cosine_decay(learning_rate, total_steps)


def steps_per_epoch(num_examples, batch_size, validation_split=0.0):
    """Batches per epoch over what `split_validation` leaves for training.

    Args:
        num_examples: int. Training examples, before the validation split.
        batch_size: int.
        validation_split: float in [0, 1). Defaults to 0.

    Returns:
        int.

    Example:

    >>> steps_per_epoch(1000, batch_size=64, validation_split=0.1)
    15
    """
    return math.ceil(
        num_fitted_examples(num_examples, validation_split) / batch_size
    )


def evaluate(model, data, batch_size, verbose=0):
    """Test loss and accuracy of a compiled classifier on `data`'s test split.

    Args:
        model: a model compiled with an accuracy metric (as
            `compile_for_classification` or `compile_for_evaluation`
            compile it).
        data: a `keras_perceiver.datasets.Dataset` or `StreamedDataset`.
        batch_size: int.
        verbose: Keras' `evaluate` verbosity. Defaults to 0 (silent).

    Returns:
        `(loss, accuracy)`, floats.

    Example:

    >>> loss, accuracy = evaluate(model, data, batch_size=64)
    """
    loss, accuracy = model.evaluate(**data.test_data(batch_size),
                                    verbose=verbose)
    return loss, accuracy


def compile_for_evaluation(model):
    """Compiles a loaded classifier with the loss and accuracy only.

    Args:
        model: a classifier with logits out, e.g. loaded from a `.keras` file.

    Returns:
        `model`, compiled.

    Example:

    >>> model = keras.saving.load_model("run/model.keras")
    >>> loss, accuracy = evaluate(compile_for_evaluation(model), data, 64)
    """
    model.compile(**_loss_and_metrics())
    return model


def _loss_and_metrics():
    return {
        "loss": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        "metrics": ["accuracy"],
    }

"""The recipe that trains a multimodal autoencoder, and its PSNR."""

import keras
import numpy as np

from keras_perceiver.training.regional_compile import step_jit_compile
from keras_perceiver.training.defaults import LEARNING_RATE
from keras_perceiver.training.defaults import WEIGHT_DECAY
from keras_perceiver.training.recipe import clipped_adamw


def multimodal_autoencoding_losses():
    """The losses of a `PerceiverMultimodalAutoencoder`'s outputs.

    Mean squared error of the video and of the audio, and the label's
    cross-entropy from its logits against integer labels.

    Returns:
        A dict of Keras losses keyed `"audio"`, `"video"`, `"label"`.

    Example:

    >>> sorted(multimodal_autoencoding_losses())
    ['audio', 'label', 'video']
    """
    return {
        "audio": keras.losses.MeanSquaredError(),
        "video": keras.losses.MeanSquaredError(),
        "label": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    }


def compile_for_multimodal_autoencoding(
    model, learning_rate=LEARNING_RATE, weight_decay=WEIGHT_DECAY,
    loss_weights=None, jit_compile="auto",
):
    """Compiles a `PerceiverMultimodalAutoencoder` to reconstruct its inputs.

    AdamW with the gradients clipped to norm 1, as the classification
    recipe; the losses of `multimodal_autoencoding_losses`, weighted by
    `loss_weights`, and the label accuracy as a metric. The targets are
    the video, the audio `(batch, samples)` and the integer labels.

    Args:
        model: a `keras_perceiver.PerceiverMultimodalAutoencoder`.
        learning_rate: float or a `keras.optimizers.schedules` schedule.
            Defaults to 1e-3.
        weight_decay: float. AdamW's weight decay. Defaults to 1e-4.
        loss_weights: dict of modality -> float, or None (all 1).
            Defaults to None.
        jit_compile: bool or "auto", as for `compile_for_classification`
            (which says what each value compiles). Defaults to "auto".

    Returns:
        `model`, compiled.

    Example:

    >>> compile_for_multimodal_autoencoding(
    ...     model, loss_weights={"video": 1.0, "audio": 1.0, "label": 0.1})
    >>> model.fit(inputs, {"video": videos, "audio": waveforms,
    ...                    "label": labels}, batch_size=32, epochs=5)
    """
    model.compile(
        optimizer=clipped_adamw(learning_rate, weight_decay),
        loss=multimodal_autoencoding_losses(),
        loss_weights=loss_weights,
        metrics={"label": [keras.metrics.SparseCategoricalAccuracy(
            name="accuracy")]},
        jit_compile=step_jit_compile(model, jit_compile),
    )
    return model


def psnr(targets, predictions, data_range):
    """Peak signal-to-noise ratio in dB over a whole set.

    `10 * log10(data_range**2 / MSE)`, the MSE taken over every value
    (not averaged per example).

    Args:
        targets: array-like. The true values.
        predictions: array-like of the same shape.
        data_range: float. The span of the values (1 for images in [0, 1],
            2 for audio in [-1, 1]).

    Returns:
        The PSNR as a Python float (inf for a perfect prediction).

    Example:

    >>> psnr(np.zeros(4), np.full(4, 0.1), data_range=1.0)
    20.0
    """
    error = np.mean(
        (np.asarray(targets, "float64") - np.asarray(predictions, "float64"))
        ** 2
    )
    if error == 0:
        return float("inf")
    return float(10 * np.log10(data_range ** 2 / error))

"""The recipe that trains a causal language model on next-byte targets."""

import math

import keras

from keras_perceiver.training.regional_compile import step_jit_compile
from keras_perceiver.training.defaults import LEARNING_RATE
from keras_perceiver.training.defaults import WEIGHT_DECAY
from keras_perceiver.training.recipe import clipped_adamw


def compile_for_causal_lm(model, learning_rate=LEARNING_RATE,
                          weight_decay=WEIGHT_DECAY, jit_compile="auto"):
    """Compiles a `PerceiverCausalLM` for next-byte cross-entropy.

    AdamW with the gradients clipped to norm 1, as the classification
    recipe; the loss is the cross-entropy of the logits against the next
    token at each position the model predicts (`from_logits`), in nats;
    `bits_per_byte(loss)` converts it.

    Args:
        model: a `keras_perceiver.PerceiverCausalLM`.
        learning_rate: float or a `keras.optimizers.schedules` schedule
            (see `warmup_cosine_decay`). Defaults to 1e-3.
        weight_decay: float. AdamW's weight decay. Defaults to 1e-4.
        jit_compile: bool or "auto", Keras' `model.compile` argument (what
            each value compiles: `compile_for_classification`). Defaults to
            "auto".

    Returns:
        `model`, compiled.

    Example:

    >>> windows = keras_perceiver.datasets.byte_windows(
    ...     corpus["train"], model.max_context + 1, num_windows=1024)
    >>> compile_for_causal_lm(model)
    >>> model.fit(windows[:, :-1], windows[:, -model.num_latents:])
    """
    model.compile(
        optimizer=clipped_adamw(learning_rate, weight_decay),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=step_jit_compile(model, jit_compile),
    )
    return model


def bits_per_byte(loss):
    """A byte-level cross-entropy in nats, as bits per byte.

    Args:
        loss: float. The mean cross-entropy (natural logarithm) per byte.

    Returns:
        float, `loss / ln 2`.

    Example:

    >>> round(bits_per_byte(math.log(256)), 6)
    8.0
    """
    return loss / math.log(2)

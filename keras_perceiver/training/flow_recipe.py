"""The recipe that trains an optical-flow model on frame pairs."""

from keras_perceiver.training.regional_compile import step_jit_compile
from keras_perceiver.training.defaults import LEARNING_RATE
from keras_perceiver.training.defaults import WEIGHT_DECAY
from keras_perceiver.training.recipe import clipped_adamw
from keras_perceiver.training.flow_metrics import EndPointError
from keras_perceiver.training.flow_metrics import end_point_error


def compile_for_flow(model, learning_rate=LEARNING_RATE,
                     weight_decay=WEIGHT_DECAY, jit_compile="auto"):
    """Compiles a `PerceiverOpticalFlow` to be trained on the end-point error.

    AdamW with the gradients clipped to norm 1, as the classification
    recipe; the loss is the end-point error itself (`end_point_error`),
    reported as the metric `end_point_error` too.

    Args:
        model: a Keras model whose outputs are flow fields `(batch, H, W,
            2)`, e.g. `keras_perceiver.PerceiverOpticalFlow`.
        learning_rate: float or a `keras.optimizers.schedules` schedule
            (see `learning_rate_schedule`). Defaults to 1e-3.
        weight_decay: float. AdamW's weight decay. Defaults to 1e-4.
        jit_compile: bool or "auto", Keras' `model.compile` argument (what
            each value compiles, on torch the repeated blocks for True:
            `compile_for_classification`). Defaults to "auto".

    Returns:
        `model`, compiled.

    Example:

    >>> frames, flow = keras_perceiver.datasets.affine_flow_pairs(
    ...     images, num_pairs=512, seed=0)
    >>> compile_for_flow(model, learning_rate=5e-4)
    >>> model.fit(frames, flow, batch_size=16, epochs=10)
    """
    model.compile(
        optimizer=clipped_adamw(learning_rate, weight_decay),
        loss=end_point_error,
        metrics=[EndPointError()],
        jit_compile=step_jit_compile(model, jit_compile),
    )
    return model

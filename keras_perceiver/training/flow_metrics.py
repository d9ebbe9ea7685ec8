"""End-point error: the optical-flow metric and loss."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_perceiver")
def end_point_error(y_true, y_pred):
    """Mean end-point error of each example's flow field.

    The end-point error of a pixel is the Euclidean distance between its
    predicted and true displacement vectors; each example's value is the
    mean over its pixels. Usable as a Keras loss.

    Args:
        y_true: Tensor `(batch, H, W, 2)`, the true flow in pixels.
        y_pred: Tensor `(batch, H, W, 2)`, the predicted flow.

    Returns:
        A float32 tensor `(batch,)`.

    Example:

    >>> flow = np.zeros((1, 4, 4, 2), "float32")
    >>> float(end_point_error(flow, flow + [3.0, 4.0])[0])
    5.0
    """
    y_true = ops.cast(y_true, "float32")
    y_pred = ops.cast(y_pred, "float32")
    if tuple(y_true.shape[1:]) != tuple(y_pred.shape[1:]) or (
        y_pred.shape[-1] != 2
    ):
        raise ValueError(
            "The true and predicted flow must both have shape "
            "(batch, height, width, 2). Received: "
            f"y_true.shape={tuple(y_true.shape)}, "
            f"y_pred.shape={tuple(y_pred.shape)}"
        )
    distances = ops.sqrt(ops.sum(ops.square(y_pred - y_true), axis=-1))
    return ops.mean(distances, axis=(1, 2))


@keras.saving.register_keras_serializable(package="keras_perceiver")
class EndPointError(keras.metrics.MeanMetricWrapper):
    """The mean end-point error over all examples seen, in pixels.

    The standard optical-flow metric (Sintel's and KITTI's EPE): the
    Euclidean distance between predicted and true displacement, averaged
    over the pixels of each example (`end_point_error`), then over the
    examples.

    Args:
        name: str. The metric's name. Defaults to "end_point_error".
        dtype: the metric's dtype. Defaults to None (float32).

    Example:

    >>> metric = EndPointError()
    >>> metric.update_state(np.zeros((2, 4, 4, 2)), np.ones((2, 4, 4, 2)))
    >>> round(float(metric.result()), 4)
    1.4142
    """

    def __init__(self, name="end_point_error", dtype=None):
        super().__init__(end_point_error, name=name, dtype=dtype)
        self._direction = "down"  # Lower is better (for KerasTuner).

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

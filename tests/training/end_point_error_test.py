"""The end-point error: each pixel's distance between true and predicted
displacement, averaged per example, then over examples."""

import keras
import numpy as np
import pytest

from bad_input import assert_value_error
from keras_perceiver.training import EndPointError
from keras_perceiver.training import end_point_error
from support import to_numpy

TRUE = np.zeros((2, 2, 3, 2), "float32")
PREDICTED = np.zeros((2, 2, 3, 2), "float32")
PREDICTED[0, 0, 0] = (3.0, 4.0)  # one pixel of six off by 5
PREDICTED[1] = (1.0, 0.0)  # every pixel off by 1


def test_end_point_error_per_example():
    np.testing.assert_allclose(to_numpy(end_point_error(TRUE, PREDICTED)),
                               [5.0 / 6.0, 1.0], rtol=1e-6)


def test_the_metric_averages_over_every_example_seen():
    metric = EndPointError()
    metric.update_state(TRUE[:1], PREDICTED[:1])
    metric.update_state(TRUE[1:], PREDICTED[1:])
    assert float(metric.result()) == pytest.approx((5.0 / 6.0 + 1.0) / 2)
    restored = EndPointError.from_config(metric.get_config())
    assert restored.name == "end_point_error"
    restored = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert isinstance(restored, EndPointError)


@pytest.mark.parametrize(
    "predicted_shape", [(2, 2, 3, 3), (2, 3, 2, 2)], ids=["channels", "grid"]
)
def test_mismatched_flow_fields_are_refused(predicted_shape):
    assert_value_error(
        lambda: end_point_error(TRUE, np.zeros(predicted_shape, "float32")),
        "(batch, height, width, 2)",
    )

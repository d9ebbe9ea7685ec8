"""Tests of InputQueries."""

import numpy as np
import pytest

from keras_perceiver import adapters
from keras_perceiver.layers import InputQueries
from layer_harness import run_layer_test
from support import INPUTS, to_numpy


def test_input_queries_take_the_adapters_position_channels():
    adapter = adapters.PointCloudAdapter(num_bands=4)
    points = np.random.RandomState(2).uniform(-1, 1, (2, 9, 5))
    byte_array, _ = adapter(points.astype("float32"))
    queries = InputQueries(
        num_position_channels=adapter.num_position_channels
    )(byte_array)
    assert adapter.num_position_channels == 3 * 9
    np.testing.assert_array_equal(
        to_numpy(queries), to_numpy(byte_array)[..., 2:]
    )


def test_input_queries_wider_than_the_byte_array_raise():
    with pytest.raises(ValueError, match="`num_position_channels`"):
        InputQueries(num_position_channels=8)(INPUTS)


def test_layer_checks(tmp_path):
    run_layer_test(
        InputQueries, dict(num_position_channels=3,
                           task_embedding_channels=2),
        (INPUTS,), tmp_path,
        config_kwargs=dict(num_position_channels=3),
        expected_output_shape=(2, 10, 5),
    )

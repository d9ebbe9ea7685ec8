"""Tests of FourierQueries."""

import numpy as np

from keras_perceiver import adapters
from keras_perceiver.layers import FourierQueries
from layer_harness import run_layer_test
from support import INPUTS, to_numpy


def test_fourier_queries_are_the_input_grids_position_features():
    images = np.random.RandomState(0).uniform(size=(3, 6, 6, 1))
    byte_array, _ = adapters.ImageAdapter(num_bands=4)(
        images.astype("float32"))
    queries = FourierQueries((6, 6), num_bands=4)(byte_array)
    np.testing.assert_allclose(
        to_numpy(queries), to_numpy(byte_array)[..., 1:], atol=1e-6
    )


def test_layer_checks(tmp_path):
    run_layer_test(
        FourierQueries, dict(index_shape=(3, 2), num_bands=2,
                             task_embedding_channels=2),
        (INPUTS,), tmp_path,
        config_kwargs=dict(index_shape=(6, 6), num_bands=4,
                           max_resolution=(8, 8), concat_pos=False,
                           sine_only=True),
        expected_output_shape=(2, 6, 2 * (2 * 2 + 1) + 2),
    )

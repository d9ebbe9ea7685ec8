"""Tests of LearnedQueries."""

import numpy as np

from keras_perceiver.layers import LearnedQueries
from layer_harness import run_layer_test
from support import INPUTS, to_numpy


def test_learned_queries_are_shared_by_every_example():
    queries = to_numpy(LearnedQueries(4, 10)(INPUTS))
    assert queries.shape == (2, 4, 10)
    np.testing.assert_array_equal(queries[0], queries[1])


def test_layer_checks(tmp_path):
    run_layer_test(
        LearnedQueries, dict(num_queries=4, num_channels=10,
                             task_embedding_channels=2),
        (INPUTS,), tmp_path,
        config_kwargs=dict(num_queries=4, num_channels=10,
                           index_shape=(2, 2)),
        expected_output_shape=(2, 4, 12),
    )

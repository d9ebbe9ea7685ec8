"""What every output-query layer shares (OutputQueries): the task
embedding and the argument checks.

Each query layer's harness checks are in its own test file."""

import numpy as np
import pytest

from keras_perceiver import layers
from support import INPUTS, to_numpy


def test_task_embedding_is_concatenated_to_every_query():
    layer = layers.FourierQueries((6,), num_bands=2, task_embedding_channels=3)
    queries = to_numpy(layer(INPUTS))
    assert queries.shape == (2, 6, 5 + 3)
    embedding = to_numpy(layer.task_embedding)
    np.testing.assert_array_equal(queries[:, :, 5:],
                                  np.broadcast_to(embedding, (2, 6, 3)))


@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda: layers.LearnedQueries(0, 4), "num_queries"),
        (lambda: layers.LearnedQueries(4, 4, index_shape=(3, 2)),
         "index_shape"),
        (lambda: layers.FourierQueries((6, 0)), "index_shape"),
        (lambda: layers.FourierQueries((6, 6), max_resolution=(6,)),
         "max_resolution"),
        (lambda: layers.InputQueries(task_embedding_channels=-1),
         "task_embedding_channels"),
    ],
)
def test_bad_query_arguments_raise(make, argument):
    with pytest.raises(ValueError, match=f"`{argument}`.*Received"):
        make()

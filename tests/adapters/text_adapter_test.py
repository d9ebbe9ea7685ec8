"""Tests of TextAdapter: token and position embeddings, masks."""

import numpy as np

from keras_perceiver.adapters import TextAdapter
from layer_harness import run_adapter_test
from support import to_numpy

IDS = np.array([[5, 9, 7, 6, 4, 3], [8, 5, 5, 0, 0, 0]], "int32")
MASK = IDS > 0


def test_text_adapter_adds_position_embeddings():
    adapter = TextAdapter(max_length=8, embedding_dim=4)
    ids = np.array([[5, 5, 7]])
    byte_array, mask = adapter(ids)
    assert mask is None
    expected = (
        to_numpy(adapter.token_embeddings)[ids[0]]
        + to_numpy(adapter.position_embeddings)[:3]
    )
    np.testing.assert_allclose(to_numpy(byte_array)[0], expected, atol=1e-6)


def test_layer_checks(tmp_path):
    # Trains on the padded token ids with their mask; under mixed_bfloat16
    # the embeddings are added in bfloat16.
    run_adapter_test(
        TextAdapter, dict(vocabulary_size=12, max_length=8, embedding_dim=4),
        {"inputs": IDS, "mask": MASK}, tmp_path,
        config_kwargs=dict(vocabulary_size=20, max_length=16,
                           embedding_dim=6,
                           embeddings_initializer="glorot_uniform"),
        expected_output_shape=((2, 6, 4), (2, 6)),
        mixed_precision="finite",
    )

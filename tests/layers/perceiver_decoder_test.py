"""Tests of PerceiverDecoder: one output per query, from the latents."""

import keras
import numpy as np
import pytest

from keras_perceiver.layers import PerceiverDecoder
from layer_harness import run_layer_test
from support import to_numpy

rng = np.random.default_rng(0)
QUERIES = rng.normal(size=(2, 11, 12)).astype("float32")
LATENTS = rng.normal(size=(2, 8, 16)).astype("float32")


def test_decoder_gives_one_output_per_query():
    decoder = PerceiverDecoder(num_output_channels=5, num_heads=2)
    outputs = decoder(QUERIES, LATENTS)
    assert tuple(outputs.shape) == (2, 11, 5)


def test_decoder_without_projection_keeps_the_query_width():
    decoder = PerceiverDecoder(use_query_residual=False)
    outputs = decoder(QUERIES, LATENTS)
    assert tuple(outputs.shape) == (2, 11, 12)
    assert decoder.output_projection is None


def test_decoder_outputs_do_not_depend_on_other_queries():
    decoder = PerceiverDecoder(num_output_channels=3)
    together = to_numpy(decoder(QUERIES[:, :10], LATENTS))
    alone = to_numpy(decoder(QUERIES[:, 3:4], LATENTS))
    np.testing.assert_allclose(alone[:, 0], together[:, 3], atol=1e-5)


def test_decoder_without_query_residual_is_attention_then_mlp():
    decoder = PerceiverDecoder(use_query_residual=False)
    queries = QUERIES[:, :5]
    outputs = to_numpy(decoder(queries, LATENTS))
    cross = decoder.cross_attention
    attended = cross.attention(
        cross.latent_norm(queries), cross.input_norm(LATENTS)
    )
    expected = attended + cross.mlp(cross.mlp_norm(attended))
    np.testing.assert_allclose(outputs, to_numpy(expected), atol=1e-5)


def test_decoder_queries_of_the_wrong_width_raise():
    decoder = PerceiverDecoder(num_output_channels=3)
    decoder(QUERIES[:, :5], LATENTS)
    with pytest.raises(ValueError, match="`queries` must have width 12"):
        decoder(keras.random.normal((2, 5, 10)), LATENTS)


def test_layer_checks(tmp_path):
    run_layer_test(
        PerceiverDecoder, dict(num_output_channels=5, num_heads=2),
        (QUERIES, LATENTS), tmp_path,
        config_kwargs=dict(num_output_channels=3, num_heads=2,
                           qk_channels=8, use_query_residual=False),
        expected_output_shape=(2, 11, 5), mixed_precision="finite",
    )

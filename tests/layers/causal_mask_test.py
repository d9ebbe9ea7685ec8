"""Tests of causal attention: `causal_mask`, a per-query mask in
PerceiverAttention, and SelfAttention's key/value cache (`extend`).

The layer cases are spread over the backends (`one_backend`): every
backend runs them through PerceiverCausalLM, whose tests
(tests/models/perceiver_causal_lm_test.py) compare its causal logits and
its cached generation on each; TensorFlow takes the per-query mask through
its fused attention kernel, the route the others do not use on the CPU."""

import numpy as np
import pytest

from bad_input import assert_value_error
from keras_perceiver.layers import (
    LatentTransformer,
    PerceiverAttention,
    causal_mask,
)
from support import INPUTS, LATENTS, to_numpy


def attention(**kwargs):
    return PerceiverAttention(num_heads=2, qk_channels=8, output_channels=16,
                              **kwargs)


@pytest.mark.backend_independent
def test_queries_see_their_position_and_before_and_no_padding():
    key_mask = np.array([[False, True, True, True]])
    mask = to_numpy(causal_mask(2, 4, key_mask)).astype(int)
    np.testing.assert_array_equal(mask, [[[0, 1, 1, 0], [0, 1, 1, 1]]])
    mask = to_numpy(causal_mask(2, 4, start=1)).astype(int)
    np.testing.assert_array_equal(mask, [[[1, 1, 0, 0], [1, 1, 1, 0]]])


@pytest.mark.one_backend("tensorflow")
def test_each_query_row_of_a_mask_masks_that_query_alone():
    layer = attention()
    rows = np.random.default_rng(1).uniform(size=(2, 6, 10)) < 0.5
    rows[0, 2] = False  # a query that sees nothing gets zeros
    output = to_numpy(layer(LATENTS, INPUTS, mask=rows))
    for query in range(6):
        expected = to_numpy(layer(LATENTS, INPUTS, mask=rows[:, query]))
        np.testing.assert_allclose(output[:, query], expected[:, query],
                                   atol=1e-5)
    np.testing.assert_array_equal(output[0, 2], 0.0)


@pytest.mark.one_backend("torch")
def test_a_per_query_mask_attends_over_the_whole_axis_despite_chunks():
    rows = to_numpy(causal_mask(6, 10))
    whole = attention()
    chunked = attention(input_chunk_size=4)
    whole(LATENTS, INPUTS)
    chunked(LATENTS, INPUTS)
    chunked.set_weights(whole.get_weights())
    np.testing.assert_allclose(to_numpy(chunked(LATENTS, INPUTS, mask=rows)),
                               to_numpy(whole(LATENTS, INPUTS, mask=rows)),
                               atol=1e-6)


@pytest.mark.one_backend("torch")
def test_extend_with_a_cache_equals_the_causal_call():
    transformer = LatentTransformer(num_layers=2, num_heads=2)
    causal = to_numpy(
        transformer(LATENTS, attention_mask=causal_mask(6, 6)))
    caches = transformer.empty_caches(2, 6)
    first, caches = transformer.extend(LATENTS[:, :4], caches, 0)
    second, _ = transformer.extend(LATENTS[:, 4:], caches, 4)
    np.testing.assert_allclose(
        np.concatenate([to_numpy(first), to_numpy(second)], axis=1), causal,
        atol=1e-5)


# Bad input.

@pytest.mark.parametrize("shape", [(2, 7), (2, 6, 9), (2, 1, 6, 10)])
def test_a_mask_of_another_shape_is_refused(shape):
    assert_value_error(
        lambda: attention()(LATENTS, INPUTS, mask=np.ones(shape, bool)),
        "(batch, num_queries, num_keys)", f"mask.shape={shape}")

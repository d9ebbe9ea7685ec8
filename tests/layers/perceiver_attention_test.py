"""Tests of PerceiverAttention: widths, masks, the fused and explicit
routes, the attention weights."""

import keras
import numpy as np
import pytest

from keras_perceiver.layers import PerceiverAttention
from layer_harness import run_layer_test
from support import INPUTS, LATENTS, tiny_perceiver, to_numpy


def padding_mask(rows, length):
    """A mask of `INPUTS` whose `rows` end after `length` elements."""
    mask = np.ones(INPUTS.shape[:2], bool)
    mask[rows, length:] = False
    return mask


def test_attention_widths_and_heads():
    attention = PerceiverAttention(
        num_heads=2, qk_channels=8, v_channels=4, output_channels=16
    )
    output = attention(LATENTS, INPUTS)
    assert tuple(output.shape) == (2, 6, 16)
    assert tuple(attention.query_dense.kernel.shape) == (16, 8)
    assert tuple(attention.key_dense.kernel.shape) == (7, 8)
    assert tuple(attention.value_dense.kernel.shape) == (7, 4)
    assert tuple(attention.output_dense.kernel.shape) == (4, 16)


def test_attention_mask_equals_truncated_inputs():
    attention = PerceiverAttention(num_heads=1, qk_channels=8,
                                   output_channels=16)
    mask = padding_mask(slice(None), 6)
    masked = to_numpy(attention(LATENTS, INPUTS, mask=mask))
    truncated = to_numpy(attention(LATENTS, INPUTS[:, :6]))
    np.testing.assert_allclose(masked, truncated, atol=1e-5)


def test_fully_masked_rows_give_zeros_not_nans():
    attention = PerceiverAttention(num_heads=2, qk_channels=8,
                                   output_channels=16)
    mask = padding_mask(1, 0)
    output = to_numpy(attention(LATENTS, INPUTS, mask=mask))
    assert np.isfinite(output).all()
    np.testing.assert_array_equal(output[1], 0.0)
    unmasked = to_numpy(attention(LATENTS[:1], INPUTS[:1]))
    np.testing.assert_allclose(output[:1], unmasked, atol=1e-5)


def test_heads_must_divide_widths():
    with pytest.raises(ValueError, match="qk_channels"):
        PerceiverAttention(num_heads=3, qk_channels=8, output_channels=4)
    with pytest.raises(ValueError, match="v_channels"):
        PerceiverAttention(num_heads=2, qk_channels=8, v_channels=5,
                           output_channels=4)


@pytest.mark.parametrize("mask", [None, padding_mask(0, 4)],
                         ids=["unmasked", "masked"])
def test_layer_checks(mask, tmp_path):
    run_layer_test(
        PerceiverAttention,
        dict(num_heads=2, qk_channels=4, v_channels=6, output_channels=3),
        (LATENTS, INPUTS), tmp_path,
        call_kwargs=None if mask is None else {"mask": mask},
        expected_output_shape=(2, 6, 3), mixed_precision="finite",
    )


def test_attention_weights_reproduce_the_fused_output():
    attention = PerceiverAttention(num_heads=2, qk_channels=8,
                                   output_channels=16)
    mask = padding_mask(0, 7)
    fused = to_numpy(attention(LATENTS, INPUTS, mask=mask))
    weights = to_numpy(attention.attention_weights(LATENTS, INPUTS, mask))
    assert weights.shape == (2, 2, 6, 10)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(weights[0, :, :, 7:], 0.0)
    values = to_numpy(attention.value_dense(INPUTS)).reshape(2, 10, 2, 4)
    attended = np.einsum("bhqk,bkhd->bqhd", weights, values).reshape(2, 6, 8)
    expected = to_numpy(attention.output_dense(attended))
    np.testing.assert_allclose(fused, expected, atol=1e-5)


def test_the_perceiver_attends_through_the_fused_kernel(monkeypatch):
    """Every attention of the default model goes through
    `keras.ops.dot_product_attention`, where backends fuse (flash) it,
    except on PyTorch's and JAX's CPU, where explicit matmuls are faster."""
    calls = []
    fused = keras.ops.dot_product_attention

    def counting(*args, **kwargs):
        calls.append(tuple(args[0].shape))
        return fused(*args, **kwargs)

    monkeypatch.setattr(keras.ops, "dot_product_attention", counting)
    model = tiny_perceiver(num_blocks=2, num_self_attends_per_block=2)
    images = np.random.default_rng(0).uniform(size=(2, 4, 4, 1))
    model(images.astype("float32"))
    backend = keras.config.backend()
    if backend == "torch":
        explicit = keras.ops.ones(()).device.type == "cpu"
    elif backend == "jax":
        import jax

        explicit = jax.default_backend() == "cpu"
    else:
        explicit = False
    # Two cross-attends and 2 x 2 self-attention layers.
    assert len(calls) == (0 if explicit else 6)


def test_the_explicit_route_equals_the_fused_kernel():
    attention = PerceiverAttention(num_heads=2, qk_channels=8,
                                   output_channels=16)
    mask = padding_mask(1, 4)
    queries = attention._split_heads(attention.query_dense(LATENTS))
    keys = attention._split_heads(attention.key_dense(INPUTS))
    values = attention._split_heads(attention.value_dense(INPUTS))
    fused = keras.ops.dot_product_attention(
        queries, keys, values, mask=mask[:, None, None, :]
    )
    weights = attention._attention_probabilities(
        queries, keys, mask[:, None, None, :]
    )
    explicit = keras.ops.einsum("bhqk,bkhd->bqhd", weights, values)
    np.testing.assert_allclose(to_numpy(explicit), to_numpy(fused),
                               atol=1e-5)

"""Tests of CrossAttention: the paper's defaults, masks, symbolic calls."""

import keras
import numpy as np
import pytest

from keras_perceiver.layers import CrossAttention
from layer_harness import run_layer_test
from support import INPUTS, LATENTS, to_numpy


def test_cross_attention_defaults_follow_the_paper():
    cross = CrossAttention()
    output = cross(LATENTS, INPUTS)
    assert tuple(output.shape) == LATENTS.shape
    # Query/key width defaults to the input channels, value width to it too,
    # and the output projection maps back to the latent width.
    assert tuple(cross.attention.query_dense.kernel.shape) == (16, 7)
    assert tuple(cross.attention.value_dense.kernel.shape) == (7, 7)
    assert tuple(cross.attention.output_dense.kernel.shape) == (7, 16)
    assert tuple(cross.mlp.hidden_dense.kernel.shape) == (16, 16)
    # Separate LayerNorms for latents and inputs.
    assert tuple(cross.latent_norm.gamma.shape) == (16,)
    assert tuple(cross.input_norm.gamma.shape) == (7,)


def test_cross_attention_mask_equals_truncated_inputs():
    cross = CrossAttention(num_heads=1, widening_factor=2)
    mask = np.ones((2, 10), bool)
    mask[:, 4:] = False
    np.testing.assert_allclose(
        to_numpy(cross(LATENTS, INPUTS, mask=mask)),
        to_numpy(cross(LATENTS, INPUTS[:, :4])),
        atol=1e-5,
    )


def test_cross_attention_symbolic_call_takes_any_input_length():
    latents = keras.Input((6, 16))
    inputs = keras.Input((None, 7))
    output = CrossAttention()(latents, inputs)
    assert tuple(output.shape) == (None, 6, 16)


def test_wrong_rank_raises():
    with pytest.raises(ValueError, match="inputs"):
        CrossAttention()(LATENTS, INPUTS[0])


@pytest.mark.parametrize("masked", [False, True])
def test_layer_checks(masked, tmp_path):
    mask = np.arange(10)[None, :].repeat(2, 0) < [[10], [3]]
    run_layer_test(
        CrossAttention,
        dict(num_heads=2, qk_channels=8, v_channels=4, widening_factor=2,
             dropout=0.1),
        (LATENTS, INPUTS), tmp_path,
        call_kwargs={"mask": mask} if masked else None,
        expected_output_shape=LATENTS.shape, mixed_precision="finite",
    )

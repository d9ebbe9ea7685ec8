"""Tests of SelfAttention: shapes and weights."""

from keras_perceiver.layers import SelfAttention
from layer_harness import run_layer_test
from support import LATENTS


def test_self_attention_shapes_and_weights():
    layer = SelfAttention(num_heads=4, widening_factor=2)
    assert tuple(layer(LATENTS).shape) == LATENTS.shape
    assert tuple(layer.attention.query_dense.kernel.shape) == (16, 16)
    # 16 variables: 2 LayerNorms (2 each), query, key, value and output
    # projections (2 each) and a 2-layer MLP (2 each).
    assert len(layer.weights) == 16


def test_layer_checks(tmp_path):
    run_layer_test(
        SelfAttention, dict(num_heads=4, qk_channels=8, widening_factor=4),
        (LATENTS,), tmp_path, expected_output_shape=LATENTS.shape,
        mixed_precision="finite",
    )

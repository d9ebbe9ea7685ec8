"""Tests of LatentTransformer: its layers, weights and config."""

import numpy as np

from keras_perceiver.layers import LatentTransformer
from layer_harness import run_layer_test
from support import LATENTS


def test_transformer_has_a_self_attention_layer_with_its_weights_per_layer():
    transformer = LatentTransformer(num_layers=3, num_heads=2)
    assert tuple(transformer(LATENTS).shape) == LATENTS.shape
    assert len(transformer.self_attends) == 3
    # Each layer has its own 16 variables (see self_attention_test.py).
    assert len({id(w) for w in transformer.weights}) == 3 * 16


def test_transformer_config_holds_the_checked_arguments():
    transformer = LatentTransformer(
        num_layers=2, num_heads=np.int64(2), qk_channels=np.int64(8)
    )
    config = transformer.get_config()
    assert type(config["num_heads"]) is int
    assert type(config["qk_channels"]) is int
    assert (transformer.num_heads, transformer.dropout) == (2, 0.0)


def test_layer_checks(tmp_path):
    run_layer_test(
        LatentTransformer, dict(num_layers=2, num_heads=2, dropout=0.2),
        (LATENTS,), tmp_path, expected_output_shape=LATENTS.shape,
        mixed_precision="finite",
    )

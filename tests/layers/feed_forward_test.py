"""Tests of FeedForward, the attention blocks' MLP."""

from keras_perceiver.layers import FeedForward
from layer_harness import run_layer_test
from support import LATENTS


def test_layer_checks(tmp_path):
    run_layer_test(
        FeedForward, dict(widening_factor=3, dropout=0.1), (LATENTS,),
        tmp_path, expected_output_shape=LATENTS.shape,
        mixed_precision="finite",
    )

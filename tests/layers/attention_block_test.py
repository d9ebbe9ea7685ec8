"""Tests of AttentionBlock, the block CrossAttention and SelfAttention
share: one block for both, its argument checks, its dropout.

Each attention layer's harness checks are in its own test file."""

import numpy as np
import pytest

from keras_perceiver.layers import (
    CrossAttention,
    LatentTransformer,
    SelfAttention,
)
from support import LATENTS, to_numpy


def test_a_self_attend_is_a_cross_attend_of_the_latents_to_themselves():
    self_attend = SelfAttention(num_heads=2, widening_factor=2)
    self_attend(LATENTS)
    cross_attend = CrossAttention(num_heads=2, widening_factor=2)
    cross_attend(LATENTS, LATENTS)
    # The self-attend's one LayerNorm before the attention stands for both
    # of the cross-attend's; every other weight has the same path.
    norm = self_attend.attention_norm.get_weights()
    cross_attend.latent_norm.set_weights(norm)
    cross_attend.input_norm.set_weights(norm)
    for name in ("attention", "mlp_norm", "mlp"):
        getattr(cross_attend, name).set_weights(
            getattr(self_attend, name).get_weights()
        )
    np.testing.assert_allclose(
        to_numpy(cross_attend(LATENTS, LATENTS)),
        to_numpy(self_attend(LATENTS)),
        atol=1e-5,
    )


def test_dropout_only_in_training():
    layer = SelfAttention(num_heads=2, dropout=0.5)
    inference = [to_numpy(layer(LATENTS, training=False)) for _ in range(2)]
    np.testing.assert_array_equal(inference[0], inference[1])
    training = to_numpy(layer(LATENTS, training=True))
    assert not np.allclose(training, inference[0])


@pytest.mark.parametrize(
    "make_layer, argument",
    [
        (lambda: CrossAttention(num_heads=0), "num_heads"),
        (lambda: SelfAttention(widening_factor=-1), "widening_factor"),
        (lambda: CrossAttention(dropout=1.5), "dropout"),
        (lambda: LatentTransformer(num_layers=0), "num_layers"),
        (lambda: CrossAttention(qk_channels=-4), "qk_channels"),
        # Refused when made, not at the first call that builds them.
        (lambda: SelfAttention(num_heads=3, qk_channels=8),
         "qk_channels.*divisible by `num_heads`"),
        (lambda: CrossAttention(num_heads=2, v_channels=5),
         "v_channels.*divisible by `num_heads`"),
    ],
)
def test_bad_arguments_raise(make_layer, argument):
    with pytest.raises(ValueError, match=argument):
        make_layer()

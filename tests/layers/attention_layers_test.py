"""Tests of PerceiverAttention, FeedForward, CrossAttention, SelfAttention
and LatentTransformer on their own."""

import keras
import numpy as np
import pytest

from keras_perceiver.layers import (
    CrossAttention,
    FeedForward,
    LatentTransformer,
    PerceiverAttention,
    SelfAttention,
)
from layer_harness import run_layer_test
from support import to_numpy

rng = np.random.default_rng(0)
LATENTS = rng.normal(size=(2, 6, 16)).astype("float32")
INPUTS = rng.normal(size=(2, 10, 7)).astype("float32")


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
    mask = np.ones((2, 10), bool)
    mask[:, 6:] = False
    masked = to_numpy(attention(LATENTS, INPUTS, mask=mask))
    truncated = to_numpy(attention(LATENTS, INPUTS[:, :6]))
    np.testing.assert_allclose(masked, truncated, atol=1e-5)


def test_fully_masked_rows_give_zeros_not_nans():
    attention = PerceiverAttention(num_heads=2, qk_channels=8,
                                   output_channels=16)
    mask = np.ones((2, 10), bool)
    mask[1] = False
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


def test_cross_attention_symbolic_call():
    latents = keras.Input((6, 16))
    inputs = keras.Input((None, 7))
    output = CrossAttention()(latents, inputs)
    assert tuple(output.shape) == (None, 6, 16)


def test_self_attention_and_transformer_shapes():
    layer = SelfAttention(num_heads=4, widening_factor=2)
    assert tuple(layer(LATENTS).shape) == LATENTS.shape
    assert tuple(layer.attention.query_dense.kernel.shape) == (16, 16)
    transformer = LatentTransformer(num_layers=3, num_heads=2)
    assert tuple(transformer(LATENTS).shape) == LATENTS.shape
    assert len(transformer.self_attends) == 3
    # Each layer has its own 16 variables: 2 LayerNorms (2 each), query,
    # key, value and output projections (2 each) and a 2-layer MLP (2 each).
    assert len(layer.weights) == 16
    assert len({id(w) for w in transformer.weights}) == 3 * 16


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


def test_transformer_config_holds_the_checked_arguments():
    transformer = LatentTransformer(
        num_layers=2, num_heads=np.int64(2), qk_channels=np.int64(8)
    )
    config = transformer.get_config()
    assert type(config["num_heads"]) is int
    assert type(config["qk_channels"]) is int
    assert (transformer.num_heads, transformer.dropout) == (2, 0.0)


def test_dropout_only_in_training():
    layer = SelfAttention(num_heads=2, dropout=0.5)
    inference = [to_numpy(layer(LATENTS, training=False)) for _ in range(2)]
    np.testing.assert_array_equal(inference[0], inference[1])
    training = to_numpy(layer(LATENTS, training=True))
    assert not np.allclose(training, inference[0])


@pytest.mark.parametrize(
    "layer_cls, kwargs, call_args, output_shape",
    [
        (PerceiverAttention,
         dict(num_heads=2, qk_channels=4, v_channels=6, output_channels=3),
         (LATENTS, INPUTS), (2, 6, 3)),
        (FeedForward, dict(widening_factor=3, dropout=0.1), (LATENTS,),
         LATENTS.shape),
        (CrossAttention,
         dict(num_heads=2, qk_channels=8, v_channels=4, widening_factor=2,
              dropout=0.1),
         (LATENTS, INPUTS), LATENTS.shape),
        (SelfAttention, dict(num_heads=4, qk_channels=8, widening_factor=4),
         (LATENTS,), LATENTS.shape),
        (LatentTransformer, dict(num_layers=2, num_heads=2, dropout=0.2),
         (LATENTS,), LATENTS.shape),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_layer_checks(layer_cls, kwargs, call_args, output_shape, tmp_path):
    run_layer_test(layer_cls, kwargs, call_args, tmp_path,
                   expected_output_shape=output_shape,
                   mixed_precision="finite")


@pytest.mark.parametrize(
    "make_layer, argument",
    [
        (lambda: CrossAttention(num_heads=0), "num_heads"),
        (lambda: SelfAttention(widening_factor=-1), "widening_factor"),
        (lambda: CrossAttention(dropout=1.5), "dropout"),
        (lambda: LatentTransformer(num_layers=0), "num_layers"),
        (lambda: CrossAttention(qk_channels=-4), "qk_channels"),
    ],
)
def test_bad_arguments_raise(make_layer, argument):
    with pytest.raises(ValueError, match=argument):
        make_layer()


def test_wrong_rank_raises():
    with pytest.raises(ValueError, match="inputs"):
        CrossAttention()(LATENTS, INPUTS[0])


def test_attention_weights_reproduce_the_fused_output():
    attention = PerceiverAttention(num_heads=2, qk_channels=8,
                                   output_channels=16)
    mask = np.ones((2, 10), bool)
    mask[0, 7:] = False
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
    from support import tiny_perceiver

    calls = []
    fused = keras.ops.dot_product_attention

    def counting(*args, **kwargs):
        calls.append(tuple(args[0].shape))
        return fused(*args, **kwargs)

    monkeypatch.setattr(keras.ops, "dot_product_attention", counting)
    model = tiny_perceiver(num_blocks=2, num_self_attends_per_block=2)
    model(rng.uniform(size=(2, 4, 4, 1)).astype("float32"))
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
    mask = np.ones((2, 10), bool)
    mask[1, 4:] = False
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

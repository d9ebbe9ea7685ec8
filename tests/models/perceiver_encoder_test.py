import keras
import numpy as np
import pytest

import keras_perceiver as kp
from layer_harness import run_task_test
from support import tiny_perceiver
from support import to_numpy

TINY_ENCODER = dict(
    num_latents=8,
    latent_dim=16,
    num_blocks=3,
    num_self_attends_per_block=2,
    num_self_heads=2,
    num_bands=4,
)
IMAGES = np.random.RandomState(0).uniform(size=(3, 6, 6, 1)).astype("float32")


def tiny_encoder(**overrides):
    return kp.PerceiverEncoder(**{**TINY_ENCODER, **overrides})


def test_returns_the_latents():
    latents = tiny_encoder()(IMAGES)
    assert tuple(latents.shape) == (3, 8, 16)


def test_perceiver_is_its_encoder_and_a_head():
    model = tiny_perceiver()
    logits = model(IMAGES)
    latents = model.encode(IMAGES)
    encoder = model.encoder
    assert isinstance(encoder, kp.PerceiverEncoder)
    assert not isinstance(model, kp.PerceiverEncoder)
    assert tuple(latents.shape) == (3, encoder.num_latents, encoder.latent_dim)
    np.testing.assert_allclose(to_numpy(encoder(IMAGES)), to_numpy(latents))
    head = model.head(keras.ops.mean(latents, axis=1))
    np.testing.assert_allclose(to_numpy(head), to_numpy(logits), atol=1e-6)


def test_perceiver_keeps_the_encoders_weights_plus_the_head():
    encoder = tiny_encoder()
    encoder(IMAGES)
    model = tiny_perceiver(**{"num_classes": 5, **TINY_ENCODER})
    model(IMAGES)
    head = 16 * 5 + 5
    assert model.count_params() == encoder.count_params() + head


def test_perceiver_io_scheme_has_one_cross_attend_and_one_transformer():
    encoder = tiny_encoder(block_scheme="perceiver_io")
    encoder(IMAGES)
    assert len(encoder.cross_attends) == 1
    assert len(encoder.latent_transformers) == 1
    assert encoder.num_cross_attends == 1
    one_block = tiny_encoder(block_scheme="perceiver_io", num_blocks=1)
    one_block(IMAGES)
    assert encoder.count_params() == one_block.count_params()


def test_perceiver_io_scheme_applies_the_transformer_num_blocks_times():
    encoder = tiny_encoder(block_scheme="perceiver_io")
    encoder(IMAGES)
    byte_array, _ = encoder.encode_inputs(IMAGES)
    latents = keras.ops.broadcast_to(encoder.latents[None], (3, 8, 16))
    latents = encoder.cross_attends[0](latents, byte_array)
    for _ in range(3):
        latents = encoder.latent_transformers[0](latents)
    np.testing.assert_allclose(
        to_numpy(encoder(IMAGES)), to_numpy(latents), atol=1e-5
    )


def test_perceiver_io_scheme_without_sharing_has_a_transformer_per_block():
    encoder = tiny_encoder(block_scheme="perceiver_io", weight_sharing="none")
    encoder(IMAGES)
    assert len(encoder.cross_attends) == 1
    assert len(encoder.latent_transformers) == 3


def test_cross_attends_without_query_residual_change_the_latents():
    with_residual = tiny_encoder(block_scheme="perceiver_io")
    with_residual(IMAGES)
    without = tiny_encoder(
        block_scheme="perceiver_io", cross_use_query_residual=False
    )
    without(IMAGES)
    without.set_weights(with_residual.get_weights())
    assert not without.cross_attends[0].use_query_residual
    difference = to_numpy(with_residual(IMAGES)) - to_numpy(without(IMAGES))
    assert np.abs(difference).max() > 1e-3


def test_layer_checks(tmp_path):
    run_task_test(
        tiny_encoder, {"block_scheme": "perceiver_io"}, IMAGES, tmp_path,
        config_kwargs=dict(block_scheme="perceiver_io",
                           cross_use_query_residual=False),
        expected_output_shape=(3, 8, 16),
        mixed_precision="finite",
    )


@pytest.mark.parametrize(
    "overrides, argument",
    [
        ({"block_scheme": "once"}, "block_scheme"),
        ({"cross_use_query_residual": 1}, "cross_use_query_residual"),
        ({"num_latents": 0}, "num_latents"),
    ],
)
def test_bad_arguments_raise(overrides, argument):
    with pytest.raises(ValueError, match=f"`{argument}`.*Received"):
        tiny_encoder(**overrides)


@pytest.mark.parametrize("model_class", [kp.PerceiverEncoder, kp.Perceiver])
def test_stateless_training_call_trains_the_input_adapter(model_class):
    # JAX's `fit` calls `stateless_call`, which calls `call` without Keras'
    # call context: the adapter must get `training` explicitly, or its
    # batch statistics (and augmentation) stay in inference mode.
    adapter = kp.adapters.ConvStemImageAdapter(num_filters=4, num_bands=2)
    extra = {"num_classes": 3} if model_class is kp.Perceiver else {}
    model = model_class(
        num_latents=4, latent_dim=8, num_blocks=1,
        num_self_attends_per_block=1, num_self_heads=2,
        input_adapter=adapter, **extra,
    )
    images = np.random.default_rng(0).uniform(size=(2, 16, 16, 3))
    images = images.astype("float32")
    model(images)
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    _, updated = model.stateless_call(
        trainable, non_trainable, images, training=True
    )
    moving_mean = adapter.batch_norm.moving_mean
    index = [v.path for v in model.non_trainable_variables].index(
        moving_mean.path
    )
    assert np.abs(to_numpy(updated[index])).max() > 1e-4
    _, unchanged = model.stateless_call(
        trainable, non_trainable, images, training=False
    )
    np.testing.assert_array_equal(to_numpy(unchanged[index]), 0.0)

import numpy as np
import pytest

import keras_perceiver as kp
from layer_harness import run_task_test
from support import tiny_flow_model, to_numpy

FRAMES = np.random.default_rng(0).uniform(size=(2, 2, 6, 8, 3)).astype(
    "float32"
)


@pytest.fixture(scope="module")
def model():
    model = tiny_flow_model(rescale_factor=1.0)
    model(FRAMES)
    return model


def test_layer_checks(tmp_path):
    # The training step trains on the end-point error, the recipe's loss.
    run_task_test(
        tiny_flow_model, {}, FRAMES, tmp_path,
        expected_output_shape=(2, 6, 8, 2),
        loss=kp.training.end_point_error,
    )


def test_chunked_decoding_equals_unchunked(model):
    chunked = tiny_flow_model(rescale_factor=1.0, decoder_query_chunk_size=7)
    chunked(FRAMES)
    chunked.set_weights(model.get_weights())
    # 48 pixels in chunks of 7: six full chunks and one of 6.
    np.testing.assert_allclose(
        to_numpy(chunked(FRAMES)), to_numpy(model(FRAMES)), rtol=0, atol=1e-6
    )


def test_every_pixel_sees_its_own_and_its_neighbours_patches(model):
    adapter = model.encoder.input_adapter
    byte_array, _ = adapter(FRAMES)
    kernel = to_numpy(adapter.patch_projection.kernel)
    bias = to_numpy(adapter.patch_projection.bias)
    # Pixel (row 2, column 3): the 3 x 3 patches of both frames, row-major,
    # channels last, first frame first.
    patches = [FRAMES[:, frame, 1:4, 2:5].reshape(2, -1) for frame in (0, 1)]
    expected = np.concatenate(patches, axis=-1) @ kernel + bias
    np.testing.assert_allclose(
        to_numpy(byte_array)[:, 2 * 8 + 3, :4], expected, atol=1e-5
    )


def test_the_flow_is_divided_by_the_rescale_factor(model):
    rescaled = tiny_flow_model(rescale_factor=100.0)
    rescaled(FRAMES)
    rescaled.set_weights(model.get_weights())
    np.testing.assert_allclose(
        to_numpy(rescaled(FRAMES)) * 100.0, to_numpy(model(FRAMES)),
        rtol=1e-5, atol=1e-6,
    )


def test_attention_maps_cover_every_pixel(model):
    maps = to_numpy(model.cross_attention_maps(FRAMES))
    assert maps.shape == (2, 1, 4, 48)
    np.testing.assert_allclose(maps.sum(axis=-1), 1.0, atol=1e-5)


@pytest.mark.backend_independent
def test_compile_for_flow_sets_the_end_point_error():
    model = kp.training.compile_for_flow(tiny_flow_model(), 1e-3)
    config = model.get_compile_config()
    assert config["optimizer"]["class_name"] == "AdamW"
    assert config["loss"]["config"] == "keras_perceiver>end_point_error"
    (metric,) = config["metrics"]
    assert metric["registered_name"] == "keras_perceiver>EndPointError"

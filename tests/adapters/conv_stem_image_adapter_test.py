import numpy as np
import pytest

from keras_perceiver.adapters import ConvStemImageAdapter
from keras_perceiver.layers import FourierPositionEncoding
from layer_harness import run_adapter_test
from support import (
    adapter_outputs,
    adapter_perceiver,
    assert_fit_runs,
    to_numpy,
)

rng = np.random.default_rng(0)
IMAGES = rng.uniform(size=(2, 16, 20, 3)).astype("float32")


def tiny_adapter(**overrides):
    return ConvStemImageAdapter(**{"num_filters": 8, "num_bands": 4,
                                   **overrides})


def reference_stem(adapter, images):
    """The stem in NumPy: pad 3, 7x7 stride-2 conv, inference BN, ReLU, pool."""
    kernel = to_numpy(adapter.conv.kernel)
    gamma, beta, mean, variance = (
        to_numpy(weight) for weight in adapter.batch_norm.weights
    )
    padded = np.pad(images, ((0, 0), (3, 3), (3, 3), (0, 0)))
    height = (padded.shape[1] - 7) // 2 + 1
    width = (padded.shape[2] - 7) // 2 + 1
    conv = np.zeros((len(images), height, width, kernel.shape[-1]))
    for row in range(height):
        for column in range(width):
            window = padded[:, 2 * row:2 * row + 7, 2 * column:2 * column + 7]
            conv[:, row, column] = np.einsum("bhwc,hwcf->bf", window, kernel)
    normed = (conv - mean) / np.sqrt(variance + adapter.batch_norm_epsilon)
    features = np.maximum(normed * gamma + beta, 0.0)
    pooled_height = (height - 3) // 2 + 1
    pooled_width = (width - 3) // 2 + 1
    pooled = np.zeros((len(images), pooled_height, pooled_width,
                       features.shape[-1]))
    for row in range(pooled_height):
        for column in range(pooled_width):
            window = features[:, 2 * row:2 * row + 3, 2 * column:2 * column + 3]
            pooled[:, row, column] = window.max(axis=(1, 2))
    return pooled


def test_stem_features_then_positions():
    adapter = tiny_adapter()
    adapter.build(IMAGES.shape)
    adapter.batch_norm.moving_mean.assign(rng.normal(size=8))
    adapter.batch_norm.moving_variance.assign(rng.uniform(0.5, 2.0, size=8))
    byte_array, mask = adapter_outputs(adapter, IMAGES)
    assert mask is None
    # 16 x 20 -> conv 8 x 10 -> pool 3 x 4; 8 filters + 2 * (2 * 4 + 1).
    assert byte_array.shape == (2, 12, 8 + 18)
    expected = reference_stem(adapter, IMAGES).reshape(2, 12, 8)
    np.testing.assert_allclose(byte_array[..., :8], expected, atol=1e-5)
    positions = FourierPositionEncoding(num_bands=4).grid_features((3, 4))
    np.testing.assert_allclose(
        byte_array[1, :, 8:], to_numpy(positions), atol=1e-6
    )


def test_checkpoint_byte_array():
    adapter = ConvStemImageAdapter(num_bands=64, max_resolution=56)
    byte_array_shape, mask_shape = adapter.compute_output_shape(
        (None, 224, 224, 3)
    )
    assert byte_array_shape == (None, 55 * 55, 64 + 258)
    assert mask_shape is None


def test_training_uses_batch_statistics():
    adapter = tiny_adapter()
    inference, _ = adapter_outputs(adapter, IMAGES)
    training, _ = adapter_outputs(adapter, IMAGES, training=True)
    assert not np.allclose(inference[..., :8], training[..., :8])
    np.testing.assert_allclose(inference[..., 8:], training[..., 8:])
    assert not np.allclose(to_numpy(adapter.batch_norm.moving_mean), 0.0)


def test_perceiver_trains_on_the_stem():
    images = rng.uniform(size=(8, 12, 12, 3)).astype("float32")
    model = adapter_perceiver(tiny_adapter())
    assert_fit_runs(model, images, np.arange(8) % 5, batch_size=4)
    assert model.encoder.byte_array_shape[1:] == (4, 8 + 18)


@pytest.mark.parametrize(
    "images_shape, match",
    [
        ((2, 4, 8, 3), "5 x 5"),
        ((2, 16, 20), "rank"),
        ((2, 1, 16, 20, 3), "rank"),
    ],
)
def test_bad_images_raise(images_shape, match):
    with pytest.raises(ValueError, match=match):
        tiny_adapter()(np.zeros(images_shape, "float32"))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_filters": 0}, "num_filters"),
        ({"num_bands": 0}, "num_bands"),
        ({"max_resolution": (8, 8, 8)}, "max_resolution"),
        ({"batch_norm_momentum": 1.5}, "batch_norm_momentum"),
        ({"batch_norm_epsilon": 0}, "batch_norm_epsilon"),
        ({"batch_norm_epsilon": "small"}, "batch_norm_epsilon"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ConvStemImageAdapter(**kwargs)


def test_images_take_no_mask():
    adapter = tiny_adapter()
    with pytest.raises(ValueError, match="mask"):
        adapter(IMAGES, mask=np.ones((2, 16), bool))


def test_images_of_another_size_than_built_raise():
    adapter = tiny_adapter()
    adapter(IMAGES)
    with pytest.raises(ValueError, match="images"):
        adapter(IMAGES[:, :12])


def perceiver_with_set_statistics(adapter):
    """A tiny Perceiver whose stem's batch-norm mean is not the initial 0."""
    model = adapter_perceiver(adapter)
    model(IMAGES)
    adapter.batch_norm.moving_mean.assign(rng.normal(size=8))
    return model


def test_layer_checks(tmp_path):
    _, restored = run_adapter_test(
        ConvStemImageAdapter, {"num_filters": 8, "num_bands": 4}, IMAGES,
        tmp_path, make_model=perceiver_with_set_statistics,
        config_kwargs=dict(num_filters=4, num_bands=5, max_resolution=(6, 7),
                           concat_pos=False, batch_norm_momentum=0.5,
                           batch_norm_epsilon=1e-3),
        expected_output_shape=((2, 12, 8 + 18), None),
        mixed_precision="finite",
    )
    assert isinstance(restored.input_adapter, ConvStemImageAdapter)
    assert not np.allclose(
        to_numpy(restored.input_adapter.batch_norm.moving_mean), 0.0
    )

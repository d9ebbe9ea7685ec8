import numpy as np
import pytest

from keras_perceiver.adapters import ImageAdapter
from keras_perceiver.layers import FourierPositionEncoding
from layer_harness import run_adapter_test
from support import (
    adapter_outputs,
    assert_fit_runs,
    adapter_perceiver,
    to_numpy,
)

rng = np.random.default_rng(0)
IMAGES = rng.uniform(size=(2, 6, 8, 3)).astype("float32")


def grid_features(index_shape, num_bands=4):
    encoding = FourierPositionEncoding(num_bands=num_bands)
    return to_numpy(encoding.grid_features(index_shape))


def test_pixels_then_positions():
    byte_array, mask = adapter_outputs(ImageAdapter(num_bands=4), IMAGES)
    assert mask is None
    # 3 pixel channels + 2 * (2 * 4 + 1) position channels.
    assert byte_array.shape == (2, 48, 21)
    np.testing.assert_allclose(byte_array[..., :3], IMAGES.reshape(2, 48, 3))
    np.testing.assert_allclose(
        byte_array[0, :, 3:], grid_features((6, 8)), atol=1e-6
    )


def test_paper_imagenet_byte_array():
    adapter = ImageAdapter(num_bands=64, max_resolution=224)
    adapter.build((None, 224, 224, 3))
    byte_array_shape, mask_shape = adapter.compute_output_shape(
        (None, 224, 224, 3)
    )
    assert byte_array_shape == (None, 224 * 224, 261)
    assert mask_shape is None


def test_patching_is_space_to_depth_with_positions_of_the_patch_grid():
    byte_array, _ = adapter_outputs(
        ImageAdapter(num_bands=4, patch_size=(2, 4)), IMAGES
    )
    assert byte_array.shape == (2, 3 * 2, 2 * 4 * 3 + 18)
    expected = IMAGES.reshape(2, 3, 2, 2, 4, 3).transpose(0, 1, 3, 2, 4, 5)
    np.testing.assert_allclose(byte_array[..., :24], expected.reshape(2, 6, 24))
    np.testing.assert_allclose(
        byte_array[1, :, 24:], grid_features((3, 2)), atol=1e-6
    )


def find_crop(image, crop):
    """The (top, left) where `crop` lies in `image`."""
    height, width = crop.shape[:2]
    for top in range(image.shape[0] - height + 1):
        for left in range(image.shape[1] - width + 1):
            if np.array_equal(image[top:top + height, left:left + width], crop):
                return top, left
    raise AssertionError("the crop is not a window of the image")


def test_random_crops_with_positions_relative_to_the_crop():
    images = np.arange(4 * 8 * 8, dtype="float32").reshape(4, 8, 8, 1)
    adapter = ImageAdapter(num_bands=4, crop_size=4, seed=7)
    offsets = set()
    for _ in range(3):
        byte_array, _ = adapter_outputs(adapter, images, training=True)
        assert byte_array.shape == (4, 16, 1 + 18)
        for image, elements in zip(images, byte_array):
            offsets.add(find_crop(image, elements[:, :1].reshape(4, 4, 1)))
            # Wherever the crop is, its grid spans [-1, 1].
            np.testing.assert_allclose(
                elements[:, 1:], grid_features((4, 4)), atol=1e-6
            )
    assert len(offsets) > 3


def test_inference_takes_the_central_crop():
    images = rng.uniform(size=(2, 8, 10, 1)).astype("float32")
    adapter = ImageAdapter(num_bands=4, crop_size=(4, 6), patch_size=2)
    byte_array, _ = adapter_outputs(adapter, images)
    central = images[:, 2:6, 2:8]
    expected = central.reshape(2, 2, 2, 3, 2, 1).transpose(0, 1, 3, 2, 4, 5)
    np.testing.assert_allclose(byte_array[..., :4], expected.reshape(2, 6, 4))
    np.testing.assert_allclose(
        byte_array[0, :, 4:], grid_features((2, 3)), atol=1e-6
    )


def test_crops_of_images_that_the_patch_size_does_not_divide():
    images = rng.uniform(size=(2, 10, 10, 1)).astype("float32")
    adapter = ImageAdapter(num_bands=4, crop_size=8, patch_size=4)
    byte_array, _ = adapter_outputs(adapter, images, training=True)
    assert byte_array.shape == (2, 4, 16 + 18)
    byte_array, _ = adapter_outputs(adapter, images)
    assert byte_array.shape == (2, 4, 16 + 18)


def test_perceiver_trains_on_random_crops():
    images = rng.uniform(size=(8, 8, 8, 1)).astype("float32")
    model = adapter_perceiver(
        ImageAdapter(num_bands=4, crop_size=6, patch_size=2)
    )
    assert_fit_runs(model, images, np.arange(8) % 5, batch_size=4)
    assert model.encoder.byte_array_shape[1:] == (9, 4 + 18)


@pytest.mark.parametrize(
    "kwargs, images_shape, match",
    [
        ({"patch_size": 3}, (2, 6, 8, 3), "patch_size"),
        ({"patch_size": (2, 4), "crop_size": 5}, (2, 6, 8, 3), "patch_size"),
        ({"crop_size": (7, 4)}, (2, 6, 8, 3), "crop_size"),
        ({}, (2, 6, 8), "rank"),
        ({}, (2, 1, 6, 8, 3), "rank"),
    ],
)
def test_bad_images_raise(kwargs, images_shape, match):
    adapter = ImageAdapter(num_bands=4, **kwargs)
    with pytest.raises(ValueError, match=match):
        adapter(np.zeros(images_shape, "float32"))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"patch_size": 0}, "patch_size"),
        ({"patch_size": (2, 2, 2)}, "patch_size"),
        ({"patch_size": 1.5}, "patch_size"),
        ({"crop_size": (4, 4, 4)}, "crop_size"),
        ({"max_resolution": (8, 8, 8)}, "max_resolution"),
        ({"num_bands": 0}, "num_bands"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ImageAdapter(**kwargs)


def test_images_take_no_mask():
    adapter = ImageAdapter(num_bands=4)
    with pytest.raises(ValueError, match="mask"):
        adapter(IMAGES, mask=np.ones((2, 6), bool))
    with pytest.raises(ValueError, match="mask"):
        adapter({"inputs": IMAGES, "mask": np.ones((2, 6), bool)})


def test_images_of_another_size_than_built_raise():
    adapter = ImageAdapter(num_bands=4)
    adapter(IMAGES)
    with pytest.raises(ValueError, match="images"):
        adapter(IMAGES[:, :4])


def test_layer_checks(tmp_path):
    # Central 4 x 4 crops in 2 x 2 patches: 4 elements.
    _, restored = run_adapter_test(
        ImageAdapter, {"num_bands": 4, "patch_size": 2, "crop_size": 4},
        IMAGES, tmp_path,
        config_kwargs=dict(num_bands=5, max_resolution=(3, 2),
                           patch_size=(2, 4), crop_size=(6, 8), seed=3,
                           concat_pos=False),
        expected_output_shape=((2, 4, 12 + 18), None),
    )
    assert isinstance(restored.input_adapter, ImageAdapter)

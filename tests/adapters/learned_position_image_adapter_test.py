import keras
import numpy as np
import pytest

from keras_perceiver.adapters import LearnedPositionImageAdapter
from layer_harness import assert_config_round_trip, run_adapter_test
from support import (
    adapter_outputs,
    adapter_perceiver,
    assert_fit_runs,
    to_numpy,
)

rng = np.random.default_rng(0)
IMAGES = rng.uniform(size=(2, 6, 8, 3)).astype("float32")


def tiny_adapter(**overrides):
    return LearnedPositionImageAdapter(
        **{"num_channels": 8, "position_channels": 6,
           "projected_position_channels": 4, **overrides}
    )


def test_projected_pixels_then_projected_positions():
    adapter = tiny_adapter()
    byte_array, mask = adapter_outputs(adapter, IMAGES)
    assert mask is None
    assert byte_array.shape == (2, 48, 8 + 4)
    kernel, bias = (to_numpy(w) for w in adapter.pixel_projection.weights)
    pixels = IMAGES.reshape(2, 48, 3) @ kernel + bias
    np.testing.assert_allclose(byte_array[..., :8], pixels, atol=1e-6)
    embeddings = to_numpy(adapter.position_embeddings)
    assert embeddings.shape == (48, 6)
    kernel, bias = (to_numpy(w) for w in adapter.position_projection.weights)
    for image in byte_array:
        np.testing.assert_allclose(
            image[:, 8:], embeddings @ kernel + bias, atol=1e-6
        )


def test_unprojected_positions():
    adapter = tiny_adapter(projected_position_channels=None)
    byte_array, _ = adapter_outputs(adapter, IMAGES)
    assert adapter.position_projection is None
    assert byte_array.shape == (2, 48, 8 + 6)
    np.testing.assert_allclose(
        byte_array[0, :, 8:], to_numpy(adapter.position_embeddings)
    )


def test_checkpoint_byte_array():
    adapter = LearnedPositionImageAdapter()
    adapter.build((None, 224, 224, 3))
    assert tuple(adapter.position_embeddings.shape) == (224 * 224, 256)
    byte_array_shape, mask_shape = adapter.compute_output_shape(
        (None, 224, 224, 3)
    )
    assert byte_array_shape == (None, 224 * 224, 512)
    assert mask_shape is None


def test_perceiver_trains_on_learned_positions():
    model = adapter_perceiver(tiny_adapter())
    images = rng.uniform(size=(8, 6, 8, 3)).astype("float32")
    history = assert_fit_runs(model, images, np.arange(8) % 5, batch_size=4)
    assert len(history.history["loss"]) == 2
    assert model.encoder.byte_array_shape[1:] == (48, 12)


@pytest.mark.parametrize(
    "images_shape, match",
    [((2, 6, 8), "rank"), ((2, 1, 6, 8, 3), "rank")],
)
def test_bad_images_raise(images_shape, match):
    with pytest.raises(ValueError, match=match):
        tiny_adapter()(np.zeros(images_shape, "float32"))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_channels": 0}, "num_channels"),
        ({"position_channels": -1}, "position_channels"),
        ({"projected_position_channels": 2.5}, "projected_position_channels"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LearnedPositionImageAdapter(**kwargs)


def test_images_take_no_mask():
    adapter = tiny_adapter()
    with pytest.raises(ValueError, match="mask"):
        adapter(IMAGES, mask=np.ones((2, 6), bool))
    with pytest.raises(ValueError, match="mask"):
        adapter({"inputs": IMAGES, "mask": np.ones((2, 6), bool)})


def test_images_of_another_size_than_built_raise():
    adapter = tiny_adapter()
    adapter(IMAGES)
    with pytest.raises(ValueError, match="size the adapter was built"):
        adapter(IMAGES[:, :4])


def test_layer_checks(tmp_path):
    kwargs = {"num_channels": 8, "position_channels": 6,
              "projected_position_channels": 4}
    model, restored = run_adapter_test(
        LearnedPositionImageAdapter, kwargs, IMAGES, tmp_path,
        config_kwargs={**kwargs,
                       "position_initializer": keras.initializers.Zeros()},
        expected_output_shape=((2, 48, 8 + 4), None),
        mixed_precision="finite",
    )
    adapter = restored.input_adapter
    assert isinstance(adapter, LearnedPositionImageAdapter)
    assert tuple(adapter.position_embeddings.shape) == (48, 6)
    np.testing.assert_array_equal(
        to_numpy(adapter.position_embeddings),
        to_numpy(model.input_adapter.position_embeddings),
    )


def test_config_round_trip_without_position_projection():
    assert_config_round_trip(tiny_adapter(projected_position_channels=None))

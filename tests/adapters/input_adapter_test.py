"""What every input adapter tells export, plotting and fine-tuning.

`InputAdapter`'s public answers (`input_name`, `serving_dtype`,
`input_grid_shape`, `element_grid`, `inference_crop_shape`,
`serving_input_specs`) for each adapter, checked against what the adapter
does: the element grid against the number of byte-array elements, the
serving specs against the signature export writes.
"""

import math

import keras
import numpy as np
import pytest

from keras_perceiver import adapters
from keras_perceiver.export import saved_model
from keras_perceiver.adapters.input_adapter import serving_input_specs
from support import adapter_outputs, adapter_perceiver

# adapter, the input shape it is built with, then its answers:
# input_name, serving_dtype, input_grid_shape, element_grid,
# inference_crop_shape.
CASES = {
    "image": (
        lambda: adapters.ImageAdapter(num_bands=2),
        (None, 6, 4, 3),
        ("images", "float32", (6, 4), (6, 4), None),
    ),
    "cropped_patched_image": (
        lambda: adapters.ImageAdapter(num_bands=2, patch_size=2, crop_size=6),
        (None, 8, 10, 1),
        ("images", "float32", (8, 10), (3, 3), (6, 6)),
    ),
    "conv_stem_image": (
        lambda: adapters.ConvStemImageAdapter(num_filters=4, num_bands=2),
        (None, 32, 24, 3),
        ("images", "float32", (32, 24), (7, 5), None),
    ),
    "learned_position_image": (
        lambda: adapters.LearnedPositionImageAdapter(
            num_channels=4, position_channels=4,
            projected_position_channels=None),
        (None, 5, 6, 3),
        ("images", "float32", (5, 6), (5, 6), None),
    ),
    "audio": (
        lambda: adapters.AudioAdapter(patch_size=8, num_bands=2),
        (None, 64),
        ("waveforms", "float32", (64,), (8,), None),
    ),
    "spectrogram": (
        lambda: adapters.SpectrogramAdapter(patch_size=(2, 4), num_bands=2),
        (None, 8, 8, 2),
        ("spectrograms", "float32", (8, 8), (4, 2), None),
    ),
    "video": (
        lambda: adapters.VideoAdapter(patch_size=(2, 4, 4), num_bands=2),
        (None, 4, 8, 8, 3),
        ("videos", "float32", (4, 8, 8), (2, 2, 2), None),
    ),
    "sequence": (
        lambda: adapters.SequenceAdapter(patch_size=2, num_bands=2),
        (None, 6, 5),
        ("sequences", "float32", (6,), (3,), None),
    ),
    "points": (
        lambda: adapters.PointCloudAdapter(num_bands=2),
        (None, 30, 3),
        ("points", "float32", None, None, None),
    ),
    "text": (
        lambda: adapters.TextAdapter(max_length=8, embedding_dim=4),
        (None, 8),
        ("token_ids", "int32", None, None, None),
    ),
    "multimodal": (
        lambda: adapters.MultimodalAdapter({
            "image": adapters.ImageAdapter(num_bands=2),
            "audio": adapters.AudioAdapter(patch_size=8, num_bands=2),
        }),
        {"image": (None, 4, 4, 1),
         "audio": {"inputs": (None, 32), "mask": (None, 32)}},
        ("inputs", "float32", None, None, None),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_each_adapter_answers_for_its_inputs(case):
    make_adapter, input_shape, answers = CASES[case]
    name, dtype, input_grid, element_grid, crop = answers
    adapter = make_adapter()
    assert (adapter.input_grid_shape, adapter.element_grid) == (None, None)
    adapter.build(input_shape)
    assert adapter.input_name == name
    assert adapter.serving_dtype == dtype
    assert adapter.input_grid_shape == input_grid
    assert adapter.element_grid == element_grid
    assert adapter.inference_crop_shape == crop
    if element_grid is not None:  # one element per cell, in grid order
        byte_array_shape, _ = adapter.compute_output_shape(input_shape)
        assert byte_array_shape[1] == math.prod(element_grid)


@pytest.mark.parametrize("case", CASES)
def test_export_takes_the_adapters_serving_inputs(case):
    make_adapter, input_shape, (name, dtype, *_) = CASES[case]
    model = adapter_perceiver(make_adapter())
    model.build(input_shape)
    specs = described(saved_model.serving_input_specs(model))
    assert specs == described(
        model.input_adapter.serving_input_specs(input_shape))
    if not isinstance(input_shape, dict):
        assert specs == [(name, (None,) + input_shape[1:], dtype)]


def described(specs):
    return [(spec.name, spec.shape, spec.dtype)
            for spec in keras.tree.flatten(specs)]


def test_serving_inputs_of_dicts_are_named_after_their_keys():
    specs = adapters.MultimodalAdapter({
        "image": adapters.ImageAdapter(num_bands=2),
        "audio": adapters.AudioAdapter(patch_size=8, num_bands=2),
    }).serving_input_specs(CASES["multimodal"][1])
    assert described(specs) == [
        ("audio_inputs", (None, 32), "float32"),
        ("audio_mask", (None, 32), "bool"),
        ("image", (None, 4, 4, 1), "float32"),
    ]
    specs = adapters.TextAdapter().serving_input_specs(
        {"inputs": (2, 16), "mask": (2, 16)})
    assert (specs["inputs"].name, specs["inputs"].dtype) == ("inputs",
                                                              "int32")
    assert (specs["mask"].name, specs["mask"].dtype) == ("mask", "bool")


def test_serving_inputs_need_shapes():
    with pytest.raises(ValueError, match="Received: input_shape='x'"):
        serving_input_specs({"a": "x"})
    assert serving_input_specs((None, 3), name="b").name == "b"


def test_the_inference_crop_is_the_central_crop_the_adapter_takes():
    adapter = adapters.ImageAdapter(num_bands=2, crop_size=(2, 3))
    images = np.arange(2 * 4 * 5, dtype="float32").reshape(2, 4, 5, 1)
    byte_array, _ = adapter_outputs(adapter, images, training=False)
    height, width = adapter.inference_crop_shape
    top, left = (4 - height) // 2, (5 - width) // 2
    central = images[:, top:top + height, left:left + width, 0]
    np.testing.assert_array_equal(byte_array[..., 0],
                                  central.reshape(2, -1))


def test_a_loaded_adapter_answers_as_it_was_built(tmp_path):
    model = adapter_perceiver(
        adapters.ImageAdapter(num_bands=2, patch_size=2))
    model.build((None, 6, 4, 1))
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.input_adapter.input_grid_shape == (6, 4)
    assert loaded.input_adapter.element_grid == (3, 2)

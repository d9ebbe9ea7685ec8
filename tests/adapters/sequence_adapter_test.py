import keras
import numpy as np
import pytest

from keras_perceiver.adapters import SequenceAdapter
from keras_perceiver.layers import FourierPositionEncoding
from layer_harness import run_adapter_test
from support import (
    adapter_outputs,
    adapter_perceiver,
    pad_along_first_axis,
    to_numpy,
)

rng = np.random.default_rng(0)
# Skeletons: 2 joints x 3 coordinates per step.
SEQUENCES = [
    rng.normal(size=(steps, 6)).astype("float32") for steps in (10, 7)
]
PADDED, MASK = pad_along_first_axis(SEQUENCES, 10)


def test_steps_then_time_positions():
    byte_array, mask = adapter_outputs(SequenceAdapter(num_bands=4), PADDED)
    assert mask is None
    # 6 features + (2 * 4 + 1) position channels per step.
    assert byte_array.shape == (2, 10, 15)
    np.testing.assert_allclose(byte_array[..., :6], PADDED)
    encoding = FourierPositionEncoding(num_bands=4)
    np.testing.assert_allclose(
        byte_array[1, :, 6:], to_numpy(encoding.grid_features((10,))),
        atol=1e-6,
    )


def test_patches_of_steps():
    byte_array, mask = adapter_outputs(
        SequenceAdapter(patch_size=2, num_bands=4), PADDED, mask=MASK
    )
    assert byte_array.shape == (2, 5, 12 + 9)
    np.testing.assert_allclose(byte_array[0, :, :12], PADDED[0].reshape(5, 12))
    # The odd-length sequence keeps its last, half-real patch.
    np.testing.assert_array_equal(mask[1], [True] * 4 + [False])


@pytest.mark.parametrize("mask_as", ["dict", "argument", "keras_masking"])
def test_padded_and_masked_sequences_equal_the_unpadded_sequences(mask_as):
    model = adapter_perceiver(SequenceAdapter(num_bands=4))
    if mask_as == "dict":
        result = model({"inputs": PADDED, "mask": MASK})
    elif mask_as == "argument":
        result = model(PADDED, mask=MASK)
    else:
        # Zero padding marked by keras.layers.Masking, in a functional model.
        inputs = keras.Input((10, 6))
        masked = keras.layers.Masking(mask_value=0.0)(inputs)
        result = keras.Model(inputs, model(masked))(PADDED)
    expected = np.concatenate(
        [to_numpy(model(sequence[None])) for sequence in SEQUENCES]
    )
    np.testing.assert_allclose(to_numpy(result), expected, atol=1e-5)


@pytest.mark.parametrize(
    "inputs, match",
    [
        (np.zeros((3, 10), "float32"), "rank"),
        (np.zeros((3, 10, 2, 3), "float32"), "rank"),
        ({"inputs": PADDED, "mask": MASK[:, :9]}, "mask"),
        ({"inputs": PADDED, "mask": MASK[:, :, None]}, "mask"),
        ({"inputs": PADDED, "lengths": MASK}, "inputs"),
    ],
)
def test_bad_sequences_raise(inputs, match):
    with pytest.raises(ValueError, match=match):
        SequenceAdapter(num_bands=4)(inputs)


def test_patch_size_that_does_not_divide_the_length_raises():
    with pytest.raises(ValueError, match="patch_size"):
        SequenceAdapter(patch_size=3)(PADDED)


def test_more_features_than_built_raise():
    adapter = SequenceAdapter(num_bands=4)
    adapter(PADDED)
    with pytest.raises(ValueError, match="sequences"):
        adapter(np.zeros((3, 10, 7), "float32"))


def test_layer_checks(tmp_path):
    run_adapter_test(
        SequenceAdapter, {"num_bands": 4}, {"inputs": PADDED, "mask": MASK},
        tmp_path,
        config_kwargs=dict(patch_size=2, num_bands=6, max_resolution=64,
                           concat_pos=False),
        expected_output_shape=((2, 10, 15), (2, 10)),
    )

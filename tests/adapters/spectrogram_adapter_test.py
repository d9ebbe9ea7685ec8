import numpy as np
import pytest

from keras_perceiver.adapters import SpectrogramAdapter
from keras_perceiver.layers import FourierPositionEncoding
from layer_harness import run_adapter_test
from support import (
    adapter_outputs,
    adapter_perceiver,
    pad_along_first_axis,
    to_numpy,
)

rng = np.random.default_rng(0)
SPECTROGRAMS = [
    rng.normal(size=(frames, 8)).astype("float32") for frames in (10, 4)
]
PADDED, MASK = pad_along_first_axis(SPECTROGRAMS, 10, value=-30.0)


def grid_features(index_shape, num_bands=4):
    encoding = FourierPositionEncoding(num_bands=num_bands)
    return to_numpy(encoding.grid_features(index_shape))


def test_bins_then_time_frequency_positions():
    spectrograms = rng.normal(size=(2, 6, 8)).astype("float32")
    byte_array, mask = adapter_outputs(
        SpectrogramAdapter(num_bands=4), spectrograms
    )
    assert mask is None
    # 1 value + 2 * (2 * 4 + 1) position channels per bin.
    assert byte_array.shape == (2, 48, 19)
    np.testing.assert_allclose(byte_array[..., 0], spectrograms.reshape(2, 48))
    np.testing.assert_allclose(byte_array[0, :, 1:], grid_features((6, 8)),
                               atol=1e-6)


def test_patches_of_bins_with_channels():
    spectrograms = rng.normal(size=(2, 6, 8, 2)).astype("float32")
    byte_array, _ = adapter_outputs(
        SpectrogramAdapter(patch_size=(2, 4), num_bands=4), spectrograms
    )
    assert byte_array.shape == (2, 3 * 2, 2 * 4 * 2 + 18)
    expected = spectrograms.reshape(2, 3, 2, 2, 4, 2)
    expected = expected.transpose(0, 1, 3, 2, 4, 5).reshape(2, 6, 16)
    np.testing.assert_allclose(byte_array[..., :16], expected)
    np.testing.assert_allclose(byte_array[0, :, 16:], grid_features((3, 2)),
                               atol=1e-6)


def test_padded_and_masked_frames_equal_the_unpadded_spectrograms():
    model = adapter_perceiver(SpectrogramAdapter(patch_size=2, num_bands=4))
    padded = to_numpy(model({"inputs": PADDED, "mask": MASK}))
    unpadded = np.concatenate(
        [to_numpy(model(spectrogram[None])) for spectrogram in SPECTROGRAMS]
    )
    np.testing.assert_allclose(padded, unpadded, atol=1e-5)


def test_frame_mask_becomes_a_patch_mask():
    _, mask = adapter_outputs(
        SpectrogramAdapter(patch_size=(2, 4), num_bands=4),
        {"inputs": PADDED, "mask": MASK},
    )
    # 5 time patches x 2 frequency patches, time-major.
    assert mask.shape == (2, 10)
    np.testing.assert_array_equal(mask[1], [True] * 4 + [False] * 6)


@pytest.mark.parametrize(
    "inputs, match",
    [
        (np.zeros((2, 10), "float32"), "rank"),
        (np.zeros((2, 10, 8, 1, 1), "float32"), "rank"),
        (np.zeros((2, 10, 6), "float32"), "patch_size"),
        (np.zeros((2, 9, 8), "float32"), "patch_size"),
        ({"inputs": PADDED, "mask": MASK[:1]}, "mask"),
        ({"inputs": PADDED, "mask": np.ones((3, 10, 8), bool)}, "mask"),
    ],
)
def test_bad_spectrograms_raise(inputs, match):
    with pytest.raises(ValueError, match=match):
        SpectrogramAdapter(patch_size=(2, 4), num_bands=4)(inputs)


def test_shorter_spectrograms_than_built_use_the_first_positions():
    adapter = SpectrogramAdapter(patch_size=(2, 4), num_bands=4)
    full, _ = adapter_outputs(adapter, PADDED)
    shorter, _ = adapter_outputs(adapter, PADDED[:, :6])
    assert shorter.shape == (2, 3 * 2, 8 + 18)
    np.testing.assert_allclose(shorter[..., 8:], full[:, :6, 8:])
    with pytest.raises(ValueError, match="patch_size"):
        adapter(PADDED[:, :7])


def test_a_frequency_axis_other_than_built_raises():
    adapter = SpectrogramAdapter(num_bands=4)
    adapter(PADDED)
    with pytest.raises(ValueError, match="spectrograms"):
        adapter(np.zeros((3, 10, 6), "float32"))


def test_layer_checks(tmp_path):
    run_adapter_test(
        SpectrogramAdapter, {"patch_size": 2, "num_bands": 4},
        {"inputs": PADDED, "mask": MASK}, tmp_path,
        config_kwargs=dict(patch_size=(4, 2), num_bands=6,
                           max_resolution=(20, 32)),
        expected_output_shape=((2, 20, 4 + 18), (2, 20)),
    )

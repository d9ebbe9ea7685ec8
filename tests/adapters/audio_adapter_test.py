import numpy as np
import pytest

from keras_perceiver.adapters import AudioAdapter
from keras_perceiver.layers import FourierPositionEncoding
from layer_harness import run_adapter_test
from support import (
    adapter_outputs,
    adapter_perceiver,
    pad_along_first_axis,
    to_numpy,
)

rng = np.random.default_rng(0)
CLIPS = [rng.normal(size=(length,)).astype("float32") for length in (40, 12)]
PADDED, MASK = pad_along_first_axis(CLIPS, 40, value=50.0)


def time_features(num_patches, num_bands=4):
    encoding = FourierPositionEncoding(num_bands=num_bands)
    return to_numpy(encoding.grid_features((num_patches,)))


def test_mono_waveforms_become_patches_of_samples():
    waveforms = rng.normal(size=(2, 64)).astype("float32")
    byte_array, mask = adapter_outputs(
        AudioAdapter(patch_size=8, num_bands=4), waveforms
    )
    assert mask is None
    # 8 samples + (2 * 4 + 1) position channels.
    assert byte_array.shape == (2, 8, 17)
    np.testing.assert_allclose(byte_array[..., :8], waveforms.reshape(2, 8, 8))
    np.testing.assert_allclose(byte_array[1, :, 8:], time_features(8),
                               atol=1e-6)


def test_multichannel_waveforms_are_flattened_time_major():
    waveforms = rng.normal(size=(2, 64, 2)).astype("float32")
    byte_array, _ = adapter_outputs(
        AudioAdapter(patch_size=8, num_bands=4), waveforms
    )
    assert byte_array.shape == (2, 8, 16 + 9)
    np.testing.assert_allclose(
        byte_array[..., :16], waveforms.reshape(2, 8, 16)
    )


def test_paper_default_patch_of_128_samples():
    adapter = AudioAdapter()
    assert adapter.patch_size == 128
    adapter.build((None, 48000))
    byte_array_shape, _ = adapter.compute_output_shape((None, 48000))
    assert byte_array_shape == (None, 375, 128 + 2 * 64 + 1)


@pytest.mark.parametrize("as_dict", [False, True])
def test_padded_and_masked_clips_equal_the_unpadded_clips(as_dict):
    model = adapter_perceiver(AudioAdapter(patch_size=4, num_bands=4))
    if as_dict:
        padded = to_numpy(model({"inputs": PADDED, "mask": MASK}))
    else:
        padded = to_numpy(model(PADDED, mask=MASK))
    unpadded = np.concatenate([to_numpy(model(clip[None])) for clip in CLIPS])
    np.testing.assert_allclose(padded, unpadded, atol=1e-5)


def test_padding_inside_a_real_patch_counts_as_zeros():
    adapter = AudioAdapter(patch_size=4, num_bands=4)
    waveforms = rng.normal(size=(1, 16)).astype("float32")
    mask = np.arange(16)[None] < 10
    byte_array, patch_mask = adapter_outputs(
        adapter, {"inputs": waveforms, "mask": mask}
    )
    np.testing.assert_array_equal(patch_mask, [[True, True, True, False]])
    zero_padded = np.where(mask, waveforms, 0.0)
    np.testing.assert_allclose(
        byte_array[0, :3, :4], zero_padded.reshape(4, 4)[:3]
    )


@pytest.mark.parametrize(
    "inputs, match",
    [
        (np.zeros((3, 40, 1, 1), "float32"), "rank"),
        (np.zeros((3,), "float32"), "rank"),
        (np.zeros((3, 30), "float32"), "patch_size"),
        ({"inputs": PADDED, "mask": MASK[:, :39]}, "mask"),
        ({"inputs": PADDED, "mask": MASK[..., None]}, "mask"),
        ({"waveforms": PADDED}, "inputs"),
    ],
)
def test_bad_waveforms_raise(inputs, match):
    with pytest.raises(ValueError, match=match):
        AudioAdapter(patch_size=4, num_bands=4)(inputs)


def test_mask_given_twice_raises():
    with pytest.raises(ValueError, match="mask"):
        AudioAdapter(patch_size=4)({"inputs": PADDED, "mask": MASK},
                                   mask=MASK)


def test_clips_longer_than_built_or_not_a_multiple_of_the_patch_raise():
    adapter = AudioAdapter(patch_size=4, num_bands=4)
    adapter(PADDED)
    with pytest.raises(ValueError, match="waveforms"):
        adapter(np.zeros((1, 44), "float32"))
    with pytest.raises(ValueError, match="patch_size"):
        adapter(np.zeros((1, 38), "float32"))


def test_layer_checks(tmp_path):
    # Trains on the padded clips with their mask.
    run_adapter_test(
        AudioAdapter, {"patch_size": 4, "num_bands": 4},
        {"inputs": PADDED, "mask": MASK}, tmp_path,
        config_kwargs=dict(patch_size=16, num_bands=5, max_resolution=300,
                           sine_only=True),
        expected_output_shape=((2, 10, 4 + 9), (2, 10)),
    )

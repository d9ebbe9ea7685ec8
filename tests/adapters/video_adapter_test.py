import numpy as np
import pytest

from keras_perceiver.adapters import VideoAdapter
from keras_perceiver.layers import FourierPositionEncoding
from layer_harness import run_adapter_test
from support import (
    adapter_outputs,
    adapter_perceiver,
    pad_along_first_axis,
    to_numpy,
)

rng = np.random.default_rng(0)
VIDEOS = rng.uniform(size=(2, 4, 8, 8, 3)).astype("float32")
PATCH = (2, 4, 4)


def grid_features(index_shape, num_bands=4):
    encoding = FourierPositionEncoding(num_bands=num_bands)
    return to_numpy(encoding.grid_features(index_shape))


def reference_patches(videos, patch):
    batch, frames, height, width, channels = videos.shape
    t, h, w = patch
    split = videos.reshape(
        batch, frames // t, t, height // h, h, width // w, w, channels
    )
    split = split.transpose(0, 1, 3, 5, 2, 4, 6, 7)
    return split.reshape(batch, -1, t * h * w * channels)


def test_paper_default_patches_of_2_by_8_by_8():
    adapter = VideoAdapter()
    assert adapter.patch_size == (2, 8, 8)
    adapter.build((None, 16, 224, 224, 3))
    byte_array_shape, _ = adapter.compute_output_shape((None, 16, 224, 224, 3))
    # 8 x 28 x 28 patches of 2 * 8 * 8 * 3 values + 3 * (2 * 64 + 1).
    assert byte_array_shape == (None, 8 * 28 * 28, 384 + 387)


def test_3d_patches_then_3d_positions():
    byte_array, mask = adapter_outputs(
        VideoAdapter(patch_size=PATCH, num_bands=4), VIDEOS
    )
    assert mask is None
    assert byte_array.shape == (2, 2 * 2 * 2, 2 * 4 * 4 * 3 + 3 * 9)
    np.testing.assert_allclose(
        byte_array[..., :96], reference_patches(VIDEOS, PATCH)
    )
    np.testing.assert_allclose(
        byte_array[1, :, 96:], grid_features((2, 2, 2)), atol=1e-6
    )


def test_padded_and_masked_frames_equal_the_unpadded_videos():
    videos = [VIDEOS[0], VIDEOS[1, :2]]
    padded, mask = pad_along_first_axis(videos, 4, value=9.0)
    model = adapter_perceiver(VideoAdapter(patch_size=PATCH, num_bands=4))
    result = to_numpy(model({"inputs": padded, "mask": mask}))
    expected = np.concatenate(
        [to_numpy(model(video[None])) for video in videos]
    )
    np.testing.assert_allclose(result, expected, atol=1e-5)


@pytest.mark.parametrize(
    "inputs, match",
    [
        (np.zeros((2, 4, 8, 8), "float32"), "rank"),
        (np.zeros((2, 4, 8, 6, 3), "float32"), "patch_size"),
        (np.zeros((2, 3, 8, 8, 3), "float32"), "patch_size"),
        ({"inputs": VIDEOS, "mask": np.ones((2, 8), bool)}, "mask"),
        ({"inputs": VIDEOS, "mask": np.ones((2, 4, 8), bool)}, "mask"),
    ],
)
def test_bad_videos_raise(inputs, match):
    with pytest.raises(ValueError, match=match):
        VideoAdapter(patch_size=PATCH, num_bands=4)(inputs)


@pytest.mark.parametrize(
    "kwargs", [{"patch_size": (2, 8)}, {"patch_size": (2, 0, 8)}]
)
def test_bad_patch_size_raises(kwargs):
    with pytest.raises(ValueError, match="patch_size"):
        VideoAdapter(**kwargs)


def test_layer_checks(tmp_path):
    run_adapter_test(
        VideoAdapter, {"patch_size": PATCH, "num_bands": 4}, VIDEOS, tmp_path,
        config_kwargs=dict(patch_size=(1, 4, 4), num_bands=6,
                           max_resolution=(8, 16, 16)),
        expected_output_shape=((2, 8, 96 + 27), None),
    )

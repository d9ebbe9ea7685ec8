"""Audio-visual digits: each frame is the digit moved by its recorded shift,
the same for the same seed; the audio is the paired recording, averaged
down to a fixed length and scaled to a peak of 1."""

import types

import numpy as np
import pytest

from bad_input import assert_value_error
from keras_perceiver.datasets import audio_visual_digits
from keras_perceiver.datasets import moving_digit_videos

pytestmark = pytest.mark.backend_independent


def dot_images(count, side=12):
    """Images with one bright pixel, at (row 5, column 6)."""
    images = np.zeros((count, side, side), "uint8")
    images[:, 5, 6] = 255
    return images


def test_each_frame_is_the_image_moved_by_its_shift():
    videos, shifts = moving_digit_videos(dot_images(3), num_frames=5,
                                         max_shift=3, seed=1)
    assert videos.shape == (3, 5, 12, 12, 1) and videos.dtype == np.float32
    assert shifts.shape == (3, 5, 2) and np.abs(shifts).max() <= 3
    for example in range(3):
        for frame in range(5):
            (row, column), = np.argwhere(videos[example, frame, ..., 0])
            assert (row - 5, column - 6) == tuple(shifts[example, frame])
            assert videos[example, frame].max() == 1.0


def test_the_same_seed_gives_the_same_videos():
    first = moving_digit_videos(dot_images(4), 3, seed=7)
    again = moving_digit_videos(dot_images(4), 3, seed=7)
    other = moving_digit_videos(dot_images(4), 3, seed=8)
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(first[1], other[1])


def fake_pairs(data_dir, seed):
    """`load_mnist_fsdd`'s pairs for 2 training and 1 test example: a
    recording of 8192 samples whose second half is padding."""
    def split(count):
        audio = np.tile(np.linspace(-0.5, 0.25, 8192, dtype="float32"),
                        (count, 1))
        mask = np.zeros((count, 8192), bool)
        mask[:, :4096] = True
        return {"image": dot_images(count, 28)[..., None],
                "audio": {"inputs": audio + 9.0 * ~mask, "mask": mask}}
    return types.SimpleNamespace(x_train=split(2), y_train=np.array([3, 4]),
                                 x_test=split(1), y_test=np.array([5]))


def test_audio_is_averaged_to_the_frames_and_scaled(monkeypatch):
    monkeypatch.setattr(audio_visual_digits, "load_mnist_fsdd", fake_pairs)
    data = audio_visual_digits.load_audio_visual_digits(
        num_frames=2, audio_samples_per_frame=64)
    train = data["train"]
    assert train["video"].shape == (2, 2, 28, 28, 1)
    assert train["audio"].shape == (2, 128)
    np.testing.assert_array_equal(train["label"], [3, 4])
    # Means of blocks of 64 samples, the padding (masked) silent, scaled so
    # that the loudest (the first) is -1.
    blocks = np.linspace(-0.5, 0.25, 8192)[:4096].reshape(64, 64).mean(-1)
    expected = np.concatenate([blocks / -blocks[0], np.zeros(64)])
    np.testing.assert_allclose(train["audio"], [expected] * 2, atol=1e-6)
    assert data["test"]["video"].shape == (1, 2, 28, 28, 1)


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: moving_digit_videos(dot_images(1), 2, max_shift=12),
         "max_shift"),
        (lambda: moving_digit_videos(np.zeros((2, 3)), 2), "images"),
        (lambda: audio_visual_digits.load_audio_visual_digits(
            num_frames=3, audio_samples_per_frame=100), "divide"),
    ],
    ids=["shift_as_large_as_the_image", "not_images", "audio_length"],
)
def test_bad_arguments_are_refused(call, fragment):
    assert_value_error(call, fragment, "Received")

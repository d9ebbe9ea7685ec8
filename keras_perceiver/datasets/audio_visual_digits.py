"""Audio-visual digits: moving MNIST digits with a spoken digit's audio.

The multimodal autoencoding task on real data small enough for a CPU: a
short video of a handwritten digit moving across a few frames, paired with
a Free Spoken Digit recording of the same digit, and the digit's label.
"""

import numpy as np

from keras_perceiver import argument_checks
from keras_perceiver.datasets.mnist_fsdd import load_mnist_fsdd

# The samples `load_fsdd` gives each recording (1.02 s at 8 kHz).
FSDD_SAMPLES = 8192


def moving_digit_videos(images, num_frames, max_shift=4, seed=0):
    """Videos of still images moved by a known random translation per frame.

    Frame `t` of a video is its image shifted by a whole number of pixels
    `(dy_t, dx_t)`, each drawn uniformly from `[-max_shift, max_shift]`,
    with zeros where the image left the frame. The same `images`,
    `num_frames`, `max_shift` and `seed` always give the same videos.

    Args:
        images: array `(n, H, W)` or `(n, H, W, C)`: uint8 (read as
            [0, 1]) or float.
        num_frames: int. Frames per video.
        max_shift: int. Largest shift along each axis, in pixels. Defaults
            to 4.
        seed: int. Seed of the shifts. Defaults to 0.

    Returns:
        A tuple `(videos, shifts)`: float32 videos `(n, num_frames, H, W,
        C)` and the int shifts `(n, num_frames, 2)`, (down, right) in
        pixels.

    Example:

    >>> digits = np.zeros((2, 28, 28), "uint8")
    >>> videos, shifts = moving_digit_videos(digits, num_frames=4)
    >>> videos.shape, shifts.shape
    ((2, 4, 28, 28, 1), (2, 4, 2))
    """
    num_frames = argument_checks.check_positive_int("num_frames", num_frames)
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(
            "`images` must have shape (n, H, W) or (n, H, W, C). "
            f"Received: images.shape={images.shape}"
        )
    height, width = images.shape[1:3]
    if not isinstance(max_shift, int) or not 0 <= max_shift < min(
        height, width
    ):
        raise ValueError(
            "`max_shift` must be a whole number of pixels, at least 0 and "
            f"less than the image side ({min(height, width)}). "
            f"Received: max_shift={max_shift!r}"
        )
    if images.dtype == np.uint8:
        images = images / 255.0
    images = images.astype("float32")
    rng = np.random.default_rng(seed)
    shifts = rng.integers(
        -max_shift, max_shift + 1, size=(len(images), num_frames, 2)
    )
    padded = np.pad(images, [(0, 0), (max_shift, max_shift),
                             (max_shift, max_shift), (0, 0)])
    videos = np.empty((len(images), num_frames) + images.shape[1:],
                      "float32")
    for example in range(len(images)):
        for frame in range(num_frames):
            down, right = shifts[example, frame]
            top, left = max_shift - down, max_shift - right
            videos[example, frame] = padded[
                example, top:top + height, left:left + width
            ]
    return videos, shifts


def load_audio_visual_digits(data_dir=None, num_frames=4,
                             audio_samples_per_frame=512, max_shift=4,
                             seed=0):
    """Moving MNIST digits, each with a spoken recording of the same digit.

    The pairs of `load_mnist_fsdd` (every Free Spoken Digit recording with
    an MNIST image of its digit: 2,700 training and 300 test pairs): the
    image becomes a video of `num_frames` frames by `moving_digit_videos`,
    and the recording's first 8,192 samples (1.02 s at 8 kHz, zero-padded)
    are averaged over blocks to `num_frames * audio_samples_per_frame`
    samples (2,048 by default: 2 kHz), which must divide 8,192, and scaled
    to a peak of 1.

    Args:
        data_dir: str or None. A folder holding `mnist/mnist.npz` and
            `fsdd/recordings/*.wav` (such as `../shared/data`). None uses
            each data set's public source.
        num_frames: int. Frames per video. Defaults to 4.
        audio_samples_per_frame: int. Audio samples per frame. Defaults to
            512.
        max_shift: int. Largest shift of a frame, in pixels. Defaults to 4.
        seed: int. Seed of the pairing and of the shifts. Defaults to 0.

    Returns:
        A dict with `"train"` and `"test"`, each a dict of arrays: `"video"`
        float32 `(n, num_frames, 28, 28, 1)` in [0, 1], `"audio"` float32
        `(n, num_frames * audio_samples_per_frame)` in [-1, 1], `"label"`
        int `(n,)`
        and `"shifts"` int `(n, num_frames, 2)`.

    Example:

    >>> data = load_audio_visual_digits("../shared/data")
    >>> data["train"]["video"].shape, data["train"]["audio"].shape
    ((2700, 4, 28, 28, 1), (2700, 2048))
    """
    num_samples = num_frames * argument_checks.check_positive_int(
        "audio_samples_per_frame", audio_samples_per_frame
    )
    if FSDD_SAMPLES % num_samples:
        raise ValueError(
            "`num_frames * audio_samples_per_frame` must divide the "
            f"{FSDD_SAMPLES} samples of a recording. "
            f"Received: {num_frames} x {audio_samples_per_frame} = "
            f"{num_samples}"
        )
    pairs = load_mnist_fsdd(data_dir, seed=seed)
    splits = {}
    for split, inputs, labels in (
        ("train", pairs.x_train, pairs.y_train),
        ("test", pairs.x_test, pairs.y_test),
    ):
        videos, shifts = moving_digit_videos(
            inputs["image"][..., 0], num_frames, max_shift,
            seed=seed + (split == "test"),
        )
        waveforms = inputs["audio"]["inputs"] * inputs["audio"]["mask"]
        audio = waveforms.reshape(len(labels), num_samples, -1).mean(axis=-1)
        audio /= np.maximum(np.abs(audio).max(axis=1, keepdims=True), 1e-6)
        splits[split] = {"video": videos, "audio": audio.astype("float32"),
                         "label": labels, "shifts": shifts}
    return splits

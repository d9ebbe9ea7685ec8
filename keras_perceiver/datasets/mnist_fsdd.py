import pathlib

import numpy as np

from keras_perceiver.datasets.dataset import Dataset
from keras_perceiver.datasets.fsdd import load_fsdd
from keras_perceiver.datasets.mnist import load_mnist


def load_mnist_fsdd(data_dir=None, seed=0, audio_features="waveform"):
    """Spoken digits paired with handwritten digits: a two-modality task.

    Every Free Spoken Digit recording is paired with an MNIST image of the
    same digit, drawn at random (with `seed`) from the same split: 2,700
    training and 300 test pairs. The inputs are the dict
    `{"image": (n, 28, 28, 1), "audio": {"inputs": (n, 8192),
    "mask": (n, 8192)}}` that a `MultimodalAdapter` with an `"image"` and an
    `"audio"` modality takes; with `audio_features="log_mel"` the audio is
    log-mel spectrograms `{"inputs": (n, 128, 64), "mask": (n, 128)}`
    (see `load_fsdd`).

    Args:
        data_dir: str or None. A folder holding `mnist/mnist.npz` and
            `fsdd/recordings/*.wav` (such as `../shared/data`). None uses
            each data set's public source.
        seed: int. Seed of the pairing. Defaults to 0.
        audio_features: str. "waveform" or "log_mel", as in `load_fsdd`.
            Defaults to "waveform".

    Returns:
        A `Dataset` with modality "multimodal"; its `modalities` say which
        kind of audio it holds.

    Example:

    >>> data = load_mnist_fsdd("../shared/data")
    >>> model = keras_perceiver.models.perceiver_for_dataset(data)
    >>> model.fit(**data.fit_data(batch_size=32, validation_split=0.1))
    """
    folder = None if data_dir is None else pathlib.Path(data_dir)
    mnist = load_mnist(None if folder is None else folder / "mnist")
    fsdd = load_fsdd(None if folder is None else folder / "fsdd",
                     audio_features=audio_features)
    rng = np.random.default_rng(seed)
    x_train = _pair(fsdd.x_train, fsdd.y_train, mnist.x_train,
                    mnist.y_train, rng)
    x_test = _pair(fsdd.x_test, fsdd.y_test, mnist.x_test, mnist.y_test, rng)
    return Dataset(
        name="mnist_fsdd",
        x_train=x_train,
        y_train=fsdd.y_train,
        x_test=x_test,
        y_test=fsdd.y_test,
        class_names=fsdd.class_names,
        modality="multimodal",
        modalities={"image": "image", "audio": fsdd.modality},
    )


def _pair(audio, audio_labels, images, image_labels, rng):
    chosen = [
        rng.choice(np.flatnonzero(image_labels == label))
        for label in audio_labels
    ]
    return {"image": images[chosen], "audio": audio}

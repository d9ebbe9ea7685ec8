import pathlib
import re
import wave

import numpy as np

from keras_perceiver.datasets.dataset import Dataset
from keras_perceiver.datasets.log_mel import log_mel_spectrograms

FILE_NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")
SAMPLE_RATE = 8000
AUDIO_FEATURES = ("waveform", "log_mel")


def load_fsdd(data_dir=None, max_samples=8192, audio_features="waveform"):
    """The Free Spoken Digit Dataset: 8 kHz recordings of spoken digits.

    Waveforms are scaled to [-1, 1], cut or zero-padded to `max_samples`
    samples and returned with a mask over the real samples, as the dict
    `{"inputs": (n, max_samples), "mask": (n, max_samples)}` that
    `keras_perceiver.adapters.AudioAdapter` takes. With
    `audio_features="log_mel"` the inputs are log-mel spectrograms instead
    (`log_mel_spectrograms`: 64 mel bands every 8 ms, so `(n, 128, 64)`
    with a `(n, 128)` frame mask), what `SpectrogramAdapter` takes. The
    official split puts recordings with index 0-4 in the test set (300) and
    the rest in the training set (2,700).

    Args:
        data_dir: str or None. A folder of `{digit}_{speaker}_{index}.wav`
            files (or one holding them in `recordings/`). None reads
            tensorflow-datasets' `spoken_digit`.
        max_samples: int. Length clips are cut or padded to (8,192 samples
            is 1.02 s, longer than 99 % of the recordings). Defaults to 8192.
        audio_features: str. "waveform" (raw samples) or "log_mel" (log-mel
            spectrograms). Defaults to "waveform".

    Returns:
        A `Dataset` with modality "audio" (waveforms) or "spectrogram".

    Example:

    >>> data = load_fsdd("../shared/data/fsdd", audio_features="log_mel")
    >>> model = keras_perceiver.models.perceiver_for_dataset(data)
    >>> model.fit(**data.fit_data(batch_size=32, validation_split=0.1))
    """
    if audio_features not in AUDIO_FEATURES:
        raise ValueError(
            f"`audio_features` must be one of {AUDIO_FEATURES}. "
            f"Received: audio_features={audio_features!r}"
        )
    if data_dir is None:
        recordings = _read_tfds()
    else:
        recordings = _read_folder(data_dir)
    is_test = np.array([index < 5 for _, _, index, _ in recordings])
    labels = np.array([digit for digit, *_ in recordings], "int64")
    inputs, mask = _pad([samples for *_, samples in recordings],
                        max_samples)
    modality = "audio"
    if audio_features == "log_mel":
        inputs, mask = log_mel_spectrograms(inputs, mask, SAMPLE_RATE)
        modality = "spectrogram"
    return Dataset(
        name="fsdd",
        x_train={"inputs": inputs[~is_test], "mask": mask[~is_test]},
        y_train=labels[~is_test],
        x_test={"inputs": inputs[is_test], "mask": mask[is_test]},
        y_test=labels[is_test],
        class_names=[str(digit) for digit in range(10)],
        modality=modality,
    )


def _read_folder(data_dir):
    folder = pathlib.Path(data_dir)
    if (folder / "recordings").is_dir():
        folder = folder / "recordings"
    if not folder.is_dir():
        raise ValueError(
            "The FSDD data directory does not exist. "
            f"Received: data_dir={str(data_dir)!r}"
        )
    recordings = []
    for path in sorted(folder.glob("*.wav")):
        match = FILE_NAME.match(path.name)
        if match is None:
            continue
        digit, speaker, index = match.groups()
        recordings.append(
            (int(digit), speaker, int(index), read_wav(path))
        )
    if not recordings:
        raise ValueError(
            "The FSDD data directory must contain "
            "{digit}_{speaker}_{index}.wav files. "
            f"Received: data_dir={str(data_dir)!r}"
        )
    return recordings


def read_wav(path):
    """Reads a mono 16-bit PCM WAV file as float32 samples in [-1, 1]."""
    try:
        with wave.open(str(path)) as file:
            if file.getsampwidth() != 2 or file.getnchannels() != 1:
                raise ValueError("expected mono 16-bit PCM")
            frames = file.readframes(file.getnframes())
    except (wave.Error, EOFError, ValueError) as error:
        raise ValueError(
            f"{path} is not a mono 16-bit PCM WAV file ({error}). "
            f"Received: {path}"
        ) from None
    return np.frombuffer(frames, "<i2").astype("float32") / 32768.0


def _read_tfds():
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise ValueError(
            "Loading FSDD without a data directory needs tensorflow-datasets "
            "(pip install tensorflow-datasets); or pass a folder of .wav "
            "files. Received: data_dir=None"
        ) from None
    recordings = []
    for example in tfds.as_numpy(tfds.load("spoken_digit", split="train")):
        name = example["audio/filename"].decode().rsplit("/", 1)[-1]
        digit, speaker, index = FILE_NAME.match(name).groups()
        samples = example["audio"].astype("float32") / 32768.0
        recordings.append((int(digit), speaker, int(index), samples))
    return recordings


def _pad(clips, length):
    waveforms = np.zeros((len(clips), length), "float32")
    mask = np.zeros((len(clips), length), bool)
    for row, clip in enumerate(clips):
        clip = clip[:length]
        waveforms[row, : len(clip)] = clip
        mask[row, : len(clip)] = True
    return waveforms, mask

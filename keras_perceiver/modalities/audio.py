"""Audio: waveforms, read from 16-bit PCM WAV files.

WAV files (one sample rate) become waveforms in [-1, 1], or log-mel
spectrograms (`audio_features="log_mel"`, inputs of the "spectrogram"
modality), cut or padded to one length with a mask. The adapter is an
`AudioAdapter` with the paper's patches of 128 samples; attention is drawn
over the patch index.
"""

import wave

import keras
import numpy as np

from keras_perceiver import adapters, argument_checks
from keras_perceiver.modalities import attention_drawing, inputs
from keras_perceiver.modalities.modality import Modality
from keras_perceiver.modalities.registry import register

AUDIO_FEATURES = ("waveform", "log_mel")
LOG_MEL_FRAME_STEP = 64  # samples between log-mel frames (8 ms at 8 kHz)
LOG_MEL_BANDS = 64
# Log-mel frames per spectrogram patch: clips read as log-mel spectrograms
# are cut or padded to whole patches.
LOG_MEL_FRAMES_PER_PATCH = 4
LOG_OFFSET = 1e-6  # keeps the log finite on silent frames
VARIANCE_EPSILON = 1e-6  # keeps the scaling finite on constant clips
PCM_SCALE = 32768.0  # 16-bit samples to [-1, 1]


def log_mel_spectrograms(waveforms, mask, sample_rate, frame_length=256,
                         frame_step=LOG_MEL_FRAME_STEP,
                         num_mel_bins=LOG_MEL_BANDS):
    """Log-mel spectrograms of zero-padded waveforms, masked over frames.

    Uses `keras.layers.MelSpectrogram` (Hann window, power spectrum, frames
    centred on every `frame_step`-th sample), takes the log, and scales
    each clip to zero mean and unit variance over its real frames (a
    per-utterance normalisation, so a clip's features don't depend on the
    rest of the data set). A frame is real when its centre lies in the clip.
    The features are computed in float32 whatever the dtype policy.

    Args:
        waveforms: float array `(n, samples)`, zero-padded.
        mask: bool array `(n, samples)`, True over real samples.
        sample_rate: int. Samples per second.
        frame_length: int. FFT window length in samples. Defaults to 256
            (32 ms at 8 kHz).
        frame_step: int. Samples between frames. Defaults to 64 (8 ms at
            8 kHz).
        num_mel_bins: int. Mel bands. Defaults to 64.

    Returns:
        `(spectrograms, frame_mask)`: float32 `(n, samples // frame_step,
        num_mel_bins)` and bool `(n, samples // frame_step)`.

    Example:

    >>> waves = np.random.normal(size=(2, 8192)).astype("float32")
    >>> spectrograms, frame_mask = log_mel_spectrograms(
    ...     waves, np.ones((2, 8192), bool), sample_rate=8000)
    >>> spectrograms.shape, frame_mask.shape
    ((2, 128, 64), (2, 128))
    """
    mel = keras.layers.MelSpectrogram(
        fft_length=frame_length, sequence_stride=frame_step,
        sampling_rate=sample_rate, num_mel_bins=num_mel_bins,
        max_freq=sample_rate / 2, power_to_db=False, dtype="float32",
    )
    num_frames = waveforms.shape[1] // frame_step
    power = keras.ops.convert_to_numpy(mel(waveforms))[:, :, :num_frames]
    power = power.astype("float64")
    log_mel = np.log(power + LOG_OFFSET).transpose(0, 2, 1)
    frame_mask = np.asarray(mask)[:, ::frame_step][:, :num_frames]
    return _standardise(log_mel, frame_mask).astype("float32"), frame_mask


def _standardise(log_mel, frame_mask):
    """Zero mean, unit variance over each clip's real frames."""
    weights = frame_mask[:, :, None].astype("float64")
    count = np.maximum(weights.sum(axis=(1, 2), keepdims=True), 1.0)
    count *= log_mel.shape[2]
    mean = (log_mel * weights).sum(axis=(1, 2), keepdims=True) / count
    variance = (((log_mel - mean) ** 2) * weights).sum(
        axis=(1, 2), keepdims=True) / count
    return (log_mel - mean) / np.sqrt(variance + VARIANCE_EPSILON) * weights


def prepare_audio(samples, preprocessing):
    """A clip cut or padded to `max_length` samples with a mask, as
    log-mel spectrograms if asked (TensorFlow ops).

    Args:
        samples: tensor `(samples,)`: floats in [-1, 1], or 16-bit integer
            samples (scaled to [-1, 1]).
        preprocessing: dict with "max_length", "audio_features" and
            "sample_rate".

    Returns:
        `{"inputs", "mask"}`: the waveform `(max_length,)`, or the
        spectrogram `(max_length // 64, 64)` masked over frames.

    Example:

    >>> prepare_audio(samples, {"max_length": 8192, "sample_rate": 8000,
    ...                         "audio_features": "waveform"})
    """
    import tensorflow as tf

    scale = PCM_SCALE if samples.dtype.is_integer else 1.0
    length = preprocessing["max_length"]
    clip = inputs.cut_or_padded(tf.cast(samples, "float32") / scale, length)
    if preprocessing["audio_features"] == "waveform":
        return clip
    rate = preprocessing["sample_rate"]

    def log_mel(waveform, mask):
        spectrogram, frame_mask = log_mel_spectrograms(
            waveform[None], mask[None], rate
        )
        return spectrogram[0], frame_mask[0]

    spectrogram, frame_mask = tf.numpy_function(
        log_mel, [clip["inputs"], clip["mask"]], ["float32", "bool"]
    )
    num_frames = length // LOG_MEL_FRAME_STEP
    return {"inputs": tf.ensure_shape(spectrogram,
                                      (num_frames, LOG_MEL_BANDS)),
            "mask": tf.ensure_shape(frame_mask, (num_frames,))}


def _inspect(path):
    """The sample rate and length of a 16-bit PCM WAV file."""
    try:
        with wave.open(str(path)) as file:
            if file.getsampwidth() != 2:
                raise ValueError("expected 16-bit PCM")
            return file.getframerate(), file.getnframes()
    except (wave.Error, EOFError, OSError, ValueError) as error:
        raise ValueError(
            f"{path} is not a readable 16-bit PCM WAV file ({error})."
        ) from None


def _preprocessing(facts, audio_features="waveform", max_length=None, **_):
    """Clips (facts `(sample_rate, num_samples)`) of one sample rate, cut
    or padded to `max_length` samples (default: the longest), for log-mel
    spectrograms rounded up to whole spectrogram patches."""
    argument_checks.check_choice("audio_features", audio_features,
                                 AUDIO_FEATURES)
    rates = sorted({rate for rate, _ in facts})
    if len(rates) > 1:
        raise ValueError(
            "The WAV files must share one sample rate; resample them "
            f"first. Received: sample rates {rates}"
        )
    multiple = 1
    if audio_features == "log_mel":
        multiple = LOG_MEL_FRAMES_PER_PATCH * LOG_MEL_FRAME_STEP
    length = inputs.chosen_length(max_length, [n for _, n in facts],
                                  multiple)
    return {"modality": "audio", "sample_rate": rates[0],
            "max_length": length, "audio_features": audio_features}


def _read(path, preprocessing):
    import tensorflow as tf

    samples, _ = tf.audio.decode_wav(tf.io.read_file(path),
                                     desired_channels=1)
    return prepare_audio(samples[:, 0], preprocessing)


def _modality_of_inputs(preprocessing):
    if preprocessing.get("audio_features") == "log_mel":
        return "spectrogram"
    return "audio"


AUDIO = register(Modality(
    name="audio",
    plural="waveforms",
    # Patches of 128 samples, as in the paper (the adapter's default).
    adapter_factory=adapters.AudioAdapter,
    adapter_options=(),
    attention_drawer=attention_drawing.signal_drawer,
    extensions=(".wav",),
    inspect=_inspect,
    preprocessing=_preprocessing,
    read=_read,
    prepare=prepare_audio,
    modality_of_inputs=_modality_of_inputs,
))

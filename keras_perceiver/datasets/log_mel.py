import keras
import numpy as np

LOG_OFFSET = 1e-6  # keeps the log finite on silent frames
VARIANCE_EPSILON = 1e-6  # keeps the scaling finite on constant clips


def log_mel_spectrograms(waveforms, mask, sample_rate, frame_length=256,
                         frame_step=64, num_mel_bins=64):
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

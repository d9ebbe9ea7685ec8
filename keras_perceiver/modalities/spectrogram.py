"""Spectrograms: frames x frequency bands, e.g. audio read as log-mel.

Spectrograms come from audio (`audio_features="log_mel"`, see
`keras_perceiver.modalities.audio`), not from files of their own. The
adapter is a `SpectrogramAdapter` over patches of 4 frames x 4 bands;
attention is drawn over the time-frequency patch grid.
"""

import numpy as np

from keras_perceiver import adapters
from keras_perceiver.modalities import attention_drawing
from keras_perceiver.modalities.audio import LOG_MEL_FRAMES_PER_PATCH
from keras_perceiver.modalities.modality import Modality
from keras_perceiver.modalities.registry import register

# Frames x mel bands per patch: audio clips are read in whole patches.
SPECTROGRAM_PATCH_SIZE = (LOG_MEL_FRAMES_PER_PATCH, 4)


def spectrogram_drawer(example, adapter, num_elements):
    """Spectrograms and attention over their patches: time left to right,
    frequency upwards (channels averaged). Without a 2-D grid of elements,
    the panels are `signal_drawer`'s. Arguments and result as
    `keras_perceiver.modalities.attention_drawing` describes.

    Example:

    >>> projection, draw = spectrogram_drawer(
    ...     {"inputs": spectrograms[:1], "mask": mask[:1]},
    ...     model.input_adapter, num_elements=32)
    """
    grid = attention_drawing.element_grid(adapter, num_elements)
    if grid is None:
        return attention_drawing.signal_drawer(example, adapter, num_elements)
    spectrogram = np.asarray(example["inputs"][0])
    if spectrogram.ndim == 3:  # channels (e.g. log-mel and deltas)
        spectrogram = spectrogram.mean(axis=-1)

    def draw(axis, attention):
        picture = spectrogram if attention is None else (
            attention.reshape(grid))
        axis.imshow(picture.T, origin="lower", aspect="auto",
                    cmap="magma" if attention is None else "viridis")

    return None, draw


def _adapter(num_bands, patch_size=None):
    return adapters.SpectrogramAdapter(
        patch_size=patch_size or SPECTROGRAM_PATCH_SIZE, num_bands=num_bands
    )


SPECTROGRAM = register(Modality(
    name="spectrogram",
    plural="spectrograms",
    adapter_factory=_adapter,
    adapter_options=("patch_size",),
    attention_drawer=spectrogram_drawer,
))

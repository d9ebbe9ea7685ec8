"""The registry of modalities: what the package does with each kind of data.

A data set says what its inputs are with `Dataset.modality`, one of the
names below or "multimodal" (a dict of inputs, each of a modality named in
`Dataset.modalities`). Everything that depends on the modality looks it up
here: `perceiver_for_dataset` builds the modality's input adapter with its
default settings (the paper's, where it has them) and checks the options
that apply, and `plotting.plot_attention_maps` draws the modality's
attention maps. A new modality is one entry in `MODALITIES`.
"""

import dataclasses
import functools
from typing import Callable

from keras_perceiver import adapters
from keras_perceiver.modalities import attention_drawing

MULTIMODAL = "multimodal"
ADAPTER_OPTIONS = ("patch_size", "crop_size")

AUDIO_PATCH_SIZE = 128  # samples per patch, as in the paper
SPECTROGRAM_PATCH_SIZE = (4, 4)  # frames x mel bands per patch
POINT_CLOUD_MAX_RESOLUTION = 1120  # the paper's ModelNet40 setting
# Training-time point cloud augmentation: random scaling of each axis and
# jitter of the coordinates.
POINT_CLOUD_AUGMENTATION = dict(scale_range=(0.8, 1.25), jitter_stddev=0.01)


@dataclasses.dataclass(frozen=True)
class Modality:
    """One kind of input data and what the package does with it.

    Args:
        name: str. The `Dataset.modality` value, e.g. "image".
        plural: str. What the data are called in messages, e.g. "images".
        adapter_factory: callable. Makes the modality's input adapter from
            `num_bands=` and the `adapter_options`, with the modality's
            default settings for everything else.
        adapter_options: tuple of str. Which of `ADAPTER_OPTIONS`
            ("patch_size", "crop_size") the user may set for this modality.
        attention_drawer: callable. Draws an example and attention over it
            (see `keras_perceiver.modalities.attention_drawing`).

    Example:

    >>> smell = Modality(
    ...     name="smell", plural="smell recordings",
    ...     adapter_factory=keras_perceiver.adapters.SequenceAdapter,
    ...     adapter_options=(),
    ...     attention_drawer=attention_drawing.signal_drawer)
    >>> adapter = smell.make_adapter(num_bands=8)
    """

    name: str
    plural: str
    adapter_factory: Callable
    adapter_options: tuple
    attention_drawer: Callable

    def __post_init__(self):
        unknown = sorted(set(self.adapter_options) - set(ADAPTER_OPTIONS))
        if unknown:
            raise ValueError(
                f"`adapter_options` must be among {ADAPTER_OPTIONS}. "
                f"Received: adapter_options={self.adapter_options!r}"
            )

    def make_adapter(self, num_bands, patch_size=None, crop_size=None):
        """The modality's input adapter.

        Args:
            num_bands: int. Fourier bands per position axis.
            patch_size: int, tuple of ints, or None. Passed on where the
                modality takes it (None: the modality's default), ignored
                otherwise. Defaults to None.
            crop_size: int, pair of ints, or None. As `patch_size`.
                Defaults to None.

        Returns:
            An input adapter layer.

        Example:

        >>> get("spectrogram").make_adapter(num_bands=8).patch_size
        (4, 4)
        """
        given = {"patch_size": patch_size, "crop_size": crop_size}
        options = {name: given[name] for name in self.adapter_options}
        return self.adapter_factory(num_bands=num_bands, **options)


def _spectrogram_adapter(num_bands, patch_size=None):
    return adapters.SpectrogramAdapter(
        patch_size=patch_size or SPECTROGRAM_PATCH_SIZE, num_bands=num_bands
    )


MODALITIES = {
    modality.name: modality
    for modality in (
        Modality(
            name="image",
            plural="images",
            adapter_factory=adapters.ImageAdapter,
            adapter_options=("patch_size", "crop_size"),
            attention_drawer=attention_drawing.image_drawer,
        ),
        Modality(
            name="audio",
            plural="waveforms",
            adapter_factory=functools.partial(
                adapters.AudioAdapter, patch_size=AUDIO_PATCH_SIZE
            ),
            adapter_options=(),
            attention_drawer=attention_drawing.signal_drawer,
        ),
        Modality(
            name="spectrogram",
            plural="spectrograms",
            adapter_factory=_spectrogram_adapter,
            adapter_options=("patch_size",),
            attention_drawer=attention_drawing.spectrogram_drawer,
        ),
        Modality(
            name="points",
            plural="point clouds",
            adapter_factory=functools.partial(
                adapters.PointCloudAdapter,
                max_resolution=POINT_CLOUD_MAX_RESOLUTION,
                **POINT_CLOUD_AUGMENTATION,
            ),
            adapter_options=(),
            attention_drawer=attention_drawing.point_cloud_drawer,
        ),
        Modality(
            name="sequence",
            plural="sequences",
            adapter_factory=adapters.SequenceAdapter,
            adapter_options=(),
            attention_drawer=attention_drawing.signal_drawer,
        ),
        Modality(
            name="video",
            plural="videos",
            # Patches of 2 frames x 8 x 8 pixels, as in the paper.
            adapter_factory=adapters.VideoAdapter,
            adapter_options=("patch_size",),
            attention_drawer=attention_drawing.video_drawer,
        ),
    )
}


def get(name):
    """The registered modality called `name`.

    Args:
        name: str. A `Dataset.modality` other than "multimodal".

    Returns:
        The `Modality`.

    Example:

    >>> get("points").plural
    'point clouds'

    Raises:
        ValueError: if no modality has that name.
    """
    if name not in MODALITIES:
        raise ValueError(
            f"`modality` must be one of {listed(MODALITIES, 'or')}. "
            f"Received: modality={name!r}"
        )
    return MODALITIES[name]


def check_data_modality(modality, modalities=None):
    """Raises unless a data set's `modality` (and, for "multimodal" data,
    its `modalities`) are known to the registry.

    Args:
        modality: str. A registered modality or "multimodal".
        modalities: dict or None. For multimodal data, the modality of each
            input. Defaults to None.

    Raises:
        ValueError: naming the unknown modality, or missing `modalities`
            for multimodal data.

    Example:

    >>> check_data_modality("multimodal", {"image": "image", "audio": "audio"})
    """
    known = [*MODALITIES, MULTIMODAL]
    if modality not in known:
        raise ValueError(
            f"`modality` must be one of {listed(known, 'or')}. "
            f"Received: modality={modality!r}"
        )
    if modality != MULTIMODAL:
        return
    if not isinstance(modalities, dict) or not modalities:
        raise ValueError(
            "A multimodal data set needs `modalities`, the modality of each "
            f"input. Received: modalities={modalities!r}"
        )
    for name in modalities.values():
        get(name)


def taking(option):
    """The modalities whose adapter takes `option` ("patch_size", ...).

    Example:

    >>> [modality.name for modality in taking("crop_size")]
    ['image']
    """
    return [
        modality for modality in MODALITIES.values()
        if option in modality.adapter_options
    ]


def listed(words, conjunction):
    """`words` as an English list: "a, b or c", "a and b", "a".

    Example:

    >>> listed(["images", "spectrograms"], "and")
    'images and spectrograms'
    """
    words = list(words)
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"

"""Modalities: what the package does with each kind of data.

A data set says what its inputs are with `Dataset.modality`, the name of a
registered `Modality` or "multimodal" (a dict of inputs, each of a
modality named in `Dataset.modalities`). Each modality is one module here
(`image`, `audio`, `spectrogram`, `points` in `point_cloud`, `sequence`,
`video`) holding all the package knows of it: its input adapter's
defaults (the paper's, where it has them), how its files are recognised,
checked and read, how its inputs are prepared, and how its attention is
drawn. The module registers its `Modality`, and everything else asks the
registry: `perceiver_for_dataset` builds the adapter, the data loaders
read files, `plot_attention_maps` draws. A new modality is one module (or
one file of your own) that calls `register`.

Example:

>>> from keras_perceiver import modalities
>>> modalities.get("image").extensions
('.png', '.jpg', '.jpeg', '.bmp', '.gif')
"""

from keras_perceiver.modalities.modality import ADAPTER_OPTIONS, Modality
from keras_perceiver.modalities.multimodal import (
    MULTIMODAL,
    attention_drawer,
    check_data_modality,
)
from keras_perceiver.modalities.registry import (
    MODALITIES,
    get,
    listed,
    register,
    taking,
    with_files,
)

# The package's own modalities register themselves on import, in this order.
from keras_perceiver.modalities import (  # noqa: F401
    image, audio, spectrogram, point_cloud, sequence, video,
)

__all__ = [
    "ADAPTER_OPTIONS",
    "MODALITIES",
    "MULTIMODAL",
    "Modality",
    "attention_drawer",
    "check_data_modality",
    "get",
    "listed",
    "register",
    "taking",
    "with_files",
]

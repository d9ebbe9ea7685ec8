"""Multimodal data: a dict of inputs, each of a registered modality.

A multimodal data set has `Dataset.modality` "multimodal" and names the
modality of each input in `Dataset.modalities`; it is not a registered
modality itself, since its adapter combines those of its inputs.
"""

from keras_perceiver.modalities import attention_drawing
from keras_perceiver.modalities.registry import MODALITIES, get, listed

MULTIMODAL = "multimodal"
"""The `Dataset.modality` of data with several inputs, one per modality."""


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


def attention_drawer(modality):
    """The attention drawer of data of `modality`: the registered
    modality's, and for multimodal data `signal_drawer` over the first
    input.

    Args:
        modality: str. A `Dataset.modality`.

    Returns:
        A drawer, as `keras_perceiver.modalities.attention_drawing`
        describes.

    Example:

    >>> attention_drawer("multimodal") is attention_drawing.signal_drawer
    True
    """
    if modality == MULTIMODAL:
        return attention_drawing.signal_drawer
    return get(modality).attention_drawer

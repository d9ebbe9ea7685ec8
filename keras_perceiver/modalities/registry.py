"""The registry of modalities: the `Modality` of each `Dataset.modality`.

Each modality's module registers its `Modality` when it is imported
(`keras_perceiver.modalities` imports the package's own); everything that
depends on the modality asks `get(name)`.
"""

MODALITIES = {}
"""The registered modalities: name -> `Modality`, in registration order."""


def register(modality):
    """Adds a modality to the registry, under its name.

    Args:
        modality: `Modality`. Its name must be new (and not "multimodal").

    Returns:
        The `Modality`.

    Raises:
        ValueError: if a modality of that name is registered already.

    Example:

    >>> register(Modality(name="smell", plural="smell recordings",
    ...                   adapter_factory=adapters.SequenceAdapter,
    ...                   adapter_options=(),
    ...                   attention_drawer=attention_drawing.signal_drawer))
    """
    if modality.name in MODALITIES or modality.name == "multimodal":
        raise ValueError(
            "`modality.name` must be a name no modality has. Received: "
            f"name={modality.name!r}"
        )
    MODALITIES[modality.name] = modality
    return modality


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


def taking(option):
    """The modalities whose adapter takes `option` ("patch_size", ...).

    Args:
        option: str. An adapter option, one of `ADAPTER_OPTIONS`.

    Returns:
        A list of `Modality`, in registration order.

    Example:

    >>> [modality.name for modality in taking("crop_size")]
    ['image']
    """
    return [
        modality for modality in MODALITIES.values()
        if option in modality.adapter_options
    ]


def with_files():
    """The modalities that come in files (that have `extensions`).

    Returns:
        A list of `Modality`, in registration order.

    Example:

    >>> [modality.name for modality in with_files()]
    ['image', 'audio', 'points', 'sequence']
    """
    return [modality for modality in MODALITIES.values()
            if modality.extensions]


def listed(words, conjunction):
    """`words` as an English list: "a, b or c", "a and b", "a".

    Args:
        words: iterable of str, at least one.
        conjunction: str. The last joining word, e.g. "or".

    Returns:
        str.

    Example:

    >>> listed(["images", "spectrograms"], "and")
    'images and spectrograms'
    """
    words = list(words)
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"

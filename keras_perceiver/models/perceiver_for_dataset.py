from keras_perceiver import adapters
from keras_perceiver import modalities
from keras_perceiver.models.perceiver import Perceiver


def perceiver_for_dataset(dataset, num_bands=64, modality_dropout=None,
                          patch_size=None, crop_size=None,
                          **perceiver_kwargs):
    """A built `Perceiver` with the input adapter `dataset`'s inputs need.

    Images go in directly (the model adds 2-D Fourier features) unless
    `patch_size` or `crop_size` asks for an `ImageAdapter`; audio gets an
    `AudioAdapter` (patches of 128 samples), log-mel spectrograms a
    `SpectrogramAdapter` (4 x 4 patches of frames and mel bands), point
    clouds a `PointCloudAdapter` (max resolution 1120; in training each
    axis is scaled by a random factor in [0.8, 1.25] and the coordinates
    are jittered by noise of standard deviation 0.01), sequences a
    `SequenceAdapter`, videos a `VideoAdapter` (patches of 2 frames x 8 x 8
    pixels), and multimodal data a `MultimodalAdapter` of the
    adapters of its `Dataset.modalities`. These are the paper's settings
    where it has them.

    Args:
        dataset: a `keras_perceiver.datasets.Dataset` or `StreamedDataset`.
        num_bands: int. Fourier bands per position axis. Defaults to 64.
        modality_dropout: dict or None. For multimodal data, the rate at
            which each modality is dropped in training (see
            `MultimodalAdapter`). Defaults to None.
        patch_size: int, pair or triple of ints, or None. Patch size of
            images, spectrograms and videos (each patch is one input
            element). Defaults to None: pixels, 4 x 4 spectrogram patches
            and 2 x 8 x 8 video patches.
        crop_size: int, pair of ints, or None. Images only: random crops of
            this size in training (central crops at inference), with
            crop-relative positions. Defaults to None (no cropping).
        **perceiver_kwargs: the other `Perceiver` arguments (`num_latents`,
            `latent_dim`, ...).

    Returns:
        A `Perceiver` built on the dataset's input shape.

    Example:

    >>> data = keras_perceiver.datasets.load("digits")
    >>> model = perceiver_for_dataset(data, num_bands=8, num_latents=32,
    ...                               latent_dim=64, num_blocks=2)
    """
    adapter = input_adapter_for(dataset, num_bands, modality_dropout,
                                patch_size, crop_size)
    model = Perceiver(
        num_classes=dataset.num_classes,
        class_names=[str(name) for name in dataset.class_names],
        input_preprocessing=dataset.preprocessing,
        num_bands=num_bands,
        input_adapter=adapter,
        **perceiver_kwargs,
    )
    inputs, _ = dataset.first_examples(2)
    model(inputs)
    return model


def input_adapter_for(dataset, num_bands, modality_dropout=None,
                      patch_size=None, crop_size=None):
    """The input adapter for `dataset`, or None for plain images.

    Args:
        dataset, num_bands, modality_dropout, patch_size, crop_size: as in
            `perceiver_for_dataset`.

    Returns:
        An input adapter layer, or None when the model's own pixel adapter
        does.

    Example:

    >>> data = keras_perceiver.datasets.load("digits")
    >>> adapter = input_adapter_for(data, num_bands=8, patch_size=2)
    """
    _check_input_options(dataset, patch_size, crop_size)
    if dataset.modality == modalities.MULTIMODAL:
        return adapters.MultimodalAdapter(
            {
                name: modality_adapter(modality, num_bands, patch_size,
                                       crop_size)
                for name, modality in dataset.modalities.items()
            },
            modality_dropout=modality_dropout,
        )
    if dataset.modality == "image" and patch_size is crop_size is None:
        return None  # The Perceiver adds its own ImageAdapter.
    return modality_adapter(dataset.modality, num_bands, patch_size,
                            crop_size)


def modality_adapter(modality, num_bands, patch_size=None, crop_size=None):
    """The input adapter for one modality of a data set.

    Args:
        modality: str. A modality of `keras_perceiver.modalities`: "image",
            "audio", "spectrogram", "points", "sequence" or "video".
        num_bands, patch_size, crop_size: as in `perceiver_for_dataset`.

    Returns:
        An input adapter layer.

    Example:

    >>> adapter = modality_adapter("spectrogram", num_bands=8)
    """
    return modalities.get(modality).make_adapter(num_bands, patch_size,
                                                 crop_size)


def _check_input_options(dataset, patch_size, crop_size):
    """Patch and crop sizes need a modality whose adapter takes them."""
    if dataset.modality == modalities.MULTIMODAL and not dataset.modalities:
        raise ValueError(
            "Multimodal data needs `Dataset.modalities`, the modality of "
            'each input (e.g. {"image": "image", "audio": "spectrogram"}). '
            f"Received: modalities={dataset.modalities!r}"
        )
    names = set((dataset.modalities or {}).values()) | {dataset.modality}
    for option, value in (("patch_size", patch_size),
                          ("crop_size", crop_size)):
        takers = modalities.taking(option)
        if value is not None and not names & {m.name for m in takers}:
            applies_to = modalities.listed([m.plural for m in takers], "and")
            raise ValueError(
                f"`{option}` applies to {applies_to}. Received: "
                f"{option}={value} for {dataset.modality} data"
            )

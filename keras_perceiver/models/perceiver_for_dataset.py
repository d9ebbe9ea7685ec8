from keras_perceiver import adapters
from keras_perceiver.models.perceiver import Perceiver

AUDIO_PATCH_SIZE = 128  # samples per patch, as in the paper
POINT_CLOUD_MAX_RESOLUTION = 1120  # the paper's ModelNet40 setting
# Training-time point cloud augmentation: random scaling of each axis and
# jitter of the coordinates.
POINT_CLOUD_AUGMENTATION = dict(scale_range=(0.8, 1.25), jitter_stddev=0.01)


def perceiver_for_dataset(dataset, num_bands=64, modality_dropout=None,
                          **perceiver_kwargs):
    """A built `Perceiver` with the input adapter `dataset`'s inputs need.

    Images go in directly (the model adds 2-D Fourier features); audio gets
    an `AudioAdapter` (patches of 128 samples), point clouds a
    `PointCloudAdapter` (max resolution 1120; in training each axis is
    scaled by a random factor in [0.8, 1.25] and the coordinates are
    jittered by noise of standard deviation 0.01), sequences a
    `SequenceAdapter`, and the image + audio pairs a `MultimodalAdapter`.
    These are the paper's settings where it has them.

    Args:
        dataset: a `keras_perceiver.datasets.Dataset`.
        num_bands: int. Fourier bands per position axis. Defaults to 64.
        modality_dropout: dict or None. For multimodal data, the rate at
            which each modality is dropped in training (see
            `MultimodalAdapter`). Defaults to None.
        **perceiver_kwargs: the other `Perceiver` arguments (`num_latents`,
            `latent_dim`, ...).

    Returns:
        A `Perceiver` built on the dataset's input shape.

    Example:

    >>> data = keras_perceiver.datasets.load("digits")
    >>> model = perceiver_for_dataset(data, num_bands=8, num_latents=32,
    ...                               latent_dim=64, num_blocks=2)
    """
    adapter = input_adapter_for(dataset.modality, num_bands, modality_dropout)
    model = Perceiver(
        num_classes=dataset.num_classes,
        num_bands=num_bands,
        input_adapter=adapter,
        **perceiver_kwargs,
    )
    model(_first_examples(dataset.x_train))
    return model


def input_adapter_for(modality, num_bands, modality_dropout=None):
    """The input adapter for a `Dataset.modality`, or None for images."""
    if modality == "image":
        return None
    if modality == "audio":
        return adapters.AudioAdapter(patch_size=AUDIO_PATCH_SIZE,
                                     num_bands=num_bands)
    if modality == "points":
        return adapters.PointCloudAdapter(
            num_bands=num_bands, max_resolution=POINT_CLOUD_MAX_RESOLUTION,
            **POINT_CLOUD_AUGMENTATION,
        )
    if modality == "sequence":
        return adapters.SequenceAdapter(num_bands=num_bands)
    if modality == "multimodal":
        return adapters.MultimodalAdapter(
            {
                "image": adapters.ImageAdapter(num_bands=num_bands),
                "audio": input_adapter_for("audio", num_bands),
            },
            modality_dropout=modality_dropout,
        )
    raise ValueError(
        "`modality` must be one of image, audio, points, sequence or "
        f"multimodal. Received: modality={modality!r}"
    )


def _first_examples(x):
    if isinstance(x, dict):
        return {key: _first_examples(value) for key, value in x.items()}
    return x[:2]

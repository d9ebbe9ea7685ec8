import keras

from keras_perceiver.adapters.grid_adapter import GridAdapter


@keras.saving.register_keras_serializable(package="keras_perceiver")
class SpectrogramAdapter(GridAdapter):
    """Turns spectrograms (time x frequency) into 2-D Fourier-featured bins.

    Each time-frequency bin (or each `patch_size` patch of bins, flattened
    space-to-depth) becomes one element: its values followed by the Fourier
    features of its (time, frequency) position on a `linspace(-1, 1)` grid.
    A channel axis is optional (e.g. stereo, or log-mel plus deltas).

    Spectrograms of different durations are padded along time and masked
    over frames (True = real frame). Positions along time come from the
    built (padded) length, so padding and masking leaves every real
    element's features unchanged.

    Args:
        patch_size: int or pair of ints. Patch size along time and
            frequency; must divide both. Defaults to 1 (one element per bin).
        num_bands: int. Fourier bands per axis. Defaults to 64.
        max_resolution: int, pair of ints, or None. Maximum resolution mu of
            each axis of the patch grid. Defaults to None, meaning its size.
        concat_pos: bool. Whether the raw position joins the features.
            Defaults to True.
        sine_only: bool. Whether to use sines only. Defaults to False.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: spectrograms, a tensor `(batch, T, F)` or `(batch, T, F, C)`,
            or the dict `{"inputs": spectrograms, "mask": mask}`.
        mask: Optional boolean tensor `(batch, T)`, True for real frames.
        training: Python bool; unused.

    Returns:
        A tuple `(byte_array, mask)`: the byte array has shape
        `(batch, (T / p_t) * (F / p_f), p_t * p_f * C + 2 * (2 * num_bands +
        1))`; the mask has shape `(batch, (T / p_t) * (F / p_f))`, or is
        None when no mask was given.

    Example:

    >>> adapter = SpectrogramAdapter(patch_size=(4, 4), num_bands=8)
    >>> byte_array, mask = adapter(keras.random.normal((2, 96, 64)))
    >>> tuple(byte_array.shape)
    (2, 384, 50)

    References:
        - [Jaegle et al., 2021](https://arxiv.org/abs/2103.03206):
          AudioSet experiments (mel spectrograms).
    """

    axis_names = ("time", "frequency")
    input_name = "spectrograms"
    channels_optional = True

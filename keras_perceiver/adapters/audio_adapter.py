import keras

from keras_perceiver.adapters.grid_adapter import GridAdapter


@keras.saving.register_keras_serializable(package="keras_perceiver")
class AudioAdapter(GridAdapter):
    """Turns raw waveforms into patches of samples with 1-D Fourier features.

    A waveform `(T,)` or `(T, C)` is cut into `T / patch_size` patches of
    `patch_size` consecutive samples (the paper uses 128); each patch's
    samples (all channels, time-major) followed by the Fourier features of
    the patch's time on a `linspace(-1, 1)` grid form one element of the
    byte array.

    Clips of different lengths are padded to a common length and masked
    over samples (True = real sample). A patch is real if any of its
    samples is; padded samples inside it count as zeros. Patch times come
    from the length the adapter was built with (the padded length), so a
    patch keeps its position features whatever the padding: a padded and
    masked clip gives the same result as the clip alone, and shorter clips
    may be passed without padding.

    Args:
        patch_size: int. Samples per patch; must divide the length.
            Defaults to 128 (the paper's AudioSet setting).
        num_bands: int. Fourier frequency bands. Defaults to 64.
        max_resolution: int or None. Maximum resolution mu of the time axis
            of the patch grid. Defaults to None, meaning the number of
            patches of the built length.
        concat_pos: bool. Whether the raw position joins the features.
            Defaults to True.
        sine_only: bool. Whether to use sines only. Defaults to False.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: waveforms, a tensor `(batch, T)` or `(batch, T, C)`, or the
            dict `{"inputs": waveforms, "mask": mask}`.
        mask: Optional boolean tensor `(batch, T)`, True for real samples.
        training: Python bool; unused.

    Returns:
        A tuple `(byte_array, mask)`. Each patch of `patch_size` samples is
        one element, its samples followed by its time's features: `(batch,
        T / patch_size, patch_size * C + 2 * num_bands + 1)`. The mask over
        the patches is None unless one was given.

    Example:

    >>> adapter = AudioAdapter(patch_size=128, num_bands=16)
    >>> waveforms = keras.random.normal((2, 48000))
    >>> byte_array, mask = adapter(waveforms)
    >>> tuple(byte_array.shape)
    (2, 375, 161)

    References:
        - [Jaegle et al., 2021](https://arxiv.org/abs/2103.03206):
          AudioSet experiments.
    """

    axis_names = ("time",)
    input_name = "waveforms"
    channels_optional = True
    default_patch_size = 128

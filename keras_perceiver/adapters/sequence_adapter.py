import keras

from keras_perceiver.adapters.grid_adapter import GridAdapter


@keras.saving.register_keras_serializable(package="keras_perceiver")
class SequenceAdapter(GridAdapter):
    """Turns sequences of vectors `(T, F)` into a byte array with 1-D features.

    For time series of feature vectors, such as skeleton joints over time
    (flatten the joints and their coordinates into F). Each step (or each
    `patch_size` consecutive steps) becomes one element: its F values
    followed by the Fourier features of its time on a `linspace(-1, 1)`
    grid.

    Sequences of different lengths are padded and masked over steps (True =
    real step): the dict `{"inputs": padded, "mask": mask}`, the `mask=`
    argument, or the mask that `keras.layers.Masking` attaches in a
    functional model. Times come from the built (padded) length, so padding
    and masking leaves every real step's features unchanged.

    Args:
        patch_size: int. Steps per element; must divide the length.
            Defaults to 1.
        num_bands: int. Fourier frequency bands. Defaults to 64.
        max_resolution: int or None. Maximum resolution mu of the time axis.
            Defaults to None, meaning the number of elements of the built
            length.
        concat_pos: bool. Whether the raw position joins the features.
            Defaults to True.
        sine_only: bool. Whether to use sines only. Defaults to False.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: sequences, a tensor `(batch, T, F)`, or the dict
            `{"inputs": sequences, "mask": mask}`.
        mask: Optional boolean tensor `(batch, T)`, True for real steps.
        training: Python bool; unused.

    Returns:
        A tuple `(byte_array, mask)`: the byte array has shape
        `(batch, T / patch_size, patch_size * F + 2 * num_bands + 1)`; the
        mask `(batch, T / patch_size)` is None when no mask was given.

    Example:

    >>> adapter = SequenceAdapter(num_bands=16)
    >>> joints = keras.random.normal((2, 50, 25 * 3))
    >>> byte_array, mask = adapter(joints)
    >>> tuple(byte_array.shape)
    (2, 50, 108)
    """

    axis_names = ("time",)
    input_name = "sequences"

import keras

from keras_perceiver.adapters.grid_adapter import GridAdapter


@keras.saving.register_keras_serializable(package="keras_perceiver")
class VideoAdapter(GridAdapter):
    """Turns videos `(T, H, W, C)` into 3-D patches with 3-D Fourier features.

    The video is cut into patches of `patch_size` frames x rows x columns
    (the paper uses 2 x 8 x 8); each patch's values, flattened in
    `(frames, rows, columns, channels)` order, followed by the Fourier
    features of the patch's (time, row, column) position on a
    `linspace(-1, 1)` grid form one element of the byte array.

    Videos of different lengths are padded along time and masked over
    frames (True = real frame); a patch is real if any of its frames is.
    Positions along time come from the built (padded) length.

    Args:
        patch_size: int or triple of ints. Patch size along time, height and
            width; must divide each. Defaults to `(2, 8, 8)` (the paper's
            AudioSet setting).
        num_bands: int. Fourier bands per axis. Defaults to 64.
        max_resolution: int, triple of ints, or None. Maximum resolution mu
            of each axis of the patch grid. Defaults to None, meaning its
            size.
        concat_pos: bool. Whether the raw position joins the features.
            Defaults to True.
        sine_only: bool. Whether to use sines only. Defaults to False.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: videos, a tensor `(batch, T, H, W, C)`, or the dict
            `{"inputs": videos, "mask": mask}`.
        mask: Optional boolean tensor `(batch, T)`, True for real frames.
        training: Python bool; unused.

    Returns:
        A tuple `(byte_array, mask)`: the byte array has shape
        `(batch, (T / p_t) * (H / p_h) * (W / p_w), p_t * p_h * p_w * C +
        3 * (2 * num_bands + 1))`; the mask has shape `(batch, M)`, or is
        None when no mask was given.

    Example:

    >>> adapter = VideoAdapter(num_bands=8)
    >>> byte_array, mask = adapter(keras.random.uniform((1, 8, 32, 32, 3)))
    >>> tuple(byte_array.shape)
    (1, 64, 435)

    References:
        - [Jaegle et al., 2021](https://arxiv.org/abs/2103.03206):
          AudioSet video experiments.
    """

    axis_names = ("time", "height", "width")
    input_name = "videos"
    default_patch_size = (2, 8, 8)

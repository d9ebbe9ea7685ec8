import keras
from keras import ops

from keras_perceiver import argument_checks
from keras_perceiver.adapters.input_adapter import InputAdapter
from keras_perceiver.adapters.input_adapter import check_known_sizes
from keras_perceiver.adapters.input_adapter import split_masked_inputs
from keras_perceiver.layers.fourier_position_encoding import (
    attach_position_encoding,
)

NUM_FRAMES = 2
PATCH_SIZE = 3


@keras.saving.register_keras_serializable(package="keras_perceiver")
class FlowAdapter(InputAdapter):
    """Turns a pair of frames into one element per pixel, as for flow.

    The input processing of DeepMind's Perceiver IO optical-flow model
    (Hugging Face's `PerceiverForOpticalFlow`): each frame is zero-padded
    by one pixel and the 3 x 3 patch around every pixel is taken, its
    values in `(row, column, channel)` order; the two frames' patches of a
    pixel are joined (first frame first), 2 x 9 x C values, and a linear
    layer maps them to `num_channels` features. Each pixel becomes one
    element of the byte array: those features followed by the Fourier
    features of its (row, column) on a `linspace(-1, 1)` grid. With the
    checkpoint's settings (RGB frames, 64 channels, 64 bands) every element
    has 64 + 258 = 322 channels.

    Args:
        num_channels: int. Width of the linear layer after patching.
            Defaults to 64.
        num_bands: int. Frequency bands per spatial axis. Defaults to 64.
        max_resolution: int, pair of ints, or None. Maximum resolution mu
            of each axis. Defaults to None, meaning the frames' height and
            width (DeepMind's model uses its training size, 368 x 496).
        concat_pos: bool. Whether the raw position joins the features.
            Defaults to True.
        sine_only: bool. Whether to use sines only. Defaults to False.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: frame pairs, a tensor `(batch, 2, H, W, C)`, or the dict
            `{"inputs": frames}`.
        mask: Must be None: frames have no padding.
        training: Python bool; unused.

    Returns:
        A tuple `(byte_array, mask)`: the byte array has shape
        `(batch, H * W, num_channels + 2 * (2 * num_bands + 1))`; the mask
        is None.

    Example:

    >>> adapter = FlowAdapter(num_channels=8, num_bands=4)
    >>> byte_array, mask = adapter(keras.random.uniform((2, 2, 12, 16, 3)))
    >>> tuple(byte_array.shape)
    (2, 192, 26)

    References:
        - [Jaegle et al., 2022](https://arxiv.org/abs/2107.14795): Perceiver
          IO, optical flow.
    """

    input_name = "frames"

    def __init__(self, num_channels=64, num_bands=64, max_resolution=None,
                 concat_pos=True, sine_only=False, **kwargs):
        super().__init__(**kwargs)
        self.num_channels = argument_checks.check_positive_int(
            "num_channels", num_channels
        )
        attach_position_encoding(
            self, num_bands, max_resolution, concat_pos, sine_only
        )
        self.grid_shape = None  # Set by `build`.
        self.patch_projection = keras.layers.Dense(
            num_channels, name="patch_projection", dtype=self.dtype_policy
        )

    @property
    def input_grid_shape(self):
        """`(height, width)` of the frames, as built (None before)."""
        return self.grid_shape

    @property
    def element_grid(self):
        """One element per pixel: the frames' `(height, width)`."""
        return self.grid_shape

    @property
    def num_position_channels(self):
        """How many trailing byte-array channels are position features."""
        return self.position_encoding.num_channels(2)

    def build(self, inputs_shape):
        frames_shape = self._frames_shape(inputs_shape)
        check_known_sizes(
            frames_shape, self.input_name, "frames, height, width and channels"
        )
        self.grid_shape = tuple(frames_shape[2:4])
        self.num_input_channels = frames_shape[-1]
        # Checks max_resolution against the grid now, not at the first call.
        self.position_encoding.grid_features((1, 1))
        if not self.patch_projection.built:
            self.patch_projection.build(
                (None, NUM_FRAMES * PATCH_SIZE ** 2 * self.num_input_channels)
            )

    def _frames_shape(self, inputs_shape):
        frames_shape, mask_shape = split_masked_inputs(
            inputs_shape, None, self.input_name
        )
        _refuse_mask(mask_shape)
        frames_shape = tuple(frames_shape)
        argument_checks.check_rank(self.input_name, frames_shape, (5,))
        if frames_shape[1] != NUM_FRAMES:
            raise ValueError(
                f"`frames` must hold {NUM_FRAMES} frames along axis 1, as "
                "(batch, 2, height, width, channels). Received: "
                f"frames.shape={frames_shape}"
            )
        return frames_shape

    def call(self, inputs, mask=None, training=None):
        frames, mask = split_masked_inputs(inputs, mask, self.input_name)
        _refuse_mask(None if mask is None else mask.shape)
        built = (NUM_FRAMES,) + self.grid_shape + (self.num_input_channels,)
        if tuple(frames.shape[1:]) != built:
            raise ValueError(
                "`frames` must have the shape the adapter was built with, "
                f"{(None,) + built}. "
                f"Received: frames.shape={tuple(frames.shape)}"
            )
        frames = ops.cast(frames, self.compute_dtype)
        batch = ops.shape(frames)[0]
        patches = ops.concatenate(
            [frame_patches(frames[:, index]) for index in range(NUM_FRAMES)],
            axis=-1,
        )
        height, width = self.grid_shape
        patches = ops.reshape(
            patches, (batch, height * width, patches.shape[-1])
        )
        features = self.patch_projection(patches)
        positions = self.position_encoding.grid_features(self.grid_shape)
        positions = ops.broadcast_to(
            positions[None],
            (batch,) + tuple(positions.shape),
        )
        return ops.concatenate([features, positions], axis=-1), None

    def num_output_channels(self):
        """Channels of each byte-array element (features, then positions)."""
        return self.num_channels + self.num_position_channels

    def compute_output_shape(self, inputs_shape):
        frames_shape = self._frames_shape(inputs_shape)
        height, width = frames_shape[2:4]
        elements = None if None in (height, width) else height * width
        return (frames_shape[0], elements, self.num_output_channels()), None

    def get_config(self):
        config = super().get_config()
        config["num_channels"] = self.num_channels
        config.update(self.position_encoding.settings())
        return config


def _refuse_mask(mask_shape):
    if mask_shape is not None:
        raise ValueError(
            "`frames` take no mask: every pixel is an input element. "
            f"Received: mask with shape {tuple(mask_shape)}"
        )


def frame_patches(frames):
    """The 3 x 3 patch around every pixel, zero-padded at the borders.

    Args:
        frames: Tensor `(batch, H, W, C)` with known H, W and C.

    Returns:
        A tensor `(batch, H, W, 9 * C)`: each pixel's patch, flattened in
        `(row, column, channel)` order (TensorFlow's `extract_patches`, as
        DeepMind's `patches_for_flow`).
    """
    height, width = frames.shape[1:3]
    padded = ops.pad(frames, [[0, 0], [1, 1], [1, 1], [0, 0]])
    return ops.concatenate(
        [padded[:, row:row + height, column:column + width]
         for row in range(PATCH_SIZE) for column in range(PATCH_SIZE)],
        axis=-1,
    )

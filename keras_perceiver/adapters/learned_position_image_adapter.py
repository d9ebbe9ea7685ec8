import keras
from keras import ops

from keras_perceiver import argument_checks
from keras_perceiver.adapters.input_adapter import InputAdapter
from keras_perceiver.adapters.input_adapter import check_known_sizes
from keras_perceiver.adapters.input_adapter import split_masked_inputs
from keras_perceiver.layers.initializers import initializer_or_default


@keras.saving.register_keras_serializable(package="keras_perceiver")
class LearnedPositionImageAdapter(InputAdapter):
    """Projected pixels with learned position embeddings, concatenated.

    The input processing of Perceiver IO's ImageNet model with learned
    positions (DeepMind's `vision-perceiver-learned` checkpoint, Hugging
    Face's `PerceiverForImageClassificationLearned`): each pixel's channels
    are projected to `num_channels` by a 1 x 1 convolution (a Dense layer on
    the channels), and each of the `H * W` pixel positions has its own
    learned embedding of `position_channels`, projected by a Dense layer to
    `projected_position_channels`. The byte array holds, for each pixel in
    row-major order, its projected channels followed by its projected
    position embedding. No spatial structure is built in: the model learns
    it from the data.

    The embeddings are made for the image size the adapter is built with;
    images of another size raise.

    Args:
        num_channels: int. Width of the pixels' projection. Defaults to 256.
        position_channels: int. Width of the learned position embeddings.
            Defaults to 256.
        projected_position_channels: int or None. Width the embeddings are
            projected to; None leaves them unprojected. Defaults to 256.
        position_initializer: initializer of the position embeddings.
            Defaults to a truncated normal with standard deviation 0.02.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: images, a tensor of shape `(batch, H, W, C)`, or the dict
            `{"inputs": images}`.
        mask: Must be None: images have no padding.
        training: Python bool; unused.

    Returns:
        A tuple `(byte_array, mask)`: the byte array has shape
        `(batch, H * W, num_channels + projected_position_channels)` (or
        `+ position_channels` without projection); the mask is None.

    Example:

    >>> adapter = LearnedPositionImageAdapter(
    ...     num_channels=16, position_channels=8,
    ...     projected_position_channels=4)
    >>> byte_array, mask = adapter(keras.random.uniform((2, 12, 12, 3)))
    >>> tuple(byte_array.shape)
    (2, 144, 20)

    References:
        - [Jaegle et al., 2022](https://arxiv.org/abs/2107.14795): Perceiver
          IO, ImageNet with learned position embeddings.
    """

    input_name = "images"

    def __init__(
        self,
        num_channels=256,
        position_channels=256,
        projected_position_channels=256,
        position_initializer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_channels = argument_checks.check_positive_int(
            "num_channels", num_channels
        )
        self.position_channels = argument_checks.check_positive_int(
            "position_channels", position_channels
        )
        self.projected_position_channels = (
            argument_checks.check_optional_positive_int(
                "projected_position_channels", projected_position_channels
            )
        )
        self.position_initializer = initializer_or_default(
            position_initializer
        )
        self.image_shape = None  # Set by `build`.
        self.pixel_projection = keras.layers.Dense(
            num_channels, name="pixel_projection", dtype=self.dtype_policy
        )
        self.position_projection = None
        if projected_position_channels is not None:
            self.position_projection = keras.layers.Dense(
                projected_position_channels,
                name="position_projection",
                dtype=self.dtype_policy,
            )

    @property
    def input_grid_shape(self):
        """`(height, width)` of the images, as built (None before)."""
        return self.image_shape

    # One element per pixel, in row-major order.
    element_grid = input_grid_shape

    @property
    def num_position_channels(self):
        """How many trailing byte-array channels are position features."""
        return self.projected_position_channels or self.position_channels

    def build(self, inputs_shape):
        if self.built:
            return  # Rebuilt after loading: the weights exist already.
        images_shape = self._images_shape(inputs_shape)
        check_known_sizes(
            images_shape, self.input_name, "height, width and channels"
        )
        self.image_shape = images_shape[1:3]
        self.num_input_channels = images_shape[3]
        num_positions = self.image_shape[0] * self.image_shape[1]
        self.position_embeddings = self.add_weight(
            shape=(num_positions, self.position_channels),
            initializer=self.position_initializer,
            name="position_embeddings",
        )
        self.pixel_projection.build((None, self.num_input_channels))
        if self.position_projection is not None:
            self.position_projection.build(
                (num_positions, self.position_channels)
            )

    def _images_shape(self, inputs_shape, mask_shape=None):
        images_shape, mask_shape = split_masked_inputs(
            inputs_shape, mask_shape, self.input_name
        )
        _reject_mask(mask_shape)
        images_shape = tuple(images_shape)
        argument_checks.check_rank(self.input_name, images_shape, (4,))
        return images_shape

    def call(self, inputs, mask=None, training=None):
        images, mask = split_masked_inputs(inputs, mask, self.input_name)
        _reject_mask(None if mask is None else mask.shape)
        images_shape = tuple(images.shape)
        argument_checks.check_rank(self.input_name, images_shape, (4,))
        built = self.image_shape + (self.num_input_channels,)
        if images_shape[1:] != built:
            raise ValueError(
                "`images` must have the size the adapter was built with, "
                f"{(None,) + built}: its position embeddings are learned for "
                f"that many pixels. Received: images.shape={images_shape}"
            )
        images = ops.cast(images, self.compute_dtype)
        num_positions = self.image_shape[0] * self.image_shape[1]
        pixels = ops.reshape(  # With the batch size: see extract_patches.
            self.pixel_projection(images),
            (ops.shape(images)[0], num_positions, self.num_channels),
        )
        positions = ops.cast(self.position_embeddings, self.compute_dtype)
        if self.position_projection is not None:
            positions = self.position_projection(positions)
        positions = ops.broadcast_to(
            positions[None],
            (ops.shape(pixels)[0],) + tuple(positions.shape),
        )
        return ops.concatenate([pixels, positions], axis=-1), None

    def num_output_channels(self):
        """Channels of each byte-array element (pixels, then positions)."""
        return self.num_channels + (
            self.projected_position_channels or self.position_channels
        )

    def compute_output_shape(self, inputs_shape):
        images_shape = self._images_shape(inputs_shape)
        height, width = images_shape[1:3]
        num_elements = (
            None if height is None or width is None else height * width
        )
        return (
            (images_shape[0], num_elements, self.num_output_channels()),
            None,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_channels": self.num_channels,
                "position_channels": self.position_channels,
                "projected_position_channels": (
                    self.projected_position_channels
                ),
                "position_initializer": keras.initializers.serialize(
                    self.position_initializer
                ),
            }
        )
        return config


def _reject_mask(mask_shape):
    if mask_shape is not None:
        raise ValueError(
            "`images` take no mask: every pixel is an input element. "
            f"Received: mask with shape {tuple(mask_shape)}"
        )

import keras
from keras import ops

from keras_perceiver import validation
from keras_perceiver.layers.fourier_position_encoding import (
    FourierPositionEncoding,
)


@keras.saving.register_keras_serializable(package="keras_perceiver")
class ImageAdapter(keras.layers.Layer):
    """Turns images `(H, W, C)` into a byte array with 2-D Fourier features.

    Each pixel becomes one element of the byte array: its C channel values
    followed by the Fourier features of its (row, column) position on a
    `linspace(-1, 1)` grid. With the paper's ImageNet settings (224 x 224 RGB,
    64 bands, max resolution 224) every element has 3 + 258 = 261 channels.

    Args:
        num_bands: int. Frequency bands per spatial axis. Defaults to 64.
        max_resolution: int, pair of ints, or None. Maximum resolution mu of
            each axis. Defaults to None, meaning the image's height and width.
        concat_pos: bool. Whether the raw position joins the features.
            Defaults to True.
        sine_only: bool. Whether to use sines only. Defaults to False.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        images: Tensor of shape `(batch, H, W, C)`.
        mask: Must be None: images have no padding.

    Returns:
        A tuple `(byte_array, mask)`: the byte array has shape
        `(batch, H * W, C + position channels)`, the mask is None.

    Example:

    >>> adapter = ImageAdapter(num_bands=8)
    >>> byte_array, mask = adapter(keras.random.uniform((2, 28, 28, 1)))
    >>> tuple(byte_array.shape)
    (2, 784, 35)
    """

    def __init__(
        self,
        num_bands=64,
        max_resolution=None,
        concat_pos=True,
        sine_only=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_bands = num_bands
        self.max_resolution = validation.freeze_resolution(max_resolution)
        self.concat_pos = concat_pos
        self.sine_only = sine_only
        self.position_encoding = FourierPositionEncoding(
            num_bands=num_bands,
            max_resolution=max_resolution,
            concat_pos=concat_pos,
            sine_only=sine_only,
            name="position_encoding",
            dtype=self.dtype_policy,
        )

    def build(self, images_shape):
        validation.check_rank("images", images_shape, (4,))
        for size in images_shape[1:]:
            if size is None:
                raise ValueError(
                    "`images` must have a known height, width and channel "
                    f"count. Received: images.shape={tuple(images_shape)}"
                )
        if self.max_resolution is not None:
            validation.resolve_per_dimension(
                "max_resolution", self.max_resolution, 2
            )
        self.image_shape = tuple(images_shape[1:])

    def call(self, images, mask=None):
        if tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(
                "`images` must have the (height, width, channels) the model "
                f"was built for, {self.image_shape}. "
                f"Received: images.shape={tuple(images.shape)}"
            )
        if mask is not None:
            raise ValueError(
                "Images take no mask: every pixel is an input element. "
                f"Received: mask with shape {tuple(mask.shape)}"
            )
        height, width, channels = self.image_shape
        pixels = ops.reshape(images, (-1, height * width, channels))
        pixels = ops.cast(pixels, self.compute_dtype)
        positions = self.position_encoding.grid_features((height, width))
        positions = ops.broadcast_to(
            positions[None],
            (ops.shape(pixels)[0],) + tuple(positions.shape),
        )
        return ops.concatenate([pixels, positions], axis=-1), None

    def compute_output_shape(self, images_shape):
        batch, height, width, channels = images_shape
        position_channels = self.position_encoding.num_channels(2)
        return (batch, height * width, channels + position_channels), None

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_bands": self.num_bands,
                "max_resolution": self.max_resolution,
                "concat_pos": self.concat_pos,
                "sine_only": self.sine_only,
            }
        )
        return config

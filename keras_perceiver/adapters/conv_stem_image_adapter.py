import keras
from keras import ops

from keras_perceiver import argument_checks
from keras_perceiver.adapters.grid_adapter import GridAdapter

KERNEL_SIZE = 7
PADDING = KERNEL_SIZE // 2
POOL_SIZE = 3
STRIDE = 2


@keras.saving.register_keras_serializable(package="keras_perceiver")
class ConvStemImageAdapter(GridAdapter):
    """A convolutional stem, then 2-D Fourier features of the feature map.

    The input processing of Perceiver IO's ImageNet model with convolutional
    preprocessing (DeepMind's `vision-perceiver-conv` checkpoint, Hugging
    Face's `PerceiverForImageClassificationConvProcessing`): a 7 x 7
    convolution with stride 2 and no bias, batch normalisation, ReLU and a
    3 x 3 max pool with stride 2 downsample the image about 4x; each
    position of the feature map becomes one element of the byte array, its
    `num_filters` features followed by the Fourier features of its (row,
    column) on a `linspace(-1, 1)` grid.

    The padding is that of the Hugging Face port, so that its weights give
    its outputs: the convolution pads 3 pixels on every side (TensorFlow's
    `"same"` differs for even sizes) and the pool does not pad. A 224 x 224
    image gives a 55 x 55 feature map, 3,025 elements of 64 + 258 = 322
    channels with the checkpoint's settings (64 bands, `max_resolution`
    56).

    Args:
        num_filters: int. Channels of the convolution. Defaults to 64.
        num_bands: int. Frequency bands per spatial axis. Defaults to 64.
        max_resolution: int, pair of ints, or None. Maximum resolution mu of
            each axis of the feature map. Defaults to None, meaning its
            height and width.
        concat_pos: bool. Whether the raw position joins the features.
            Defaults to True.
        sine_only: bool. Whether to use sines only. Defaults to False.
        batch_norm_momentum: float. Momentum of the batch normalisation's
            moving statistics. Defaults to 0.9 (PyTorch's 0.1).
        batch_norm_epsilon: float. Epsilon of the batch normalisation.
            Defaults to 1e-5 (PyTorch's default, as in the port).
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: images, a tensor of shape `(batch, H, W, C)`, or the dict
            `{"inputs": images}`.
        mask: Must be None: images have no padding.
        training: Python bool. Whether the batch normalisation uses (and
            updates) the batch statistics.

    Returns:
        A tuple `(byte_array, mask)`: the byte array has shape
        `(batch, h * w, num_filters + 2 * (2 * num_bands + 1))` for a
        feature map of `h x w`, where `h = (ceil(H / 2) - 3) // 2 + 1` (the
        same for `w`); the mask is None.

    Example:

    >>> adapter = ConvStemImageAdapter(num_filters=8, num_bands=4)
    >>> byte_array, mask = adapter(keras.random.uniform((2, 32, 32, 3)))
    >>> tuple(byte_array.shape)
    (2, 49, 26)

    References:
        - [Jaegle et al., 2022](https://arxiv.org/abs/2107.14795): Perceiver
          IO, ImageNet with convolutional preprocessing.
    """

    axis_names = ("height", "width")
    input_name = "images"
    maskable = False

    def __init__(
        self,
        num_filters=64,
        num_bands=64,
        max_resolution=None,
        concat_pos=True,
        sine_only=False,
        batch_norm_momentum=0.9,
        batch_norm_epsilon=1e-5,
        **kwargs,
    ):
        super().__init__(
            patch_size=1,
            num_bands=num_bands,
            max_resolution=max_resolution,
            concat_pos=concat_pos,
            sine_only=sine_only,
            **kwargs,
        )
        self.num_filters = argument_checks.check_positive_int(
            "num_filters", num_filters
        )
        self.batch_norm_momentum = argument_checks.check_fraction(
            "batch_norm_momentum", batch_norm_momentum
        )
        if (
            isinstance(batch_norm_epsilon, bool)
            or not isinstance(batch_norm_epsilon, (int, float))
            or batch_norm_epsilon <= 0
        ):
            raise ValueError(
                "`batch_norm_epsilon` must be a positive number. "
                f"Received: batch_norm_epsilon={batch_norm_epsilon!r}"
            )
        self.batch_norm_epsilon = float(batch_norm_epsilon)
        self.conv = keras.layers.Conv2D(
            num_filters,
            KERNEL_SIZE,
            strides=STRIDE,
            padding="valid",
            use_bias=False,
            name="conv",
            dtype=self.dtype_policy,
        )
        self.batch_norm = keras.layers.BatchNormalization(
            momentum=self.batch_norm_momentum,
            epsilon=self.batch_norm_epsilon,
            name="batch_norm",
            dtype=self.dtype_policy,
        )

    def build(self, inputs_shape):
        super().build(inputs_shape)
        if self.conv.built:
            return  # Rebuilt after loading: the weights exist already.
        height, width = self.grid_shape
        self.conv.build(
            (None, height + 2 * PADDING, width + 2 * PADDING,
             self.num_input_channels)
        )
        self.batch_norm.build(
            (None,) + stem_conv_shape(self.grid_shape) + (self.num_filters,)
        )

    def _index_shape(self, grid_shape):
        shape = stem_output_shape(grid_shape)
        if any(size is not None and size < 1 for size in shape):
            raise ValueError(
                "`images` must be at least 5 x 5 pixels: the stem's "
                "convolution and max pool shrink them about 4x. "
                f"Received: images of {tuple(grid_shape)} pixels"
            )
        return shape

    def _transform(self, images, training):
        padding = [[0, 0], [PADDING, PADDING], [PADDING, PADDING], [0, 0]]
        features = self.conv(ops.pad(images, padding))
        features = self.batch_norm(features, training=training)
        features = ops.relu(features)
        return ops.max_pool(
            features, pool_size=POOL_SIZE, strides=STRIDE, padding="valid"
        )

    def num_output_channels(self, num_input_channels):
        """Channels of each byte-array element (features, then positions)."""
        return self.num_filters + self.position_encoding.num_channels(
            self.num_index_dims
        )

    def get_config(self):
        config = super().get_config()
        del config["patch_size"]
        config.update(
            {
                "num_filters": self.num_filters,
                "batch_norm_momentum": self.batch_norm_momentum,
                "batch_norm_epsilon": self.batch_norm_epsilon,
            }
        )
        return config


def stem_conv_shape(image_shape):
    """The convolution's output size: 3 pixels of padding, stride 2."""
    return tuple(
        None if size is None
        else (size + 2 * PADDING - KERNEL_SIZE) // STRIDE + 1
        for size in image_shape
    )


def stem_output_shape(image_shape):
    """The feature map's size after the convolution and the max pool."""
    return tuple(
        None if size is None else (size - POOL_SIZE) // STRIDE + 1
        for size in stem_conv_shape(image_shape)
    )

import keras
from keras import ops

from keras_perceiver import argument_checks
from keras_perceiver.adapters.grid_adapter import GridAdapter


@keras.saving.register_keras_serializable(package="keras_perceiver")
class ImageAdapter(GridAdapter):
    """Turns images `(H, W, C)` into a byte array with 2-D Fourier features.

    Each pixel (or each `patch_size` patch, flattened space-to-depth) becomes
    one element of the byte array: its values followed by the Fourier
    features of its (row, column) position on a `linspace(-1, 1)` grid. With
    the paper's ImageNet settings (224 x 224 RGB, no patching, 64 bands, max
    resolution 224) every element has 3 + 258 = 261 channels.

    With `crop_size`, the adapter crops the images first: a random crop per
    image in training, the central crop otherwise. Positions are relative to
    the crop: the crop's grid spans [-1, 1] wherever it was taken, as in the
    paper (positions in absolute image coordinates overfit), so the position
    features are the same for every crop and only the pixels move.

    Args:
        num_bands: int. Frequency bands per spatial axis. Defaults to 64.
        max_resolution: int, pair of ints, or None. Maximum resolution mu of
            each axis of the (cropped, patched) grid. Defaults to None,
            meaning its height and width.
        concat_pos: bool. Whether the raw position joins the features.
            Defaults to True.
        sine_only: bool. Whether to use sines only. Defaults to False.
        patch_size: int or pair of ints. Patch height and width for
            space-to-depth patching; must divide the (cropped) image.
            Defaults to 1 (one element per pixel, as in the paper).
        crop_size: int, pair of ints, or None. Height and width of the crop.
            Defaults to None (no cropping).
        seed: int or None. Seed of the random crops. Defaults to None.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: images, a tensor of shape `(batch, H, W, C)`, or the dict
            `{"inputs": images}`.
        mask: Must be None: images have no padding.
        training: Python bool. Random crops in training, central crops
            otherwise.

    Returns:
        A tuple `(byte_array, mask)`: the byte array has shape
        `(batch, (h / p_h) * (w / p_w), p_h * p_w * C + 2 * (2 * num_bands +
        1))` for a crop (or image) of `h x w` and patches of `p_h x p_w`; the
        mask is None.

    Example:

    >>> adapter = ImageAdapter(num_bands=8)
    >>> byte_array, mask = adapter(keras.random.uniform((2, 28, 28, 1)))
    >>> tuple(byte_array.shape)
    (2, 784, 35)
    >>> adapter = ImageAdapter(num_bands=8, patch_size=4, crop_size=24)
    >>> byte_array, mask = adapter(keras.random.uniform((2, 28, 28, 3)))
    >>> tuple(byte_array.shape)
    (2, 36, 82)

    References:
        - [Jaegle et al., 2021](https://arxiv.org/abs/2103.03206):
          ImageNet experiments (crop-relative positions).
    """

    axis_names = ("height", "width")
    input_name = "images"
    maskable = False

    def __init__(
        self,
        num_bands=64,
        max_resolution=None,
        concat_pos=True,
        sine_only=False,
        patch_size=1,
        crop_size=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            patch_size=patch_size,
            num_bands=num_bands,
            max_resolution=max_resolution,
            concat_pos=concat_pos,
            sine_only=sine_only,
            **kwargs,
        )
        self.crop_size = argument_checks.freeze_resolution(crop_size)
        self.seed = seed
        self.crop_shape = None
        if crop_size is not None:
            self.crop_shape = argument_checks.resolve_int_per_dimension(
                "crop_size", crop_size, 2
            )
            self.seed_generator = keras.random.SeedGenerator(seed)

    @property
    def inference_crop_shape(self):
        """`(height, width)` of the central crop outside training, or None."""
        return self.crop_shape

    def _index_shape(self, grid_shape):
        if self.crop_shape is None:
            return tuple(grid_shape)
        sizes = zip(self.axis_names, grid_shape, self.crop_shape)
        for axis, size, crop in sizes:
            if size is not None and crop > size:
                raise ValueError(
                    f"`crop_size` must fit in the images: the crop's {axis} "
                    f"{crop} exceeds the images' {size}. Received: "
                    f"crop_size={self.crop_size}, images of "
                    f"{tuple(grid_shape)}"
                )
        return self.crop_shape

    def _transform(self, images, training):
        if self.crop_shape is None:
            return images
        height, width = self.crop_shape
        full_height, full_width, channels = images.shape[1:]
        if not training:
            top = (full_height - height) // 2
            left = (full_width - width) // 2
            return images[:, top:top + height, left:left + width]
        batch = ops.shape(images)[0]
        top = keras.random.randint(
            (batch,), 0, full_height - height + 1, seed=self.seed_generator
        )
        left = keras.random.randint(
            (batch,), 0, full_width - width + 1, seed=self.seed_generator
        )
        rows = top[:, None] + ops.arange(height, dtype="int32")[None]
        rows = ops.broadcast_to(
            rows[:, :, None, None], (batch, height, full_width, channels)
        )
        images = ops.take_along_axis(images, rows, axis=1)
        columns = left[:, None] + ops.arange(width, dtype="int32")[None]
        columns = ops.broadcast_to(
            columns[:, None, :, None], (batch, height, width, channels)
        )
        return ops.take_along_axis(images, columns, axis=2)

    def get_config(self):
        config = super().get_config()
        config.update({"crop_size": self.crop_size, "seed": self.seed})
        return config

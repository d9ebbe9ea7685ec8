import math

import keras
from keras import ops

from keras_perceiver import argument_checks


@keras.saving.register_keras_serializable(package="keras_perceiver")
class FourierPositionEncoding(keras.layers.Layer):
    """Fourier features of N-d positions, as in the Perceiver paper.

    For each of the `d` position dimensions the layer uses `num_bands`
    frequencies `f_k` spaced linearly from 1 to `mu / 2`, where `mu` is that
    dimension's `max_resolution` (the Nyquist frequency of a grid of `mu`
    samples). A position `x` in [-1, 1] becomes
    `[x, sin(pi * f_k * x), cos(pi * f_k * x)]`, giving `d * (2K + 1)`
    channels (`d * 2K` without `concat_pos`, and `d * K` or `d * (K + 1)` with
    `sine_only`). Features are ordered as `[positions, sines, cosines]`, each
    group dimension-major.

    Called on coordinates of shape `(..., d)` the layer returns their
    features. `grid_features(index_shape)` gives the features of a regular
    grid whose positions come from `linspace(-1, 1, size)` along each axis.

    Args:
        num_bands: int. Number of frequency bands K per dimension.
            Defaults to 64.
        max_resolution: int, float, sequence of them, or None. The maximum
            resolution mu of each dimension; a single number is used for
            every dimension. None means the size of each axis of the grid
            passed to `grid_features` (coordinates then need an explicit
            value). Defaults to None.
        concat_pos: bool. Whether to concatenate the raw position to the
            sine and cosine features. Defaults to True.
        sine_only: bool. Whether to use sines only (no cosines).
            Defaults to False.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        positions: Tensor of shape `(..., d)` with coordinates in [-1, 1].

    Example:

    >>> encoding = FourierPositionEncoding(num_bands=64, max_resolution=224)
    >>> features = encoding.grid_features((224, 224))
    >>> tuple(features.shape)
    (50176, 258)

    References:
        - [Jaegle et al., 2021](https://arxiv.org/abs/2103.03206), section 3.2
          and appendix.
    """

    def __init__(self, num_bands=64, max_resolution=None, concat_pos=True,
                 sine_only=False, **kwargs):
        super().__init__(**kwargs)
        self.num_bands = argument_checks.check_positive_int("num_bands", num_bands)
        self.max_resolution = argument_checks.freeze_resolution(max_resolution)
        self.concat_pos = argument_checks.check_bool("concat_pos", concat_pos)
        self.sine_only = argument_checks.check_bool("sine_only", sine_only)
        self.built = True

    @property
    def input_dtype(self):
        """Coordinates keep full precision under mixed precision."""
        return self.dtype_policy.variable_dtype

    def num_channels(self, num_dims):
        """Number of feature channels for positions with `num_dims` axes."""
        per_dim = self.num_bands if self.sine_only else 2 * self.num_bands
        return num_dims * (per_dim + int(self.concat_pos))

    def call(self, positions):
        num_dims = positions.shape[-1]
        if num_dims is None:
            raise ValueError(
                "`positions` must have a known last dimension (the number of "
                f"position axes). Received: positions.shape={positions.shape}"
            )
        if self.max_resolution is None:
            raise ValueError(
                "`max_resolution` must be set to encode coordinates; it may be "
                "None only for `grid_features`. Received: max_resolution=None"
            )
        resolution = argument_checks.resolve_per_dimension(
            "max_resolution", self.max_resolution, num_dims
        )
        return self._features(positions, resolution)

    def grid_features(self, index_shape):
        """Features of a regular grid, flattened to `(prod(index_shape), C)`.

        Args:
            index_shape: sequence of ints. The grid's size along each axis,
                e.g. `(height, width)` for an image.

        Returns:
            A float32 tensor of shape `(prod(index_shape), num_channels)`.
        """
        index_shape = tuple(index_shape)
        for size in index_shape:
            argument_checks.check_positive_int("index_shape", size)
        resolution = index_shape
        if self.max_resolution is not None:
            resolution = argument_checks.resolve_per_dimension(
                "max_resolution", self.max_resolution, len(index_shape)
            )
        positions = grid_positions(index_shape)
        return self._features(positions, resolution)

    def _features(self, positions, resolution):
        positions = ops.cast(positions, "float32")
        # pi * f_k as one float64 constant, so that each angle is a
        # single correctly rounded float32 multiply on every backend (angles
        # reach ~1760 rad at mu = 1120, where float32 rounding shows).
        angular_frequencies = ops.convert_to_tensor(
            [[math.pi * f for f in linspace(1.0, mu / 2.0, self.num_bands)]
             for mu in resolution],
            dtype="float32",
        )
        # (..., d, 1) * (d, K) -> (..., d, K) -> (..., d * K)
        angles = ops.multiply(positions[..., None], angular_frequencies)
        # A static channel count (not -1) keeps the last axis known in
        # TensorFlow graphs with a dynamic batch size.
        channels = len(resolution) * self.num_bands
        angles = ops.reshape(
            angles, tuple(ops.shape(angles)[:-2]) + (channels,)
        )
        features = [ops.sin(angles)]
        if not self.sine_only:
            features.append(ops.cos(angles))
        if self.concat_pos:
            features.insert(0, positions)
        return ops.cast(ops.concatenate(features, axis=-1), self.compute_dtype)

    def compute_output_shape(self, positions_shape):
        return tuple(positions_shape[:-1]) + (
            self.num_channels(positions_shape[-1]),
        )

    def settings(self):
        """The four constructor settings by name, as in `get_config`.

        Returns:
            A dict with `num_bands`, `max_resolution`, `concat_pos` and
            `sine_only`: what a layer that owns an encoding adds to its own
            config.
        """
        return {
            "num_bands": self.num_bands,
            "max_resolution": self.max_resolution,
            "concat_pos": self.concat_pos,
            "sine_only": self.sine_only,
        }

    def get_config(self):
        config = super().get_config()
        config.update(self.settings())
        return config


def attach_position_encoding(
    layer, num_bands, max_resolution, concat_pos, sine_only
):
    """Gives `layer` its Fourier position encoding and the encoding's settings.

    For the layers whose elements or queries carry Fourier features (grid
    and point-cloud adapters, `FourierQueries`): `layer.position_encoding`
    becomes the sub-layer (in `layer`'s dtype policy), and `layer.num_bands`,
    `max_resolution`, `concat_pos` and `sine_only` its checked settings;
    `layer.get_config` adds `layer.position_encoding.settings()`.

    Args:
        layer: the Keras layer that owns the encoding.
        num_bands: int. Frequency bands per axis.
        max_resolution: int, float, sequence of them, or None.
        concat_pos: bool. Whether the raw position joins the features.
        sine_only: bool. Whether to use sines only.

    Returns:
        The `FourierPositionEncoding`.

    Example:

    >>> layer = keras.layers.Layer()
    >>> encoding = attach_position_encoding(layer, 8, None, True, False)
    >>> layer.num_bands, encoding.num_channels(2)
    (8, 34)
    """
    encoding = FourierPositionEncoding(
        num_bands, max_resolution, concat_pos, sine_only,
        name="position_encoding", dtype=layer.dtype_policy,
    )
    layer.num_bands = encoding.num_bands
    layer.max_resolution = encoding.max_resolution
    layer.concat_pos = encoding.concat_pos
    layer.sine_only = encoding.sine_only
    layer.position_encoding = encoding
    return encoding


def grid_positions(index_shape):
    """Positions of a regular grid in [-1, 1], shape `(prod(index_shape), d)`.

    Each axis takes `linspace(-1, 1, size)` (both ends included); the grid is
    flattened in row-major order, matching `reshape` of the data.
    """
    axes = [ops.convert_to_tensor(linspace(-1.0, 1.0, size), dtype="float32")
            for size in index_shape]
    mesh = ops.meshgrid(*axes, indexing="ij")
    return ops.reshape(ops.stack(mesh, axis=-1), (-1, len(index_shape)))


def linspace(start, stop, num):
    """`np.linspace(start, stop, num)` as a list of Python floats.

    The same float64 arithmetic as NumPy's (`start + i * step`, the last
    point `stop`), so the same values bit for bit. Python floats rather
    than an ndarray: `torch.compile` traces them as constants, while Keras
    converting an ndarray (it reads the array's dtype) breaks the compiled
    step's graph.
    """
    if num == 1:
        return [float(start)]
    step = (stop - start) / (num - 1)
    return [start + i * step for i in range(num - 1)] + [float(stop)]

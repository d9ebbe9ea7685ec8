import keras
from keras import ops

from keras_perceiver import argument_checks
from keras_perceiver.adapters.input_adapter import InputAdapter
from keras_perceiver.adapters.input_adapter import as_bool_mask
from keras_perceiver.adapters.input_adapter import check_mask_shape
from keras_perceiver.adapters.input_adapter import split_masked_inputs
from keras_perceiver.layers.fourier_position_encoding import (
    attach_position_encoding,
)


@keras.saving.register_keras_serializable(package="keras_perceiver")
class PointCloudAdapter(InputAdapter):
    """Turns point clouds into Fourier features of the point coordinates.

    There is no grid: each point's coordinates (xyz, scaled to [-1, 1]) are
    its position, as in the paper's ModelNet40 model (64 bands, maximum
    resolution 1120). A point cloud `(P, 3 + F)` holds the coordinates in
    its first `num_coordinates` channels and optional per-point features
    (normals, colours) in the other F; each point becomes one element of
    the byte array: its F features followed by the Fourier features of its
    coordinates (which include the raw coordinates when `concat_pos`).

    The byte array keeps the order of the points, and the cross-attention
    ignores that order, so shuffling the points leaves the model's output
    unchanged. Clouds with different numbers of points are padded and
    masked over points (True = real point); any number of points may be
    passed at call time.

    Training augmentation (all off by default): `num_points` keeps a random
    subset of each cloud's real points in training (its first `num_points`
    points otherwise, which is a random subset for clouds stored in random
    order, as ModelNet40's are); `scale_range` multiplies each coordinate
    axis of each cloud by a random factor; `jitter_stddev` adds Gaussian
    noise (truncated at two standard deviations) to every coordinate. The
    features follow their points; only the coordinates are scaled and
    jittered.

    Args:
        num_bands: int. Fourier bands per coordinate. Defaults to 64 (paper).
        max_resolution: int, float, or sequence of one per coordinate.
            Maximum resolution mu of each coordinate. Defaults to 1120
            (paper).
        num_coordinates: int. Number of coordinate channels at the start of
            each point. Defaults to 3 (xyz).
        concat_pos: bool. Whether the raw coordinates join the features.
            Defaults to True.
        sine_only: bool. Whether to use sines only. Defaults to False.
        num_points: int or None. Points kept per cloud (a random subset of
            the real points in training, the first points otherwise).
            Defaults to None (all points).
        scale_range: pair of positive floats or None. In training, each
            coordinate axis of each cloud is scaled by a factor drawn
            uniformly from `[min, max]`. Defaults to None (no scaling).
        jitter_stddev: float. In training, the standard deviation of the
            Gaussian noise added to each coordinate. Defaults to 0 (none).
        seed: int or None. Seed of the random augmentation. Defaults to
            None.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: point clouds, a tensor `(batch, P, num_coordinates + F)`, or
            the dict `{"inputs": points, "mask": mask}`.
        mask: Optional boolean tensor `(batch, P)`, True for real points.
        training: Python bool. Whether to augment (see above).

    Returns:
        A tuple `(byte_array, mask)`: the byte array has shape
        `(batch, P', F + num_coordinates * (2 * num_bands + 1))`, with
        `P' = min(P, num_points)` (or `P`); the mask `(batch, P')` is None
        when no mask was given.

    Example:

    >>> adapter = PointCloudAdapter()
    >>> points = keras.random.uniform((2, 1024, 3), minval=-1, maxval=1)
    >>> byte_array, mask = adapter(points)
    >>> tuple(byte_array.shape)
    (2, 1024, 387)
    >>> augmented = PointCloudAdapter(num_points=512, scale_range=(0.8, 1.25),
    ...                               jitter_stddev=0.01, seed=0)
    >>> byte_array, mask = augmented(points, training=True)
    >>> tuple(byte_array.shape)
    (2, 512, 387)

    References:
        - [Jaegle et al., 2021](https://arxiv.org/abs/2103.03206):
          ModelNet40 experiments.
    """

    input_name = "points"

    def __init__(self, num_bands=64, max_resolution=1120, num_coordinates=3,
                 concat_pos=True, sine_only=False, num_points=None,
                 scale_range=None, jitter_stddev=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        attach_position_encoding(
            self, num_bands, max_resolution, concat_pos, sine_only
        )
        self.num_coordinates = argument_checks.check_positive_int(
            "num_coordinates", num_coordinates
        )
        argument_checks.resolve_per_dimension(
            "max_resolution", self.max_resolution, self.num_coordinates
        )
        self.num_points = argument_checks.check_optional_positive_int(
            "num_points", num_points
        )
        self.scale_range = _check_scale_range(scale_range)
        self.jitter_stddev = _check_non_negative(
            "jitter_stddev", jitter_stddev
        )
        self.seed = seed
        if num_points or scale_range or jitter_stddev:
            self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, inputs_shape):
        points_shape, mask_shape = split_masked_inputs(
            inputs_shape, None, self.input_name
        )
        points_shape = self._check_points_shape(points_shape)
        self.num_features = points_shape[-1] - self.num_coordinates
        if mask_shape is not None:
            self._check_mask(mask_shape, points_shape)

    def _check_points_shape(self, points_shape):
        points_shape = tuple(points_shape)
        argument_checks.check_rank(self.input_name, points_shape, (3,))
        channels = points_shape[-1]
        if channels is None or channels < self.num_coordinates:
            raise ValueError(
                f"`points` must have a known last axis with the "
                f"{self.num_coordinates} coordinates first, then any "
                f"per-point features. Received: points.shape={points_shape}"
            )
        return points_shape

    def _check_mask(self, mask_shape, points_shape):
        check_mask_shape(mask_shape, points_shape, self.input_name, "points")

    def call(self, inputs, mask=None, training=None):
        points, mask = split_masked_inputs(inputs, mask, self.input_name)
        points_shape = self._check_points_shape(points.shape)
        if points_shape[-1] != self.num_coordinates + self.num_features:
            raise ValueError(
                "`points` must have the channels the adapter was built with, "
                f"{self.num_coordinates} coordinates and {self.num_features} "
                f"features. Received: points.shape={points_shape}"
            )
        if mask is not None:
            self._check_mask(mask.shape, points_shape)
            mask = as_bool_mask(mask)
            # Keeps NaNs or infinities in padded points out of the sums.
            points = ops.where(mask[..., None], points, ops.zeros_like(points))
        points, mask = self._keep_points(points, mask, training)
        coordinates = ops.cast(
            points[..., :self.num_coordinates], "float32"
        )
        if training and (self.scale_range or self.jitter_stddev):
            coordinates = self._scale_and_jitter(coordinates)
        positions = self.position_encoding(coordinates)
        features = ops.cast(
            points[..., self.num_coordinates:], self.compute_dtype
        )
        return ops.concatenate([features, positions], axis=-1), mask

    def _keep_points(self, points, mask, training):
        """The first `num_points` points, or in training a random subset."""
        if self.num_points is None:
            return points, mask
        if not training or points.shape[1] == self.num_points:
            return points[:, :self.num_points], (
                None if mask is None else mask[:, :self.num_points]
            )
        # Random keys in [0, 1) for real points and [2, 3) for padding: the
        # smallest keys are a random subset of the real points, followed by
        # padding where a cloud has fewer real points than `num_points`.
        keys = keras.random.uniform(
            ops.shape(points)[:2], seed=self.seed_generator
        )
        if mask is not None:
            keys = ops.where(mask, keys, keys + 2.0)
        order = ops.argsort(keys, axis=-1)[:, :self.num_points]
        kept = ops.take_along_axis(
            points,
            ops.broadcast_to(
                order[..., None], tuple(ops.shape(order)) + (points.shape[-1],)
            ),
            axis=1,
        )
        if mask is not None:
            mask = ops.take_along_axis(mask, order, axis=1)
        return kept, mask

    def _scale_and_jitter(self, coordinates):
        if self.scale_range is not None:
            low, high = self.scale_range
            batch = ops.shape(coordinates)[0]
            scales = keras.random.uniform(
                (batch, 1, self.num_coordinates), low, high,
                seed=self.seed_generator,
            )
            coordinates = coordinates * scales
        if self.jitter_stddev:
            coordinates = coordinates + keras.random.truncated_normal(
                ops.shape(coordinates), stddev=self.jitter_stddev,
                seed=self.seed_generator,
            )
        return coordinates

    @property
    def num_position_channels(self):
        """How many trailing byte-array channels are position features."""
        return self.position_encoding.num_channels(self.num_coordinates)

    def num_output_channels(self, num_features):
        """Channels of each byte-array element (features, then positions)."""
        return num_features + self.position_encoding.num_channels(
            self.num_coordinates
        )

    def compute_output_shape(self, inputs_shape):
        points_shape, mask_shape = split_masked_inputs(
            inputs_shape, None, self.input_name
        )
        points_shape = self._check_points_shape(points_shape)
        batch, num_points, channels = points_shape
        if self.num_points is not None and (
            num_points is None or num_points > self.num_points
        ):
            num_points = self.num_points
        byte_array_shape = (
            batch,
            num_points,
            self.num_output_channels(channels - self.num_coordinates),
        )
        return byte_array_shape, (
            None if mask_shape is None else (batch, num_points)
        )

    def get_config(self):
        config = super().get_config()
        config.update(self.position_encoding.settings())
        config.update(
            {
                "num_coordinates": self.num_coordinates,
                "num_points": self.num_points,
                "scale_range": self.scale_range,
                "jitter_stddev": self.jitter_stddev,
                "seed": self.seed,
            }
        )
        return config


def _check_scale_range(scale_range):
    if scale_range is None:
        return None
    try:
        low, high = (float(bound) for bound in scale_range)
    except (TypeError, ValueError):
        low = high = None
    if low is None or not 0.0 < low <= high:
        raise ValueError(
            "`scale_range` must be a pair (min, max) of positive numbers "
            f"with min <= max. Received: scale_range={scale_range!r}"
        )
    return (low, high)


def _check_non_negative(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
        value < 0
    ):
        raise ValueError(
            f"`{name}` must be a number >= 0. Received: {name}={value!r}"
        )
    return float(value)

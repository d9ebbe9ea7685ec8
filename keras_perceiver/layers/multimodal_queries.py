import keras
import numpy as np
from keras import ops

from keras_perceiver import argument_checks
from keras_perceiver.layers.fourier_position_encoding import (
    FourierPositionEncoding,
)
from keras_perceiver.layers.initializers import initializer_or_default

# The order of the modalities' queries, as DeepMind's (audio, image, label).
GRID_MODALITIES = ("audio", "video")


@keras.saving.register_keras_serializable(package="keras_perceiver")
class MultimodalQueries(keras.layers.Layer):
    """The decoder queries of DeepMind's multimodal autoencoder.

    One query per audio patch and per video pixel, each the Fourier
    features of its position, and one learned label query; each
    modality's queries are padded to a common width (the widest plus
    `min_padding_size`) with a learned vector of its own, and joined in
    the order audio, video, label, for one shared decoder
    (`PerceiverDecoder`) to decode together.

    The point at flat index `i` of a grid of sizes `(n_1, ..., n_d)` (row
    major) sits at `-1 + 2 * k / n` along each axis, `k` its index along
    that axis: the positions of DeepMind's subsampled decoding, which it
    uses to train and to evaluate (in chunks). Decoding only some points
    (`subsampled_points`) gives those points' queries, so their outputs
    are exactly those of decoding every point, indexed.

    Args:
        audio_index_shape: sequence of ints. The audio output grid, e.g.
            `(patches,)`.
        video_index_shape: sequence of ints. The video output grid,
            `(frames, height, width)`.
        audio_num_bands: int. Fourier bands of the audio queries.
        video_num_bands: int. Fourier bands per video axis.
        audio_max_resolution: int or sequence of ints. Maximum resolution
            of the audio axis.
        video_max_resolution: int or sequence of ints. Maximum resolution
            of each video axis.
        label_channels: int. Width of the learned label query.
        min_padding_size: int. Learned padding of the widest modality.
            Defaults to 2.
        initializer: initializer of the label query and the paddings.
            Defaults to a truncated normal with standard deviation 0.02.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        byte_array: the encoder's input `(batch, M, C)`, read for its
            batch size alone.
        subsampled_points: None (every point), or a dict with `"audio"`
            and/or `"video"`: 1-D integer tensors of flat point indices
            to decode of that modality (the others decode every point).

    Returns:
        The queries `(batch, audio points + video points + 1, width)`.

    Example:

    >>> queries = MultimodalQueries(
    ...     audio_index_shape=(4,), video_index_shape=(2, 8, 8),
    ...     audio_num_bands=4, video_num_bands=4, audio_max_resolution=64,
    ...     video_max_resolution=(2, 8, 8), label_channels=16)
    >>> tuple(queries(keras.ops.zeros((2, 5, 3))).shape)
    (2, 133, 29)
    >>> subset = {"video": keras.ops.arange(10)}
    >>> tuple(queries(keras.ops.zeros((2, 5, 3)), subset).shape)
    (2, 15, 29)
    """

    def __init__(
        self,
        audio_index_shape,
        video_index_shape,
        audio_num_bands,
        video_num_bands,
        audio_max_resolution,
        video_max_resolution,
        label_channels,
        min_padding_size=2,
        initializer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.index_shapes = {
            "audio": argument_checks.check_grid(
                "audio_index_shape", audio_index_shape
            ),
            "video": argument_checks.check_grid(
                "video_index_shape", video_index_shape
            ),
        }
        self.encodings = {
            "audio": FourierPositionEncoding(
                audio_num_bands, audio_max_resolution,
                name="audio_encoding", dtype=self.dtype_policy,
            ),
            "video": FourierPositionEncoding(
                video_num_bands, video_max_resolution,
                name="video_encoding", dtype=self.dtype_policy,
            ),
        }
        self.label_channels = argument_checks.check_positive_int(
            "label_channels", label_channels
        )
        self.min_padding_size = argument_checks.check_positive_int(
            "min_padding_size", min_padding_size
        )
        self.initializer = initializer_or_default(initializer)

    def modality_widths(self):
        """`{modality: width}` of each modality's queries before padding."""
        widths = {
            name: self.encodings[name].num_channels(len(shape))
            for name, shape in self.index_shapes.items()
        }
        widths["label"] = self.label_channels
        return widths

    def num_channels(self):
        """The common query width."""
        return max(self.modality_widths().values()) + self.min_padding_size

    def num_points(self, name):
        """Points of a grid modality's full output."""
        return int(np.prod(self.index_shapes[name]))

    def build(self, byte_array_shape):
        width = self.num_channels()
        self.label_query = self.add_weight(
            shape=(self.label_channels,), initializer=self.initializer,
            name="label_query",
        )
        self.paddings = {
            name: self.add_weight(
                shape=(width - channels,), initializer=self.initializer,
                name=f"{name}_padding",
            )
            for name, channels in self.modality_widths().items()
        }

    def call(self, byte_array, subsampled_points=None):
        subsampled_points = _check_points(subsampled_points)
        parts = [
            self._padded(name, self._grid_queries(
                name, subsampled_points.get(name)
            ))
            for name in GRID_MODALITIES
        ]
        parts.append(self._padded("label", self.label_query[None]))
        queries = ops.concatenate(parts, axis=0)
        batch = ops.shape(byte_array)[0]
        return ops.broadcast_to(
            queries[None], (batch,) + tuple(queries.shape)
        )

    def _grid_queries(self, name, points):
        """`(points, width)`: the Fourier features of the grid points."""
        if points is None:
            points = ops.arange(self.num_points(name))
        points = ops.cast(points, "int32")
        coordinates = []
        for size in reversed(self.index_shapes[name]):
            coordinates.append(ops.cast(points % size, "float32") / size)
            points = points // size
        positions = -1.0 + 2.0 * ops.stack(coordinates[::-1], axis=-1)
        return self.encodings[name](positions)

    def _padded(self, name, queries):
        queries = ops.cast(queries, self.compute_dtype)
        padding = ops.cast(self.paddings[name], self.compute_dtype)
        padding = ops.broadcast_to(
            padding[None], (ops.shape(queries)[0], padding.shape[0])
        )
        return ops.concatenate([queries, padding], axis=-1)

    def compute_output_shape(self, byte_array_shape, subsampled_points=None):
        counts = [
            self.num_points(name) if name not in (subsampled_points or {})
            else subsampled_points[name][0]
            for name in GRID_MODALITIES
        ]
        return (byte_array_shape[0], sum(counts) + 1, self.num_channels())

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "audio_index_shape": self.index_shapes["audio"],
                "video_index_shape": self.index_shapes["video"],
                "audio_num_bands": self.encodings["audio"].num_bands,
                "video_num_bands": self.encodings["video"].num_bands,
                "audio_max_resolution":
                    self.encodings["audio"].max_resolution,
                "video_max_resolution":
                    self.encodings["video"].max_resolution,
                "label_channels": self.label_channels,
                "min_padding_size": self.min_padding_size,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config


def _check_points(subsampled_points):
    """`subsampled_points` as a dict (empty for None); raises unless it
    names grid modalities with 1-D index tensors."""
    if subsampled_points is None:
        return {}
    if not isinstance(subsampled_points, dict) or not set(
        subsampled_points
    ) <= set(GRID_MODALITIES) or any(
        len(points.shape) != 1 for points in subsampled_points.values()
    ):
        raise ValueError(
            "`subsampled_points` must be a dict mapping 'audio' and/or "
            "'video' to 1-D tensors of flat point indices. "
            f"Received: subsampled_points={subsampled_points!r}"
        )
    return subsampled_points

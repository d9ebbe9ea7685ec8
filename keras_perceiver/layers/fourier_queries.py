import keras
import numpy as np

from keras_perceiver import argument_checks
from keras_perceiver.layers.fourier_position_encoding import (
    attach_position_encoding,
)
from keras_perceiver.layers.output_queries import OutputQueries
from keras_perceiver.layers.output_queries import broadcast_to_batch


@keras.saving.register_keras_serializable(package="keras_perceiver")
class FourierQueries(OutputQueries):
    """One query per point of an output grid: its Fourier position features.

    For dense outputs (a value per pixel of an image, per bin of a
    spectrogram, per voxel of a video) each query holds the Fourier
    features of its grid position, as the input adapters compute them (a
    `linspace(-1, 1)` grid per axis, `num_bands` linear frequencies up to
    `max_resolution / 2`). The outputs come flattened in row-major order;
    `PerceiverIO` reshapes them to `index_shape`.

    Args:
        index_shape: sequence of ints. The output grid, e.g. `(28, 28)`.
        num_bands: int. Frequency bands per axis. Defaults to 64.
        max_resolution: int, sequence of ints, or None. Maximum resolution
            of each axis. Defaults to None, meaning `index_shape`.
        concat_pos: bool. Whether the raw position joins the features.
            Defaults to True.
        sine_only: bool. Whether to use sines only. Defaults to False.
        task_embedding_channels: int. Width of the learned task embedding
            that `OutputQueries` appends to each query; 0 (the default) for
            none.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        byte_array: the encoder's input `(batch, M, C)`, read for its batch
            size alone.

    Example:

    >>> queries = FourierQueries(index_shape=(28, 28), num_bands=8)
    >>> tuple(queries(keras.random.normal((2, 100, 7))).shape)
    (2, 784, 34)
    """

    def __init__(
        self,
        index_shape,
        num_bands=64,
        max_resolution=None,
        concat_pos=True,
        sine_only=False,
        task_embedding_channels=0,
        **kwargs,
    ):
        super().__init__(task_embedding_channels, **kwargs)
        self.index_shape = argument_checks.check_grid("index_shape", index_shape)
        attach_position_encoding(
            self, num_bands, max_resolution, concat_pos, sine_only
        )
        # Checks max_resolution against the grid now, not at the first call.
        self.position_encoding.grid_features((1,) * len(self.index_shape))

    def _queries(self, byte_array):
        features = self.position_encoding.grid_features(self.index_shape)
        return broadcast_to_batch(features, byte_array)

    def _num_query_channels(self, byte_array_shape):
        return self.position_encoding.num_channels(len(self.index_shape))

    def num_queries(self, byte_array_shape=None):
        """The number of queries O, the size of the grid."""
        return int(np.prod(self.index_shape))

    def get_config(self):
        config = super().get_config()
        config["index_shape"] = self.index_shape
        config.update(self.position_encoding.settings())
        return config

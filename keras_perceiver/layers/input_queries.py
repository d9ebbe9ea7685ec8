import keras

from keras_perceiver import argument_checks
from keras_perceiver.layers.output_queries import OutputQueries


@keras.saving.register_keras_serializable(package="keras_perceiver")
class InputQueries(OutputQueries):
    """One query per input element, from the features the adapter made.

    For one output per input element (a label per point of a point cloud,
    a value per pixel) the queries are the byte array's position features:
    its last `num_position_channels` channels, which every adapter appends
    after the element's own values (an adapter's `num_position_channels`
    attribute gives the count). With `num_position_channels=None` the whole
    byte array is used, values included. Outputs follow the byte array's
    order, padding included (mask it out of the loss).

    Args:
        num_position_channels: int or None. How many trailing channels of
            the byte array are the position features. Defaults to None (the
            whole byte array).
        index_shape: sequence of ints or None. The output grid, for inputs
            on a grid (an image's `(H, W)`). Defaults to None (a flat list
            of outputs, one per input element).
        task_embedding_channels: int. Width of a learned task embedding
            concatenated to every query, 0 for none. Defaults to 0.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        byte_array: Tensor of shape `(batch, M, C)`.

    Example:

    >>> queries = InputQueries(num_position_channels=3)
    >>> tuple(queries(keras.random.normal((2, 100, 7))).shape)
    (2, 100, 3)
    """

    def __init__(
        self,
        num_position_channels=None,
        index_shape=None,
        task_embedding_channels=0,
        **kwargs,
    ):
        super().__init__(task_embedding_channels, **kwargs)
        self.num_position_channels = (
            argument_checks.check_optional_positive_int(
                "num_position_channels", num_position_channels
            )
        )
        if index_shape is not None:
            index_shape = argument_checks.check_grid("index_shape", index_shape)
        self.index_shape = index_shape

    def build(self, byte_array_shape):
        super().build(byte_array_shape)
        channels = byte_array_shape[-1]
        if (
            self.num_position_channels is not None
            and self.num_position_channels > channels
        ):
            raise ValueError(
                "`num_position_channels` must not exceed the byte array's "
                f"{channels} channels. Received: num_position_channels="
                f"{self.num_position_channels}"
            )

    def _queries(self, byte_array):
        if self.num_position_channels is None:
            return byte_array
        return byte_array[..., -self.num_position_channels:]

    def _num_query_channels(self, byte_array_shape):
        return self.num_position_channels or byte_array_shape[-1]

    def num_queries(self, byte_array_shape=None):
        """The number of queries O: the byte array's length M."""
        return None if byte_array_shape is None else byte_array_shape[1]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_position_channels": self.num_position_channels,
                "index_shape": self.index_shape,
            }
        )
        return config

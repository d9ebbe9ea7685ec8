import keras
from keras import ops

from keras_perceiver import argument_checks
from keras_perceiver.layers.initializers import initializer_or_default
from keras_perceiver.layers.output_queries import OutputQueries
from keras_perceiver.layers.output_queries import broadcast_to_batch


@keras.saving.register_keras_serializable(package="keras_perceiver")
class LearnedQueries(OutputQueries):
    """A learned array of `num_queries` x `num_channels` output queries.

    DeepMind's classifiers decode one learned query into the logits; its
    language model learns one query per output position. The same array
    serves every example.

    Args:
        num_queries: int. Number of queries O (outputs).
        num_channels: int. Query width, task embedding excluded.
        initializer: initializer for the queries. Defaults to a truncated
            normal with standard deviation 0.02.
        index_shape: sequence of ints or None. The output grid, whose
            product is `num_queries`, for dense outputs with learned
            position queries. Defaults to None (a flat list of outputs).
        task_embedding_channels: int. Width of a learned task embedding
            concatenated to every query, 0 for none. Defaults to 0.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        byte_array: Tensor of shape `(batch, M, C)`; only its batch size
            is used.

    Example:

    >>> queries = LearnedQueries(num_queries=1, num_channels=64)
    >>> tuple(queries(keras.random.normal((2, 100, 7))).shape)
    (2, 1, 64)

    One query per pixel of a 4 x 6 output image:

    >>> queries = LearnedQueries(
    ...     num_queries=24, num_channels=64, index_shape=(4, 6))
    >>> tuple(queries(keras.random.normal((2, 100, 7))).shape)
    (2, 24, 64)
    """

    def __init__(
        self,
        num_queries,
        num_channels,
        initializer=None,
        index_shape=None,
        task_embedding_channels=0,
        **kwargs,
    ):
        super().__init__(task_embedding_channels, **kwargs)
        self._num_queries = argument_checks.check_positive_int(
            "num_queries", num_queries
        )
        self.query_channels = argument_checks.check_positive_int(
            "num_channels", num_channels
        )
        self.initializer = initializer_or_default(initializer)
        if index_shape is not None:
            index_shape = argument_checks.check_grid(
                "index_shape", index_shape, num_queries
            )
        self.index_shape = index_shape

    def build(self, byte_array_shape):
        super().build(byte_array_shape)
        self.queries = self.add_weight(
            shape=(self._num_queries, self.query_channels),
            initializer=self.initializer,
            name="queries",
        )

    def _queries(self, byte_array):
        return broadcast_to_batch(
            ops.cast(self.queries, self.compute_dtype), byte_array
        )

    def _num_query_channels(self, byte_array_shape):
        return self.query_channels

    def num_queries(self, byte_array_shape=None):
        """The number of queries O."""
        return self._num_queries

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_queries": self._num_queries,
                "num_channels": self.query_channels,
                "initializer": keras.initializers.serialize(self.initializer),
                "index_shape": self.index_shape,
            }
        )
        return config

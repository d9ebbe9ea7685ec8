import keras
from keras import ops

from keras_perceiver import argument_checks


class OutputQueries(keras.layers.Layer):
    """Base class of the Perceiver IO output queries.

    An output-query layer, called on the encoder's byte array, returns the
    queries `(batch, O, Q)` that `PerceiverDecoder` turns into O outputs.
    The byte array gives the batch size, and the input positions for
    queries that reuse them. With `task_embedding_channels`, a learned
    vector of that width is concatenated to every query: queries of several
    tasks (or output modalities) that share one decoder are told apart by
    their embedding.

    Subclasses implement `_queries(byte_array)`, returning `(batch, O, Q0)`,
    `_num_query_channels(byte_array_shape)` (Q0) and
    `num_queries(byte_array_shape)` (O, or None where it is only known at
    call time), and may set `index_shape`, the output grid (None: a flat
    list of outputs).

    Args:
        task_embedding_channels: int. Width of the learned task embedding,
            0 for none. Defaults to 0.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        byte_array: Tensor of shape `(batch, M, C)`, the encoder's input.

    Example:

    >>> queries = keras_perceiver.layers.LearnedQueries(num_queries=4,
    ...                                                 num_channels=8)
    >>> isinstance(queries, OutputQueries)
    True
    >>> tuple(queries(keras.ops.zeros((2, 10, 3))).shape)
    (2, 4, 8)
    """

    index_shape = None

    def __init__(self, task_embedding_channels=0, **kwargs):
        super().__init__(**kwargs)
        if task_embedding_channels != 0:
            argument_checks.check_positive_int(
                "task_embedding_channels", task_embedding_channels
            )
        self.task_embedding_channels = task_embedding_channels

    def build(self, byte_array_shape):
        argument_checks.check_rank("byte_array", byte_array_shape, (3,))
        if self.task_embedding_channels:
            self.task_embedding = self.add_weight(
                shape=(self.task_embedding_channels,),
                initializer=keras.initializers.TruncatedNormal(stddev=0.02),
                name="task_embedding",
            )

    def call(self, byte_array):
        queries = ops.cast(self._queries(byte_array), self.compute_dtype)
        if not self.task_embedding_channels:
            return queries
        embedding = ops.cast(self.task_embedding, self.compute_dtype)
        shape = tuple(ops.shape(queries)[:2]) + (
            self.task_embedding_channels,
        )
        embedding = ops.broadcast_to(embedding[None, None], shape)
        return ops.concatenate([queries, embedding], axis=-1)

    def num_channels(self, byte_array_shape):
        """The query width Q, task embedding included."""
        return (
            self._num_query_channels(byte_array_shape)
            + self.task_embedding_channels
        )

    def compute_output_shape(self, byte_array_shape):
        return (
            byte_array_shape[0],
            self.num_queries(byte_array_shape),
            self.num_channels(byte_array_shape),
        )

    def get_config(self):
        config = super().get_config()
        config["task_embedding_channels"] = self.task_embedding_channels
        return config


def broadcast_to_batch(queries, byte_array):
    """Repeats queries `(O, Q)` over the byte array's batch."""
    batch_size = ops.shape(byte_array)[0]
    return ops.broadcast_to(
        queries[None], (batch_size,) + tuple(queries.shape)
    )

import keras
from keras import ops

from keras_perceiver import argument_checks
from keras_perceiver.adapters.input_adapter import InputAdapter
from keras_perceiver.adapters.input_adapter import as_bool_mask
from keras_perceiver.adapters.input_adapter import check_mask_shape
from keras_perceiver.adapters.input_adapter import split_masked_inputs
from keras_perceiver.layers.initializers import initializer_or_default


@keras.saving.register_keras_serializable(package="keras_perceiver")
class TextAdapter(InputAdapter):
    """Turns token ids `(T,)` into a byte array of embeddings.

    DeepMind's byte-level language model: each token id (a UTF-8 byte plus
    6, or a special token; see `keras_perceiver.ByteTokenizer`) is looked up
    in a learned embedding table and its position's learned embedding is
    added (not concatenated), giving `(batch, T, embedding_dim)`. Padded
    sequences are masked over tokens (True = real token).

    Args:
        vocabulary_size: int. Number of token ids. Defaults to 262 (256
            bytes and 6 special tokens).
        max_length: int. Longest sequence: the number of position
            embeddings. Defaults to 2048.
        embedding_dim: int. Embedding width. Defaults to 768.
        embeddings_initializer: initializer of both tables. Defaults to a
            truncated normal with standard deviation 0.02.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: integer token ids `(batch, T)` with `T <= max_length`, or
            the dict `{"inputs": ids, "mask": mask}`.
        mask: Optional boolean tensor `(batch, T)`, True for real tokens.
        training: Python bool; unused.

    Returns:
        A tuple `(byte_array, mask)`: the byte array has shape
        `(batch, T, embedding_dim)`; the mask is None when none was given.

    Example:

    >>> adapter = TextAdapter(max_length=64, embedding_dim=32)
    >>> byte_array, mask = adapter(keras.ops.ones((2, 10), "int32"))
    >>> tuple(byte_array.shape)
    (2, 10, 32)
    """

    input_name = "token_ids"
    serving_dtype = "int32"
    num_position_channels = 0

    def __init__(
        self,
        vocabulary_size=262,
        max_length=2048,
        embedding_dim=768,
        embeddings_initializer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_size = argument_checks.check_positive_int(
            "vocabulary_size", vocabulary_size
        )
        self.max_length = argument_checks.check_positive_int(
            "max_length", max_length
        )
        self.embedding_dim = argument_checks.check_positive_int(
            "embedding_dim", embedding_dim
        )
        self.embeddings_initializer = initializer_or_default(
            embeddings_initializer
        )

    def build(self, inputs_shape):
        ids_shape, _ = split_masked_inputs(inputs_shape)
        self._check_ids_shape(ids_shape)
        self.token_embeddings = self.add_weight(
            shape=(self.vocabulary_size, self.embedding_dim),
            initializer=self.embeddings_initializer,
            name="token_embeddings",
        )
        self.position_embeddings = self.add_weight(
            shape=(self.max_length, self.embedding_dim),
            initializer=self.embeddings_initializer,
            name="position_embeddings",
        )

    def _check_ids_shape(self, ids_shape):
        argument_checks.check_rank("inputs", ids_shape, (2,))
        length = ids_shape[1]
        if length is not None and length > self.max_length:
            raise ValueError(
                f"`inputs` must have at most `max_length` ({self.max_length})"
                f" tokens. Received: inputs.shape={tuple(ids_shape)}"
            )

    def call(self, inputs, mask=None, training=None):
        ids, mask = split_masked_inputs(inputs, mask)
        self._check_ids_shape(ids.shape)
        if mask is not None:
            check_mask_shape(mask.shape, ids.shape, "inputs", "tokens")
            mask = as_bool_mask(mask)
        ids = ops.cast(ids, "int32")
        embeddings = ops.take(self.token_embeddings, ids, axis=0)
        positions = self.position_embeddings[: ops.shape(ids)[1]]
        byte_array = embeddings + positions[None]
        return ops.cast(byte_array, self.compute_dtype), mask

    def compute_output_shape(self, inputs_shape):
        ids_shape, mask_shape = split_masked_inputs(inputs_shape)
        byte_array_shape = tuple(ids_shape[:2]) + (self.embedding_dim,)
        return byte_array_shape, mask_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "max_length": self.max_length,
                "embedding_dim": self.embedding_dim,
                "embeddings_initializer": keras.initializers.serialize(
                    self.embeddings_initializer
                ),
            }
        )
        return config

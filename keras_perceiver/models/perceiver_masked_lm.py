import keras
from keras import ops

from keras_perceiver.adapters.text_adapter import TextAdapter
from keras_perceiver.models.perceiver_io import PerceiverIO
from keras_perceiver.models.perceiver_io import byte_array_shape_for
from keras_perceiver.models.perceiver_io import decoder_arguments
from keras_perceiver.models.perceiver_io import learned_queries_and_decoder
from keras_perceiver.models.perceiver_task import PerceiverTask
from keras_perceiver.models.perceiver_task import input_adapter_of

# DeepMind's masked language model decodes with 8 heads.
DEFAULT_DECODER_HEADS = 8


@keras.saving.register_keras_serializable(package="keras_perceiver")
class PerceiverMaskedLM(PerceiverIO):
    """Byte-level masked language modelling, as DeepMind's Perceiver IO.

    The encoder reads token ids through a `TextAdapter` (UTF-8 bytes plus 6
    special tokens, learned position embeddings added). The decoder's
    queries are the output positions: a learned query per position, of
    the embedding width, decoded without query residual and without a
    final projection; the logits are the decoded vectors times the input
    embedding matrix (tied weights) plus a learned bias. One output per
    input token: queries are taken for the input's length.

    Args:
        encoder: `keras_perceiver.PerceiverEncoder` whose `input_adapter`
            is a `keras_perceiver.adapters.TextAdapter`.
        decoder_num_heads: int. Decoder attention heads. Defaults to 8,
            as DeepMind's masked language model.
        decoder_qk_channels: int or None. Decoder query/key width.
            Defaults to None, meaning the latent width.
        decoder_v_channels: int or None. Decoder value width. Defaults to
            None, meaning the query/key width.
        decoder_widening_factor: int. Decoder MLP widening. Defaults to 1.
        dropout: float. Decoder dropout rate. Defaults to 0.
        preprocessor: `keras_perceiver.preprocessing.Preprocessor` or
            None. How raw items become this model's inputs, kept as
            `model.preprocessor` and saved with the model. Defaults to
            None.
        **kwargs: the decoder arguments above (keyword arguments; see
            `DECODER_ARGUMENTS`) and base model keyword arguments, such as
            `name` and `dtype`.

    Call arguments:
        inputs: token ids `(batch, T)`, or `{"inputs": ids, "mask": mask}`.
        mask: optional boolean tensor `(batch, T)`, True for real tokens.
        training: Python bool, whether dropout is active.

    Returns:
        Logits `(batch, T, vocabulary_size)` in float32.

    Example:

    >>> encoder = PerceiverEncoder(
    ...     num_latents=16, latent_dim=32, num_blocks=1,
    ...     num_self_attends_per_block=2, num_self_heads=2,
    ...     block_scheme="perceiver_io",
    ...     input_adapter=adapters.TextAdapter(max_length=64,
    ...                                        embedding_dim=24))
    >>> model = PerceiverMaskedLM(encoder, decoder_num_heads=2)
    >>> ids, mask = ByteTokenizer().encode(["a [MASK] test"])
    >>> tuple(model({"inputs": ids, "mask": mask}).shape)
    (1, 10, 262)

    References:
        - [Jaegle et al., 2022](https://arxiv.org/abs/2107.14795)
    """

    def __init__(self, encoder, preprocessor=None, **kwargs):
        # The adapter's embeddings give the logits.
        adapter = input_adapter_of(encoder, TextAdapter, "text")
        output_queries, decoder, kwargs = learned_queries_and_decoder(
            {"decoder_num_heads": DEFAULT_DECODER_HEADS, **kwargs},
            num_queries=adapter.max_length,
            query_channels=adapter.embedding_dim,
            num_output_channels=None,
            use_query_residual=False,
        )
        super().__init__(encoder, output_queries, decoder,
                         preprocessor=preprocessor, **kwargs)

    def build(self, input_shape):
        super().build(input_shape)
        self.output_bias = self.add_weight(
            shape=(self.encoder.input_adapter.vocabulary_size,),
            initializer="zeros",
            name="output_bias",
        )

    def call(self, inputs, mask=None, training=None):
        byte_array, mask = self.encoder.encode_inputs(
            inputs, mask, training=training
        )
        latents = self.encoder.attend(byte_array, mask=mask, training=training)
        queries = self.output_queries(byte_array)[:, : ops.shape(byte_array)[1]]
        decoded = self.decoder(queries, latents, training=training)
        embeddings = ops.cast(
            self.encoder.input_adapter.token_embeddings, decoded.dtype
        )
        logits = ops.matmul(decoded, ops.transpose(embeddings))
        logits = logits + ops.cast(self.output_bias, logits.dtype)
        return ops.cast(logits, self.dtype_policy.variable_dtype)

    def compute_output_shape(self, input_shape):
        byte_array_shape = byte_array_shape_for(self.encoder, input_shape)
        return tuple(byte_array_shape[:2]) + (
            self.encoder.input_adapter.vocabulary_size,
        )

    def get_config(self):
        config = PerceiverTask.get_config(self)
        config["encoder"] = keras.layers.serialize(self.encoder)
        config.update(decoder_arguments(self.decoder))
        return config

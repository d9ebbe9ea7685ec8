import keras

from keras_perceiver import argument_checks
from keras_perceiver.layers.attention_block import AttentionBlock


@keras.saving.register_keras_serializable(package="keras_perceiver")
class CrossAttention(AttentionBlock):
    """A Perceiver cross-attend: latents attend to an input byte array.

    Queries come from the latents, keys and values from the inputs, each
    after its own LayerNorm. As in the paper the query/key width defaults to
    the input channel count C, the value width to the query/key width, and
    an output projection maps back to the latent width D so that the result
    is added to the latents. A pre-LayerNorm MLP with a residual follows.
    The cost is O(M N) for M inputs and N latents; memory stays bounded for
    large M because the attention runs over chunks of the inputs (see
    `input_chunk_size`). The block is an `AttentionBlock` with LayerNorms
    on the latents and on the inputs.

    Args:
        num_heads: int. Number of attention heads. Defaults to 1 (the
            paper's ImageNet model).
        qk_channels: int or None. Query/key width over all heads. Defaults
            to None, meaning the input channel count C.
        v_channels, widening_factor, dropout: as for every `AttentionBlock`
            (value width, MLP widening over the latent width, dropout rate).
            Default to None (meaning `qk_channels`), 1 and 0.
        use_query_residual: bool. Whether the attention output is added to
            the queries (the latents). Defaults to True, as in the encoder;
            Perceiver IO decoders turn it off, so that their output does not
            carry the query (position) features through.
        input_chunk_size: int or None. Inputs per chunk of the attention
            (the input LayerNorm and the key/value projections run chunk by
            chunk too); see `PerceiverAttention`. Defaults to None: the
            whole input while `num_heads * N * M` is at most 2**22, chunks
            of 4096 inputs above.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        latents: Tensor of shape `(batch, N, D)`.
        inputs: Tensor of shape `(batch, M, C)`, the byte array.
        mask: Optional boolean tensor of shape `(batch, M)`, True where an
            input element is real and False where it is padding. A sample
            whose inputs are all masked leaves the attention residual at
            zero.
        training: Python bool, whether dropout is active.
        projected_inputs: Optional `project_inputs(inputs)` of this layer,
            to share the input LayerNorm and key/value projections between
            several calls on the same inputs (a Perceiver's cross-attends
            2..B); `inputs` is then not read again.

    Example:

    >>> cross = CrossAttention(num_heads=1)
    >>> latents = keras.random.normal((2, 16, 32))
    >>> inputs = keras.random.normal((2, 100, 7))
    >>> tuple(cross(latents, inputs).shape)
    (2, 16, 32)

    References:
        - [Jaegle et al., 2021](https://arxiv.org/abs/2103.03206)
    """

    attention_norm_names = ("latent_norm", "input_norm")

    def __init__(
        self,
        num_heads=1,
        qk_channels=None,
        v_channels=None,
        widening_factor=1,
        dropout=0.0,
        use_query_residual=True,
        input_chunk_size=None,
        **kwargs,
    ):
        super().__init__(
            num_heads, qk_channels, v_channels, widening_factor, dropout,
            **kwargs,
        )
        self.use_query_residual = argument_checks.check_bool(
            "use_query_residual", use_query_residual
        )
        self.input_chunk_size = argument_checks.check_optional_positive_int(
            "input_chunk_size", input_chunk_size
        )

    def build(self, latents_shape, inputs_shape):
        argument_checks.check_rank("latents", latents_shape, (3,))
        argument_checks.check_rank("inputs", inputs_shape, (3,))
        self.latent_norm.build(latents_shape)
        self.input_norm.build(inputs_shape)
        self.build_attention(
            latents_shape, inputs_shape, input_chunk_size=self.input_chunk_size
        )

    def call(
        self, latents, inputs, mask=None, training=None, projected_inputs=None
    ):
        queries = self.latent_norm(latents)
        if projected_inputs is None:
            attended = self.attention(
                queries, inputs, mask=mask, key_value_norm=self.input_norm
            )
        else:
            keys, values = projected_inputs
            attended = self.attention.attend(queries, keys, values, mask=mask)
        return self.residual_finish(
            latents, attended, training, self.use_query_residual
        )

    def project_inputs(self, inputs):
        """The input LayerNorm and key/value projections of `inputs`.

        What `call` computes from the inputs alone; pass it to `call` as
        `projected_inputs` to compute it once for several calls (it holds
        the keys and values of all M inputs at once, so it is for inputs
        that `call` would not split into chunks).

        Args:
            inputs: Tensor of shape `(batch, M, C)`.

        Returns:
            The keys and values, as `PerceiverAttention.project_key_value`.
        """
        return self.attention.project_key_value(inputs, self.input_norm)

    def uses_chunks(self, num_latents, num_inputs):
        """Whether `call` splits `num_inputs` inputs into chunks."""
        return (
            self.attention.chunk_size_for(num_latents, num_inputs) is not None
        )

    def attention_weights(self, latents, inputs, mask=None):
        """The attention probabilities of `call`, `(batch, heads, N, M)`.

        Args:
            latents: Tensor of shape `(batch, N, D)`.
            inputs: Tensor of shape `(batch, M, C)`.
            mask: Optional boolean tensor of shape `(batch, M)`.
        """
        return self.attention.attention_weights(
            self.latent_norm(latents), self.input_norm(inputs), mask
        )

    def attention_weight_chunks(self, latents, inputs, chunk_size,
                                mask=None, query_positions=None):
        """`attention_weights` chunk by chunk of inputs, exact.

        Args:
            latents: Tensor of shape `(batch, N, D)`.
            inputs: Tensor of shape `(batch, M, C)`.
            chunk_size: int. Inputs per chunk.
            mask: Optional boolean tensor of shape `(batch, M)`.
            query_positions: Optional int tensor `(N,)`: latent `i` sees
                only the inputs at `query_positions[i]` and before.

        Returns:
            A generator of `(start, probabilities)`, `probabilities` of
            shape `(batch, heads, N, chunk)` (float32); see
            `PerceiverAttention.attention_weight_chunks`.
        """
        return self.attention.attention_weight_chunks(
            self.latent_norm(latents), inputs, chunk_size, mask,
            key_value_norm=self.input_norm, query_positions=query_positions,
        )

    def compute_mask(self, *args, **kwargs):
        """The mask is consumed here: the output has no padding."""
        return None

    def compute_output_shape(self, latents_shape, inputs_shape):
        return tuple(latents_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "use_query_residual": self.use_query_residual,
                "input_chunk_size": self.input_chunk_size,
            }
        )
        return config

import keras
from keras import ops

from keras_perceiver import argument_checks
from keras_perceiver.layers.cross_attention import CrossAttention


@keras.saving.register_keras_serializable(package="keras_perceiver")
class PerceiverDecoder(keras.layers.Layer):
    """The Perceiver IO decoder: output queries attend to the latents.

    Each output query (one per output element: a class, a pixel, a point,
    a token) cross-attends to the encoder's final latents, as in a
    `CrossAttention` with the queries in the latents' place: LayerNorms on
    the queries and on the latents, attention, an optional query residual,
    a pre-LayerNorm MLP with residual. A final linear layer maps each result
    to `num_output_channels`. Queries do not attend to each other, so every
    output depends only on its own query and the latents.

    Args:
        num_output_channels: int or None. Width of each output. Defaults to
            None: no final projection, the output keeps the query width
            (DeepMind's language model, whose logits come from the input
            embedding matrix instead).
        num_heads, qk_channels, v_channels, widening_factor: the
            cross-attention's, as for `CrossAttention` with the queries in
            the latents' place (so `qk_channels` defaults to the latent
            width and the MLP widens the query width). Default to 1 head,
            None, None and 1.
        use_query_residual: bool. Whether the attention output is added to
            the queries. Defaults to True (DeepMind's classification
            decoder); dense decoders usually turn it off so that outputs do
            not carry the query's position features.
        dropout: float. Dropout rate on the attention and MLP outputs.
            Defaults to 0.
        query_chunk_size: int or None. Queries decoded at a time: the
            queries are decoded in chunks of this many, one after the
            other, so that the attention logits and the MLP's activations
            exist for one chunk at a time (a full-resolution flow field
            has a query per pixel). Queries do not attend to each other,
            so the result equals the unchunked one. Defaults to None: all
            at once.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        queries: Tensor of shape `(batch, O, Q)`, the output queries.
        latents: Tensor of shape `(batch, N, D)`, the encoder's output.
        training: Python bool, whether dropout is active.

    Returns:
        Tensor of shape `(batch, O, num_output_channels)` (or `(batch, O,
        Q)` without a final projection).

    Example:

    >>> decoder = PerceiverDecoder(num_output_channels=10)
    >>> pixel_queries = keras.random.normal((2, 784, 24))  # one per pixel
    >>> outputs = decoder(pixel_queries, keras.random.normal((2, 32, 64)))
    >>> tuple(outputs.shape)
    (2, 784, 10)

    References:
        - [Jaegle et al., 2022](https://arxiv.org/abs/2107.14795)
    """

    def __init__(
        self,
        num_output_channels=None,
        num_heads=1,
        qk_channels=None,
        v_channels=None,
        widening_factor=1,
        use_query_residual=True,
        dropout=0.0,
        query_chunk_size=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.query_chunk_size = argument_checks.check_optional_positive_int(
            "query_chunk_size", query_chunk_size
        )
        self.num_output_channels = argument_checks.check_optional_positive_int(
            "num_output_channels", num_output_channels
        )
        # CrossAttention checks the attention arguments; keep them as it does.
        self.cross_attention = CrossAttention(
            num_heads=num_heads,
            qk_channels=qk_channels,
            v_channels=v_channels,
            widening_factor=widening_factor,
            dropout=dropout,
            use_query_residual=use_query_residual,
            name="cross_attention",
            dtype=self.dtype_policy,
        )
        for name, value in self.cross_attention.attention_config().items():
            setattr(self, name, value)
        self.use_query_residual = self.cross_attention.use_query_residual
        self.output_projection = None
        if self.num_output_channels is not None:
            self.output_projection = keras.layers.Dense(
                self.num_output_channels,
                name="output_projection",
                dtype=self.dtype_policy,
            )

    def build(self, queries_shape, latents_shape):
        argument_checks.check_rank("queries", queries_shape, (3,))
        argument_checks.check_rank("latents", latents_shape, (3,))
        self.query_channels = queries_shape[-1]
        self.latent_channels = latents_shape[-1]
        self.cross_attention.build(queries_shape, latents_shape)
        if self.output_projection is not None:
            self.output_projection.build(queries_shape)

    def call(self, queries, latents, training=None):
        _check_width("queries", queries, self.query_channels)
        _check_width("latents", latents, self.latent_channels)
        num_queries = queries.shape[1]
        chunk = self.query_chunk_size
        if chunk is None or num_queries is None or num_queries <= chunk:
            return self._decode(queries, latents, training)
        return ops.concatenate(
            [self._decode(queries[:, start:start + chunk], latents, training)
             for start in range(0, num_queries, chunk)],
            axis=1,
        )

    def _decode(self, queries, latents, training):
        outputs = self.cross_attention(queries, latents, training=training)
        if self.output_projection is not None:
            outputs = self.output_projection(outputs)
        return outputs

    def compute_output_shape(self, queries_shape, latents_shape):
        channels = self.num_output_channels or queries_shape[-1]
        return tuple(queries_shape[:-1]) + (channels,)

    def get_config(self):
        config = super().get_config()
        config["num_output_channels"] = self.num_output_channels
        config.update(self.cross_attention.attention_config())
        config["use_query_residual"] = self.use_query_residual
        config["query_chunk_size"] = self.query_chunk_size
        return config


def _check_width(name, tensor, expected):
    if tensor.shape[-1] != expected:
        raise ValueError(
            f"`{name}` must have width {expected}, as the decoder was built "
            f"with. Received: {name}.shape={tuple(tensor.shape)}"
        )

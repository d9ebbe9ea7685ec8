import keras

from keras_perceiver import argument_checks
from keras_perceiver.layers.feed_forward import FeedForward
from keras_perceiver.layers.perceiver_attention import PerceiverAttention
from keras_perceiver.layers.perceiver_attention import check_heads
from keras_perceiver.layers.residual_barrier import residual_barrier

# The constructor arguments every attention block takes, in config order.
ATTENTION_ARGUMENTS = (
    "num_heads",
    "qk_channels",
    "v_channels",
    "widening_factor",
    "dropout",
)


class AttentionBlock(keras.layers.Layer):
    """The attention block that `CrossAttention` and `SelfAttention` share.

    Queries attend to inputs after LayerNorms, the attention output goes
    through dropout and (optionally) a residual onto the queries, and a
    pre-LayerNorm MLP with a residual follows: `x + mlp(norm(x))`. A
    self-attend is a cross-attend of the latents to themselves, so both
    layers are this block; they differ only in their LayerNorms before the
    attention, named by `attention_norm_names` (created first, in that
    order, so that weight paths and their order stay those of files saved
    before the block was shared), and in what their `call` attends to.

    Subclasses build the attention with `build_attention` and finish their
    `call` with `residual_finish`.

    Args:
        num_heads: int. Number of attention heads.
        qk_channels: int or None. Query/key width over all heads, a
            multiple of `num_heads`. Defaults to None, meaning the width of
            the inputs attended to.
        v_channels: int or None. Value width over all heads, a multiple of
            `num_heads`. Defaults to None, meaning `qk_channels`.
        widening_factor: int. MLP hidden width as a multiple of the query
            width. Defaults to 1.
        dropout: float. Dropout rate on the attention and MLP outputs before
            each residual. Defaults to 0.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:

    >>> from keras_perceiver.layers import SelfAttention
    >>> layer = SelfAttention(num_heads=4, dropout=0.1)
    >>> isinstance(layer, AttentionBlock), layer.attention_config()["dropout"]
    (True, 0.1)
    """

    attention_norm_names = ()

    def __init__(
        self,
        num_heads,
        qk_channels=None,
        v_channels=None,
        widening_factor=1,
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads, self.qk_channels, self.v_channels = check_heads(
            num_heads, qk_channels, v_channels
        )
        self.widening_factor = argument_checks.check_positive_int(
            "widening_factor", widening_factor
        )
        self.dropout = argument_checks.check_fraction("dropout", dropout)
        for name in self.attention_norm_names:
            setattr(self, name, self._layer_norm(name))
        self.mlp_norm = self._layer_norm("mlp_norm")
        self.attention_dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy
        )
        self.mlp = FeedForward(
            widening_factor=self.widening_factor,
            dropout=self.dropout,
            name="mlp",
            dtype=self.dtype_policy,
        )

    def _layer_norm(self, name):
        return keras.layers.LayerNormalization(
            epsilon=1e-5, name=name, dtype=self.dtype_policy
        )

    def build_attention(self, queries_shape, inputs_shape, input_chunk_size=None):
        """Creates the attention and builds it, the MLP and its norm.

        Args:
            queries_shape: shape of the queries `(batch, N, D)`; the
                attention output and the MLP have their width D.
            inputs_shape: shape of the inputs attended to `(batch, M, C)`.
            input_chunk_size: int or None. See `PerceiverAttention`.
        """
        self.attention = PerceiverAttention(
            num_heads=self.num_heads,
            qk_channels=self.qk_channels or inputs_shape[-1],
            v_channels=self.v_channels,
            output_channels=queries_shape[-1],
            input_chunk_size=input_chunk_size,
            name="attention",
            dtype=self.dtype_policy,
        )
        self.attention.build(queries_shape, inputs_shape)
        self.mlp_norm.build(queries_shape)
        self.mlp.build(queries_shape)

    def residual_finish(self, queries, attended, training, query_residual=True):
        """Dropout, the query residual and the residual MLP.

        Args:
            queries: the block's input queries `(batch, N, D)`, before their
                LayerNorm.
            attended: the attention output `(batch, N, D)`.
            training: Python bool, whether dropout is active.
            query_residual: bool. Whether `attended` is added to `queries`.
                Defaults to True.

        Returns:
            `x + mlp(norm(x))` for `x` the attention result.
        """
        attended = self.attention_dropout(attended, training=training)
        latents = queries + attended if query_residual else attended
        latents = latents + self.mlp(self.mlp_norm(latents), training=training)
        return residual_barrier(latents)

    def attention_config(self):
        """The shared constructor arguments, as `get_config` gives them."""
        return {name: getattr(self, name) for name in ATTENTION_ARGUMENTS}

    def get_config(self):
        config = super().get_config()
        config.update(self.attention_config())
        return config

import keras

from keras_perceiver import validation
from keras_perceiver.layers.feed_forward import FeedForward
from keras_perceiver.layers.perceiver_attention import PerceiverAttention
from keras_perceiver.layers.residual_barrier import residual_barrier


@keras.saving.register_keras_serializable(package="keras_perceiver")
class SelfAttention(keras.layers.Layer):
    """One latent Transformer layer: pre-LayerNorm self-attention and MLP.

    `x + attention(norm(x))` followed by `x + mlp(norm(x))`. The query/key
    width defaults to the latent width D and the value width to the
    query/key width. The cost is O(N^2) for N latents.

    Args:
        num_heads: int. Number of attention heads. Defaults to 8 (the
            paper's ImageNet model).
        qk_channels: int or None. Query/key width over all heads. Defaults
            to None, meaning the latent width.
        v_channels: int or None. Value width over all heads. Defaults to
            None, meaning `qk_channels`.
        widening_factor: int. MLP hidden width as a multiple of the latent
            width. Defaults to 1.
        dropout: float. Dropout rate on the attention and MLP outputs before
            each residual. Defaults to 0.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        latents: Tensor of shape `(batch, N, D)`.
        training: Python bool, whether dropout is active.

    Example:

    >>> layer = SelfAttention(num_heads=4)
    >>> tuple(layer(keras.random.normal((2, 16, 32))).shape)
    (2, 16, 32)
    """

    def __init__(
        self,
        num_heads=8,
        qk_channels=None,
        v_channels=None,
        widening_factor=1,
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = validation.check_positive_int("num_heads", num_heads)
        self.qk_channels = validation.check_optional_positive_int(
            "qk_channels", qk_channels
        )
        self.v_channels = validation.check_optional_positive_int(
            "v_channels", v_channels
        )
        self.widening_factor = validation.check_positive_int(
            "widening_factor", widening_factor
        )
        self.dropout = validation.check_fraction("dropout", dropout)
        self.attention_norm = keras.layers.LayerNormalization(
            epsilon=1e-5, name="attention_norm", dtype=self.dtype_policy
        )
        self.mlp_norm = keras.layers.LayerNormalization(
            epsilon=1e-5, name="mlp_norm", dtype=self.dtype_policy
        )
        self.attention_dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy
        )
        self.mlp = FeedForward(
            widening_factor=self.widening_factor,
            dropout=self.dropout,
            name="mlp",
            dtype=self.dtype_policy,
        )

    def build(self, latents_shape):
        validation.check_rank("latents", latents_shape, (3,))
        latent_dim = latents_shape[-1]
        self.attention = PerceiverAttention(
            num_heads=self.num_heads,
            qk_channels=self.qk_channels or latent_dim,
            v_channels=self.v_channels,
            output_channels=latent_dim,
            name="attention",
            dtype=self.dtype_policy,
        )
        self.attention_norm.build(latents_shape)
        self.attention.build(latents_shape, latents_shape)
        self.mlp_norm.build(latents_shape)
        self.mlp.build(latents_shape)

    def call(self, latents, training=None):
        normed = self.attention_norm(latents)
        attended = self.attention(normed, normed)
        latents = latents + self.attention_dropout(attended, training=training)
        latents = latents + self.mlp(self.mlp_norm(latents), training=training)
        return residual_barrier(latents)

    def compute_output_shape(self, latents_shape):
        return tuple(latents_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "qk_channels": self.qk_channels,
                "v_channels": self.v_channels,
                "widening_factor": self.widening_factor,
                "dropout": self.dropout,
            }
        )
        return config

import keras

from keras_perceiver import argument_checks
from keras_perceiver.layers.attention_block import AttentionBlock


@keras.saving.register_keras_serializable(package="keras_perceiver")
class SelfAttention(AttentionBlock):
    """One latent Transformer layer: pre-LayerNorm self-attention and MLP.

    `x + attention(norm(x))` followed by `x + mlp(norm(x))`. The query/key
    width defaults to the latent width D and the value width to the
    query/key width. The cost is O(N^2) for N latents. The block is an
    `AttentionBlock` in which the latents, after one LayerNorm, attend to
    themselves.

    Args:
        num_heads: int. Number of attention heads. Defaults to 8 (the
            paper's ImageNet model).
        qk_channels: int or None. Query/key width over all heads. Defaults
            to None, meaning the latent width.
        v_channels, widening_factor, dropout: the value width, MLP widening
            and dropout rate of every `AttentionBlock`. Default to None
            (meaning `qk_channels`), 1 and 0.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        latents: Tensor of shape `(batch, N, D)`.
        training: Python bool, whether dropout is active.

    Example:

    >>> layer = SelfAttention(num_heads=4)
    >>> tuple(layer(keras.random.normal((2, 16, 32))).shape)
    (2, 16, 32)
    """

    attention_norm_names = ("attention_norm",)

    def __init__(
        self,
        num_heads=8,
        qk_channels=None,
        v_channels=None,
        widening_factor=1,
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(
            num_heads, qk_channels, v_channels, widening_factor, dropout,
            **kwargs,
        )

    def build(self, latents_shape):
        argument_checks.check_rank("latents", latents_shape, (3,))
        self.attention_norm.build(latents_shape)
        self.build_attention(latents_shape, latents_shape)

    def call(self, latents, training=None):
        normed = self.attention_norm(latents)
        attended = self.attention(normed, normed)
        return self.residual_finish(latents, attended, training)

    def compute_output_shape(self, latents_shape):
        return tuple(latents_shape)

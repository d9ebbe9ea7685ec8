import keras
from keras import ops

from keras_perceiver import argument_checks
from keras_perceiver.layers.attention_block import AttentionBlock
from keras_perceiver.layers.causal_mask import causal_mask


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
        attention_mask: Optional boolean tensor `(batch, N)` or `(batch, N,
            N)`, True where a latent may attend (`causal_mask(N, N)` for a
            causal self-attend).
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

    def call(self, latents, attention_mask=None, training=None):
        normed = self.attention_norm(latents)
        attended = self.attention(normed, normed, mask=attention_mask)
        return self.residual_finish(latents, attended, training)

    def extend(self, latents, cache=None):
        """The causal self-attend of new latents that follow cached ones.

        Each new latent attends to the cached latents, to the new latents
        before it and to itself: the result is `call` with a causal mask
        on all the latents, for the new ones only, without recomputing the
        old ones (a key/value cache for generation; inference, no dropout).

        Args:
            latents: Tensor `(batch, n, D)`, the new latents.
            cache: the keys and values of the earlier latents (the second
                result of the previous `extend`), or None for none.

        Returns:
            A tuple: the outputs `(batch, n, D)` and the cache for the next
            call (the keys and values of all latents so far).
        """
        latents = ops.convert_to_tensor(latents, self.compute_dtype)
        normed = self.attention_norm(latents)
        keys, values = self.attention.project_key_value(normed)
        if cache is not None:
            keys = ops.concatenate([cache[0], keys], axis=1)
            values = ops.concatenate([cache[1], values], axis=1)
        mask = causal_mask(ops.shape(latents)[1], ops.shape(keys)[1])
        attended = self.attention.attend(normed, keys, values, mask=mask)
        outputs = self.residual_finish(latents, attended, training=False)
        return outputs, (keys, values)

    def compute_output_shape(self, latents_shape):
        return tuple(latents_shape)

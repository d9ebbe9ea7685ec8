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

    def empty_cache(self, batch_size, capacity):
        """Zero key and value buffers for `extend`, for `capacity` latents.

        Args:
            batch_size: int.
            capacity: int. The most latents the cache will hold.

        Returns:
            A tuple of the keys and values buffers, each `(batch_size,
            capacity, heads, channels per head)`.
        """
        head_channels = self.attention.qk_channels // self.num_heads
        value_channels = (
            self.attention.v_channels or self.attention.qk_channels
        ) // self.num_heads
        return (
            ops.zeros((batch_size, capacity, self.num_heads, head_channels),
                      self.compute_dtype),
            ops.zeros((batch_size, capacity, self.num_heads, value_channels),
                      self.compute_dtype),
        )

    def extend(self, latents, cache, start):
        """The causal self-attend of new latents that follow cached ones.

        The new latents' keys and values are written into the cache at
        `start`; each new latent attends to the latents before it (cached
        or new) and to itself. The result is `call` with a causal mask on
        all the latents, for the new ones only, without recomputing the old
        ones (a key/value cache for generation; inference, no dropout). The
        cache's shapes do not change from step to step, so that compiled
        steps are reused.

        Args:
            latents: Tensor `(batch, n, D)`, the new latents.
            cache: the keys and values buffers, from `empty_cache` or the
                previous `extend`.
            start: int or scalar tensor. The index of the first new latent:
                the number of latents already in the cache.

        Returns:
            A tuple: the outputs `(batch, n, D)` and the updated cache.
        """
        latents = ops.convert_to_tensor(latents, self.compute_dtype)
        normed = self.attention_norm(latents)
        new_keys, new_values = self.attention.project_key_value(normed)
        keys = ops.slice_update(cache[0], (0, start, 0, 0), new_keys)
        values = ops.slice_update(cache[1], (0, start, 0, 0), new_values)
        mask = causal_mask(
            ops.shape(latents)[1], ops.shape(keys)[1], start=start
        )
        attended = self.attention.attend(normed, keys, values, mask=mask)
        outputs = self.residual_finish(latents, attended, training=False)
        return outputs, (keys, values)

    def compute_output_shape(self, latents_shape):
        return tuple(latents_shape)

import keras

from keras_perceiver import argument_checks
from keras_perceiver.layers.self_attention import SelfAttention


@keras.saving.register_keras_serializable(package="keras_perceiver")
class LatentTransformer(keras.layers.Layer):
    """A stack of `num_layers` `SelfAttention` layers over the latents.

    In the Perceiver one latent Transformer follows every cross-attend; with
    the paper's weight sharing the same `LatentTransformer` instance (and so
    the same weights) is applied after every cross-attend.

    Args:
        num_layers: int. Number of self-attention layers L. Defaults to 6.
        num_heads, qk_channels, v_channels, widening_factor, dropout: each
            layer's arguments, as for `SelfAttention` (with the same
            defaults: 8 heads, widths from the latents, widening 1, no
            dropout).
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        latents: Tensor of shape `(batch, N, D)`.
        attention_mask: Optional boolean tensor `(batch, N)` or `(batch, N,
            N)`, as for `SelfAttention`, the same in every layer.
        training: Python bool, whether dropout is active.

    Example:

    >>> transformer = LatentTransformer(num_layers=2, num_heads=4)
    >>> tuple(transformer(keras.random.normal((2, 16, 32))).shape)
    (2, 16, 32)
    """

    def __init__(
        self,
        num_layers=6,
        num_heads=8,
        qk_channels=None,
        v_channels=None,
        widening_factor=1,
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_layers = argument_checks.check_positive_int("num_layers", num_layers)
        self.self_attends = [
            SelfAttention(
                num_heads=num_heads,
                qk_channels=qk_channels,
                v_channels=v_channels,
                widening_factor=widening_factor,
                dropout=dropout,
                name=f"self_attention_{index}",
                dtype=self.dtype_policy,
            )
            for index in range(self.num_layers)
        ]
        # SelfAttention checks the shared arguments; keep them as it does.
        for name, value in self.self_attends[0].attention_config().items():
            setattr(self, name, value)

    def build(self, latents_shape):
        for layer in self.self_attends:
            layer.build(latents_shape)

    def call(self, latents, attention_mask=None, training=None):
        for layer in self.self_attends:
            latents = layer(
                latents, attention_mask=attention_mask, training=training
            )
        return latents

    def empty_caches(self, batch_size, capacity):
        """Each layer's `SelfAttention.empty_cache`, as a list."""
        return [
            layer.empty_cache(batch_size, capacity)
            for layer in self.self_attends
        ]

    def extend(self, latents, caches, start):
        """The causal stack on new latents, with a key/value cache.

        `SelfAttention.extend` through every layer: the outputs equal those
        of `call` with a causal mask over all latents so far.

        Args:
            latents: Tensor `(batch, n, D)`, the new latents.
            caches: the list of per-layer caches, from `empty_caches` or
                the previous `extend`.
            start: int or scalar tensor. The index of the first new latent.

        Returns:
            A tuple: the outputs `(batch, n, D)` and the updated caches.
        """
        new_caches = []
        for layer, cache in zip(self.self_attends, caches):
            latents, cache = layer.extend(latents, cache, start)
            new_caches.append(cache)
        return latents, new_caches

    def compute_output_shape(self, latents_shape):
        return tuple(latents_shape)

    def get_config(self):
        config = super().get_config()
        config["num_layers"] = self.num_layers
        config.update(self.self_attends[0].attention_config())
        return config

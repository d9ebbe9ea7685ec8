import keras
from keras import ops

from keras_perceiver import validation


@keras.saving.register_keras_serializable(package="keras_perceiver")
class PerceiverAttention(keras.layers.Layer):
    """Multi-head attention with separate query/key and value widths.

    Queries are projected to `qk_channels`, keys to `qk_channels` and values
    to `v_channels`, each split evenly over `num_heads`; the attended values
    are projected to `output_channels`. Attention runs through
    `keras.ops.dot_product_attention`, so fused (and, on GPUs, flash) kernels
    are used where the backend has them (on PyTorch's CPU, explicit matmuls
    are faster and are used instead). This is the attention inside
    `CrossAttention` (queries from latents, keys and values from the input)
    and `SelfAttention` (all three from the latents). It applies no
    normalization and no residual.

    A mask over the key/value elements (True = attend) may be given. A query
    whose keys are all masked receives zeros instead of NaNs.

    Args:
        num_heads: int. Number of attention heads. Defaults to 1.
        qk_channels: int. Total width of the queries and keys (all heads).
        v_channels: int or None. Total width of the values (all heads).
            Defaults to None, meaning `qk_channels`.
        output_channels: int. Width of the output projection.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        query: Tensor of shape `(batch, num_queries, query_channels)`.
        key_value: Tensor of shape `(batch, num_keys, key_channels)`.
        mask: Optional boolean tensor of shape `(batch, num_keys)`.

    Example:

    >>> attention = PerceiverAttention(
    ...     num_heads=2, qk_channels=16, output_channels=32)
    >>> latents = keras.random.normal((4, 8, 32))
    >>> inputs = keras.random.normal((4, 100, 5))
    >>> tuple(attention(latents, inputs).shape)
    (4, 8, 32)
    """

    def __init__(
        self,
        num_heads=1,
        qk_channels=None,
        v_channels=None,
        output_channels=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = validation.check_positive_int("num_heads", num_heads)
        self.qk_channels = validation.check_positive_int(
            "qk_channels", qk_channels
        )
        self.v_channels = validation.check_optional_positive_int(
            "v_channels", v_channels
        )
        self.output_channels = validation.check_positive_int(
            "output_channels", output_channels
        )
        validation.check_divisible(
            "qk_channels", self.qk_channels, "num_heads", self.num_heads
        )
        validation.check_divisible(
            "v_channels", self._value_channels, "num_heads", self.num_heads
        )
        self.query_dense = self._dense(self.qk_channels, "query")
        self.key_dense = self._dense(self.qk_channels, "key")
        self.value_dense = self._dense(self._value_channels, "value")
        self.output_dense = self._dense(self.output_channels, "output")

    @property
    def _value_channels(self):
        return self.v_channels or self.qk_channels

    def _dense(self, units, name):
        return keras.layers.Dense(units, name=name, dtype=self.dtype_policy)

    def build(self, query_shape, key_value_shape):
        self.query_dense.build(query_shape)
        self.key_dense.build(key_value_shape)
        self.value_dense.build(key_value_shape)
        self.output_dense.build(
            tuple(query_shape[:-1]) + (self._value_channels,)
        )

    def call(self, query, key_value, mask=None):
        queries = self._split_heads(self.query_dense(query))
        keys = self._split_heads(self.key_dense(key_value))
        values = self._split_heads(self.value_dense(key_value))
        keep = None
        if mask is not None:
            mask = ops.cast(mask, "bool")
            # A row with nothing to attend to would give NaN in some kernels:
            # let it attend everywhere, then zero its output below.
            keep = ops.any(mask, axis=-1)
            mask = ops.logical_or(mask, ops.logical_not(keep)[:, None])
            mask = mask[:, None, None, :]
        if self._uses_fused_kernel(queries):
            attended = ops.dot_product_attention(
                queries, keys, values, mask=mask
            )
        else:
            weights = self._attention_probabilities(queries, keys, mask)
            attended = ops.einsum("bhqk,bkhd->bqhd", weights, values)
        attended = ops.reshape(
            attended, tuple(ops.shape(attended)[:2]) + (self._value_channels,)
        )
        output = self.output_dense(attended)
        if keep is not None:
            output = output * ops.cast(keep, output.dtype)[:, None, None]
        return output

    def _uses_fused_kernel(self, queries):
        """Whether `keras.ops.dot_product_attention` is the faster route.

        Two cases take explicit matmuls and a softmax instead: Keras' JAX
        backend cannot fuse values whose head width differs from the
        query/key head width, and PyTorch's CPU flash-attention kernel is
        slower than the matmuls (its backward about 2x slower in bfloat16;
        benchmarks/README.md, finding 2). GPUs keep the fused kernel.
        """
        if self._value_channels != self.qk_channels:
            return False
        if keras.config.backend() == "torch":
            return queries.device.type != "cpu"
        return True

    def attention_weights(self, query, key_value, mask=None):
        """The attention probabilities, shape `(batch, heads, queries, keys)`.

        The same softmax that `call` applies (through the fused kernel where
        it can), computed explicitly for inspection such as attention maps.

        Args:
            query: Tensor of shape `(batch, num_queries, query_channels)`.
            key_value: Tensor of shape `(batch, num_keys, key_channels)`.
            mask: Optional boolean tensor of shape `(batch, num_keys)`.
        """
        queries = self._split_heads(self.query_dense(query))
        keys = self._split_heads(self.key_dense(key_value))
        if mask is not None:
            mask = ops.cast(mask, "bool")[:, None, None, :]
        return self._attention_probabilities(queries, keys, mask)

    def _attention_probabilities(self, queries, keys, mask):
        head_channels = self.qk_channels // self.num_heads
        logits = ops.einsum("bqhd,bkhd->bhqk", queries, keys)
        logits = logits / ops.sqrt(ops.cast(head_channels, logits.dtype))
        if mask is not None:
            logits = ops.where(mask, logits, ops.full_like(logits, -1e9))
        return ops.softmax(logits, axis=-1)

    def _split_heads(self, tensor):
        shape = tuple(ops.shape(tensor))
        head_channels = shape[-1] // self.num_heads
        return ops.reshape(tensor, shape[:-1] + (self.num_heads, head_channels))

    def compute_mask(self, *args, **kwargs):
        """The mask is consumed here: the output has no padding."""
        return None

    def compute_output_shape(self, query_shape, key_value_shape):
        return tuple(query_shape[:-1]) + (self.output_channels,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "qk_channels": self.qk_channels,
                "v_channels": self.v_channels,
                "output_channels": self.output_channels,
            }
        )
        return config

import math

import keras
from keras import ops

from keras_perceiver import argument_checks
from keras_perceiver.layers.chunked_attention import chunked_attention
from keras_perceiver.layers.chunked_attention import softmax_chunks

# `input_chunk_size=None`: the whole key/value axis while one example's
# logit matrix (heads x queries x M) has at most this many entries ...
AUTO_MAX_LOGITS = 2**22
# ... and chunks of this many key/value elements above it.
AUTO_CHUNK_SIZE = 4096


def check_heads(num_heads, qk_channels, v_channels):
    """Checks the head arguments of an attention layer.

    Args:
        num_heads: the number of attention heads.
        qk_channels: the query/key width over all heads, or None.
        v_channels: the value width over all heads, or None.

    Returns:
        `(num_heads, qk_channels, v_channels)` as Python ints (or None).

    Raises:
        ValueError: unless `num_heads` is a positive integer and each width
            is None or a positive multiple of it.
    """
    num_heads = argument_checks.check_positive_int("num_heads", num_heads)
    return (
        num_heads,
        argument_checks.check_optional_positive_multiple(
            "qk_channels", qk_channels, "num_heads", num_heads
        ),
        argument_checks.check_optional_positive_multiple(
            "v_channels", v_channels, "num_heads", num_heads
        ),
    )


def _chunk_mask(mask, query_positions, start, stop):
    """The mask of keys `start` to `stop`, broadcasting to the logits
    `(batch, heads, queries, chunk)`: the key mask's slice, and the keys
    each query may see by its position; None where neither is given."""
    masks = []
    if mask is not None:
        masks.append(ops.cast(mask[:, start:stop], "bool")[:, None, None, :])
    if query_positions is not None:
        visible = ops.arange(start, stop)[None, :] <= query_positions[:, None]
        masks.append(visible[None, None])
    if not masks:
        return None
    return masks[0] if len(masks) == 1 else ops.logical_and(*masks)


def per_query_mask(mask):
    """A boolean attention mask of shape `(batch, queries, num_keys)`.

    Args:
        mask: boolean tensor `(batch, num_keys)` (the same keys for every
            query; `queries` is then 1, broadcast over the queries) or
            `(batch, num_queries, num_keys)`.

    Returns:
        The mask as bool, with the query axis.
    """
    mask = ops.cast(mask, "bool")
    return mask[:, None, :] if len(mask.shape) == 2 else mask


def _swap_heads(tensor):
    """`(batch, n, heads, channels)` to `(batch, heads, n, channels)` and
    back.

    The explicit route's products are batched matmuls over `(batch,
    heads)` with these transposes, not the einsums `bqhd,bkhd->bhqk` and
    `bhqk,bkhd->bqhd`: they take Keras-JAX's medium inference 25 % less
    time and its training step 1-8 % less (2026-12-07, Intel Xeon;
    TensorFlow and torch equal within noise; benchmarks/README.md,
    finding 12).
    """
    return ops.transpose(tensor, (0, 2, 1, 3))


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

    A mask over the key/value elements (True = attend) may be given, the
    same for every query `(batch, num_keys)` or one row per query
    `(batch, num_queries, num_keys)` (a causal mask, say). A query whose
    keys are all masked receives zeros instead of NaNs.

    Long key/value axes (a cross-attend over millions of inputs) are split
    into chunks of `input_chunk_size` elements: each chunk's keys, values
    and logits are computed, merged exactly into a running maximum and sum
    per query (an online softmax) and dropped, so that no
    `(heads, queries, M)` logit matrix exists, and the backward pass
    recomputes them chunk by chunk (`keras.remat` on JAX and TensorFlow, a
    backward pass of its own on PyTorch), so that training keeps only the
    key/value array and a few numbers per query (and per chunk, on JAX and
    TensorFlow). The result equals the unchunked attention up to float
    rounding. The implementation is in
    `keras_perceiver/layers/chunked_attention.py`.

    Args:
        num_heads: int. Number of attention heads. Defaults to 1.
        qk_channels: int. Total width of the queries and keys (all heads).
        v_channels: int or None. Total width of the values (all heads).
            Defaults to None, meaning `qk_channels`.
        output_channels: int. Width of the output projection.
        input_chunk_size: int or None. Key/value elements per chunk; a size
            at least the number of key/value elements M means no chunks
            (one pass over the whole axis, through the fused kernel where
            the backend has one). Defaults to None, which picks it: the
            whole axis while one example's logit matrix,
            `num_heads * num_queries * M`, has at most 2**22 (4,194,304)
            entries (16 MiB in float32; M <= 32,768 for 128 queries and one
            head), otherwise chunks of 4096. Chunks need M known when the
            call is traced (always on JAX and PyTorch; on TensorFlow, a
            graph traced with an unknown M attends over the whole axis). A
            mask with one row per query, itself the size of the logit
            matrix, attends over the whole axis too.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        query: Tensor of shape `(batch, num_queries, query_channels)`.
        key_value: Tensor of shape `(batch, num_keys, key_channels)`.
        mask: Optional boolean tensor of shape `(batch, num_keys)` or
            `(batch, num_queries, num_keys)`, True where a query may
            attend; a per-query mask's batch may be 1, the same for every
            example.
        key_value_norm: Optional layer (such as a `LayerNormalization`)
            applied to `key_value` before the key and value projections;
            with chunks, it is applied chunk by chunk, so that the
            normalized array never exists as a whole.

    Example:

    >>> attention = PerceiverAttention(
    ...     num_heads=2, qk_channels=16, output_channels=32)
    >>> latents = keras.random.normal((4, 8, 32))
    >>> inputs = keras.random.normal((4, 100, 5))
    >>> tuple(attention(latents, inputs).shape)
    (4, 8, 32)

    Over a million inputs, in chunks of 8192:

    >>> attention = PerceiverAttention(
    ...     qk_channels=16, output_channels=32, input_chunk_size=8192)
    >>> inputs = keras.random.normal((1, 2**20, 5))
    >>> tuple(attention(latents[:1], inputs).shape)
    (1, 8, 32)

    References:
        - [Milakov and Gimelshein, 2018](https://arxiv.org/abs/1805.02867)
          (the online softmax)
        - [Dao et al., 2022](https://arxiv.org/abs/2205.14135)
    """

    def __init__(
        self,
        num_heads=1,
        qk_channels=None,
        v_channels=None,
        output_channels=None,
        input_chunk_size=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        # Required here; the blocks around the attention default it.
        argument_checks.check_positive_int("qk_channels", qk_channels)
        self.num_heads, self.qk_channels, self.v_channels = check_heads(
            num_heads, qk_channels, v_channels
        )
        self.output_channels = argument_checks.check_positive_int(
            "output_channels", output_channels
        )
        self.input_chunk_size = argument_checks.check_optional_positive_int(
            "input_chunk_size", input_chunk_size
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

    def call(self, query, key_value, mask=None, key_value_norm=None):
        mask = self._check_mask(mask, query, key_value)
        chunk_size = self.chunk_size_for(query.shape[1], key_value.shape[1])
        if chunk_size is not None and (mask is None or len(mask.shape) == 2):
            return self._attend_in_chunks(
                query, key_value, mask, key_value_norm, chunk_size
            )
        keys, values = self.project_key_value(key_value, key_value_norm)
        return self.attend(query, keys, values, mask=mask)

    def chunk_size_for(self, num_queries, num_keys):
        """The chunk size `call` uses for these sizes; None for no chunks.

        Args:
            num_queries: int or None. The number of queries.
            num_keys: int or None. The number of key/value elements M.
        """
        if num_keys is None:
            return None
        chunk_size = self.input_chunk_size
        if chunk_size is None:
            logits = self.num_heads * (num_queries or 1) * num_keys
            if logits <= AUTO_MAX_LOGITS:
                return None
            chunk_size = AUTO_CHUNK_SIZE
        return chunk_size if chunk_size < num_keys else None

    def project_key_value(self, key_value, key_value_norm=None):
        """The keys and values of `key_value`, split into heads.

        Computing them once lets several calls of `attend` on the same
        key/value array share them.

        Args:
            key_value: Tensor of shape `(batch, num_keys, key_channels)`.
            key_value_norm: Optional layer applied to `key_value` first.

        Returns:
            A tuple of the keys `(batch, num_keys, heads, qk_channels /
            heads)` and the values `(batch, num_keys, heads, v_channels /
            heads)`.
        """
        if key_value_norm is not None:
            key_value = key_value_norm(key_value)
        keys = self._split_heads(self.key_dense(key_value))
        values = self._split_heads(self.value_dense(key_value))
        return keys, values

    def attend(self, query, keys, values, mask=None):
        """The attention output for keys and values from `project_key_value`.

        Args:
            query: Tensor of shape `(batch, num_queries, query_channels)`.
            keys: Tensor `(batch, num_keys, heads, qk_channels / heads)`.
            values: Tensor `(batch, num_keys, heads, v_channels / heads)`.
            mask: Optional boolean tensor of shape `(batch, num_keys)` or
                `(batch, num_queries, num_keys)`.

        Returns:
            Tensor of shape `(batch, num_queries, output_channels)`.
        """
        queries = self._split_heads(self.query_dense(query))
        keep = None
        if mask is not None:
            mask = per_query_mask(mask)
            # A row with nothing to attend to would give NaN in some kernels:
            # let it attend everywhere, then zero its output below.
            keep = ops.any(mask, axis=-1)
            mask = ops.logical_or(mask, ops.logical_not(keep)[..., None])
            mask = mask[:, None]
        if self._uses_fused_kernel(queries):
            attended = ops.dot_product_attention(
                queries, keys, values, mask=mask
            )
        else:
            weights = self._attention_probabilities(queries, keys, mask)
            attended = _swap_heads(ops.matmul(weights, _swap_heads(values)))
        return self._output(attended, keep)

    def _attend_in_chunks(self, query, key_value, mask, norm, chunk_size):
        queries = self._split_heads(self.query_dense(query))
        head_channels = self.qk_channels // self.num_heads
        queries = queries * ops.cast(
            1.0 / math.sqrt(head_channels), queries.dtype
        )
        keep = None
        if mask is not None:
            mask = ops.cast(mask, "bool")
            keep = ops.any(mask, axis=-1)[:, None]
        layers = ([] if norm is None else [norm]) + [
            self.key_dense,
            self.value_dense,
        ]
        attended = chunked_attention(
            queries,
            key_value,
            mask,
            project=lambda chunk: self.project_key_value(chunk, norm),
            variables=[v for layer in layers for v in layer.weights],
            chunk_size=chunk_size,
            value_head_channels=self._value_channels // self.num_heads,
        )
        return self._output(attended, keep)

    def _output(self, attended, keep):
        """Merges the heads, projects, zeroes the fully masked rows."""
        attended = ops.reshape(
            attended, tuple(ops.shape(attended)[:2]) + (self._value_channels,)
        )
        output = self.output_dense(attended)
        if keep is not None:
            # `keep` is `(batch, 1)` or `(batch, num_queries)`.
            output = output * ops.cast(keep, output.dtype)[..., None]
        return output

    def _check_mask(self, mask, query, key_value):
        """Raises unless `mask` is `(batch, num_keys)` or `(batch,
        num_queries, num_keys)` for these queries and keys (the latter's
        batch may be 1, for every example)."""
        if mask is None:
            return None
        batch, num_keys = tuple(key_value.shape[:2])
        shape = tuple(mask.shape)
        # A per-query mask of batch 1 is the same for every example.
        broadcast = len(shape) == 3 and shape[0] == 1
        compared = (batch,) + shape[1:] if broadcast else shape
        expected = [(batch, num_keys), (batch, query.shape[1], num_keys)]
        if not any(
            len(shape) == len(option)
            and all(
                a is None or b is None or a == b
                for a, b in zip(compared, option)
            )
            for option in expected
        ):
            raise ValueError(
                "`mask` must have shape (batch, num_keys) or (batch, "
                "num_queries, num_keys), one flag per key/value element "
                f"(per query): {expected[0]} or {expected[1]}. Received: "
                f"mask.shape={shape}"
            )
        return mask

    def _uses_fused_kernel(self, queries):
        """Whether `keras.ops.dot_product_attention` is the faster route.

        Three cases take explicit matmuls and a softmax instead: Keras' JAX
        backend cannot fuse values whose head width differs from the
        query/key head width; PyTorch's CPU flash-attention kernel is
        slower than the matmuls (its backward about 2x slower in bfloat16;
        benchmarks/README.md, finding 2); and on JAX's CPU the explicit
        route's training step is faster (finding 10). GPUs keep the fused
        kernel.
        """
        if self._value_channels != self.qk_channels:
            return False
        backend = keras.config.backend()
        if backend == "torch":
            return queries.device.type != "cpu"
        if backend == "jax":
            import jax

            return jax.default_backend() != "cpu"
        return True

    def attention_weights(self, query, key_value, mask=None):
        """The attention probabilities, shape `(batch, heads, queries, keys)`.

        The same softmax that `call` applies (through the fused kernel where
        it can), computed explicitly for inspection such as attention maps.

        Args:
            query: Tensor of shape `(batch, num_queries, query_channels)`.
            key_value: Tensor of shape `(batch, num_keys, key_channels)`.
            mask: Optional boolean tensor of shape `(batch, num_keys)` or
                `(batch, num_queries, num_keys)`.
        """
        queries = self._split_heads(self.query_dense(query))
        keys = self._split_heads(self.key_dense(key_value))
        if mask is not None:
            mask = per_query_mask(mask)[:, None]
        return self._attention_probabilities(queries, keys, mask)

    def attention_weight_chunks(self, query, key_value, chunk_size,
                                mask=None, key_value_norm=None,
                                query_positions=None):
        """The probabilities of `attention_weights`, chunk by chunk of keys.

        Exact (the softmax's normaliser comes from a first pass over the
        chunks, see `softmax_chunks`), and never more than one chunk's
        logits at a time: for maps over more keys than a
        `(batch, heads, queries, keys)` matrix could hold. For inspection:
        no gradient flows through them.

        Args:
            query: Tensor of shape `(batch, num_queries, query_channels)`.
            key_value: Tensor of shape `(batch, num_keys, key_channels)`.
            chunk_size: int. Keys per chunk.
            mask: Optional boolean tensor of shape `(batch, num_keys)`.
            key_value_norm: Optional layer applied to each chunk of
                `key_value` first.
            query_positions: Optional int tensor `(num_queries,)`: query
                `i` sees only the keys at `query_positions[i]` and before
                (a causal mask, made chunk by chunk, never whole).

        Returns:
            A generator of `(start, probabilities)`, `probabilities` of
            shape `(batch, heads, num_queries, chunk)` (float32) for keys
            `start` to `start + chunk`.
        """
        queries = self._split_heads(self.query_dense(query))

        def chunk_logits(start, stop):
            chunk = key_value[:, start:stop]
            if key_value_norm is not None:
                chunk = key_value_norm(chunk)
            keys = self._split_heads(self.key_dense(chunk))
            chunk_mask = _chunk_mask(mask, query_positions, start, stop)
            # Without gradients: on PyTorch the running statistics would
            # otherwise keep every chunk's autograd graph alive.
            return ops.stop_gradient(ops.cast(
                self._attention_logits(queries, keys, chunk_mask), "float32"
            ))

        return softmax_chunks(chunk_logits, key_value.shape[1], chunk_size)

    def _attention_probabilities(self, queries, keys, mask):
        return ops.softmax(
            self._attention_logits(queries, keys, mask), axis=-1
        )

    def _attention_logits(self, queries, keys, mask):
        """Scaled logits `(batch, heads, queries, keys)`, -1e9 where
        `mask` (broadcasting to them) is False."""
        head_channels = self.qk_channels // self.num_heads
        logits = ops.matmul(_swap_heads(queries),
                            ops.transpose(keys, (0, 2, 3, 1)))
        logits = logits / ops.sqrt(ops.cast(head_channels, logits.dtype))
        if mask is not None:
            logits = ops.where(mask, logits, ops.full_like(logits, -1e9))
        return logits

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
                "input_chunk_size": self.input_chunk_size,
            }
        )
        return config

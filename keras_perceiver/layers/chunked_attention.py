"""Attention over chunks of the key/value axis with an online softmax.

`PerceiverAttention` calls `chunked_attention` when its key/value axis (the
input axis M of a cross-attend) is split into chunks. Each chunk's logits
are computed, folded into a running maximum, a running sum and a running
weighted sum of the values per query (the online softmax of Milakov and
Gimelshein, 2018, as in FlashAttention), and dropped: no
`(heads, queries, M)` logit matrix ever exists. The merge is exact: with
the running maximum `m`, a new chunk of logits `s` and values `v`,
`m' = max(m, max(s))`, `l' = l exp(m - m') + sum(exp(s - m'))` and
`acc' = acc exp(m - m') + exp(s - m') v`, and the output is `acc / l`, the
softmax-weighted sum over all M elements. `softmax_chunks` uses the same
fold to stream the probabilities themselves (attention maps over a large
M) chunk by chunk.

The backward pass recomputes each chunk's keys/values and logits from the
chunk itself (the optional key/value LayerNorm, the key and value
projections, the logits), so that training keeps the byte array and a few
numbers per query, not the per-chunk logits, probabilities, keys or values.

This module is the one place where the backends differ:

- JAX and TensorFlow rematerialise each chunk's step with `keras.remat`
  and keep the per-chunk statistics (`m`, `l` and `acc`) for the backward
  pass.
- JAX: `keras.ops.fori_loop` (a `lax.scan`), and each chunk is sliced out
  of the byte array inside the rematerialised step, so that the backward
  pass keeps no copy of the chunks either.
- TensorFlow: `keras.ops.while_loop` with `maximum_iterations` (XLA needs
  a bounded loop to differentiate it). The chunk is sliced outside the
  rematerialised step: `tf.recompute_grad` returns a gradient for every
  argument, and for the whole byte array that would be a dense array per
  chunk. TensorFlow's loop gradient therefore keeps the chunks, one copy
  of the byte array in all.
- PyTorch: a Python loop over views of the byte array (no copies) in a
  `torch.autograd.Function` with a backward pass of its own, as in
  FlashAttention: the forward pass keeps only the output and each query's
  log-sum-exp `m + log(l)`, from which the backward pass recomputes each
  chunk's probabilities exactly. Keeping per-chunk statistics instead
  (one `torch.utils.checkpoint` per chunk) left a small allocation per
  chunk alive until the backward pass; glibc's allocator carved them out
  of the freed buffers of the chunk before, which the next chunk then
  could not reuse, and the process grew by about a chunk's buffers per
  chunk (10 GiB of resident memory at M = 1,048,576, batch 4; see
  benchmarks/README.md, finding 8).

The weights of the layers the step calls are passed to it explicitly and
read through a `keras.StatelessScope`, so that every backend's
backward pass sees them as inputs and differentiates them
(`tf.recompute_grad` inside a loop cannot differentiate captured
variables).
"""

import functools

import keras
import numpy as np
from keras import ops

# The logit of a masked element: a finite stand-in for minus infinity, so
# that a chunk with nothing to attend to gives exp(0) = 1, never NaN (its
# weights are zeroed explicitly), and the running maximum starts below any
# real logit.
NEGATIVE = -1e30


def chunked_attention(
    queries,
    key_value,
    mask,
    project,
    variables,
    chunk_size,
    value_head_channels,
):
    """Attention of `queries` over `key_value` in chunks of `chunk_size`.

    Args:
        queries: Tensor `(batch, num_queries, heads, head_channels)`, the
            projected queries, already scaled by `1 / sqrt(head_channels)`.
        key_value: Tensor `(batch, M, channels)`, the key/value elements
            before any normalization or projection, with M known and
            greater than `chunk_size`.
        mask: None or boolean tensor `(batch, M)`, True = attend.
        project: function from a chunk `(batch, K, channels)` to its keys
            `(batch, K, heads, head_channels)` and values
            `(batch, K, heads, value_head_channels)`; it may call layers
            whose weights are in `variables`.
        variables: list of the Keras variables that `project` reads.
        chunk_size: int. Elements per chunk, less than M.
        value_head_channels: int. Value width per head.

    Returns:
        The attended values `(batch, num_queries, heads,
        value_head_channels)` in the dtype of `queries`; zeros for a batch
        element whose inputs are all masked.
    """
    dtype = queries.dtype

    def project_chunk(chunk, values):
        """`project(chunk)`, reading the `variables` as `values`."""
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return project(chunk)

    def merge(maximum, total, accumulated, queries, chunk, valid, *values):
        """One chunk folded into the running statistics (float32)."""
        keys, chunk_values = project_chunk(chunk, values)
        logits, valid = _masked_logits(queries, keys, valid)
        new_maximum, total, weights, decay = _fold(
            maximum, total, logits, valid
        )
        weighted = ops.einsum(
            "bqhk,bkhd->bqhd", ops.cast(weights, dtype), chunk_values
        )
        accumulated = accumulated * decay[..., None] + ops.cast(
            weighted, "float32"
        )
        return new_maximum, total, accumulated

    batch = ops.shape(queries)[0]
    num_queries, heads = queries.shape[1], queries.shape[2]
    statistics_shape = (batch, num_queries, heads)
    state = (
        # Not `ops.full`: on PyTorch it calls `.item()`, which the meta
        # device (Keras' shape inference) cannot, and Keras then reruns
        # the forward pass on real ones of the inputs' shape.
        ops.zeros(statistics_shape, "float32") + NEGATIVE,
        ops.zeros(statistics_shape, "float32"),
        ops.zeros(statistics_shape + (value_head_channels,), "float32"),
    )
    values = [variable.value for variable in variables]
    if keras.config.backend() == "torch":
        attended = _torch_chunked_attention().apply(
            merge, project_chunk, state, mask, chunk_size, queries,
            key_value, *values
        )
    else:
        loop = _LOOPS[keras.config.backend()]
        _, total, accumulated = loop(
            merge, state, queries, key_value, mask, values, chunk_size
        )
        attended = accumulated / _nonzero(total)[..., None]
    return ops.cast(attended, dtype)


def softmax_chunks(chunk_logits, num_inputs, chunk_size):
    """The softmax over the last axis of logits made chunk by chunk, exact.

    Two passes over the chunks: the first folds each chunk's logits into a
    running maximum and sum (the online softmax of `chunked_attention`),
    which are the softmax's normaliser; the second makes each chunk's
    logits again and yields their probabilities
    `exp(logits - maximum) / sum`, the slice of the whole softmax. No more
    than one chunk's logits exist at a time.

    Args:
        chunk_logits: function from `(start, stop)` to the float32 logits
            `(..., stop - start)` of elements `start` to `stop` of the last
            axis; called twice per chunk.
        num_inputs: int. The length M of the last axis.
        chunk_size: int. Elements per chunk (the last chunk may be
            shorter).

    Yields:
        `(start, probabilities)` per chunk in order, `probabilities` of
        shape `(..., stop - start)` in float32.

    Example:

    >>> logits = keras.random.normal((2, 10))
    >>> chunks = softmax_chunks(lambda a, b: logits[:, a:b], 10, 4)
    >>> [start for start, _ in chunks]
    [0, 4, 8]
    """
    bounds = [(start, min(start + chunk_size, num_inputs))
              for start in range(0, num_inputs, chunk_size)]
    maximum = total = None
    for start, stop in bounds:
        logits = chunk_logits(start, stop)
        if maximum is None:
            maximum = ops.zeros(logits.shape[:-1], "float32") + NEGATIVE
            total = ops.zeros(logits.shape[:-1], "float32")
        maximum, total, _, _ = _fold(maximum, total, logits, 1.0)
    # Not exp(logits - (maximum + log(total))): next to a masked row's
    # maximum (-1e9) the log of its total is below float32's resolution.
    maximum, total = maximum[..., None], total[..., None]
    for start, stop in bounds:
        yield start, ops.exp(chunk_logits(start, stop) - maximum) / total


def maps_averaged_over_heads(chunks):
    """Attention maps from their chunks, averaged over heads, as NumPy.

    Args:
        chunks: iterable of `(start, probabilities)` in order, as
            `PerceiverAttention.attention_weight_chunks` yields them:
            `probabilities` of shape `(batch, heads, N, chunk)`.

    Returns:
        A float32 NumPy array `(batch, N, M)`: the chunks' mean over heads,
        joined along the inputs. Each chunk becomes NumPy before the next
        is made, so the heads' whole matrix never exists.

    Example:

    >>> probabilities = keras.ops.full((1, 2, 3, 4), 0.25)
    >>> maps_averaged_over_heads([(0, probabilities), (4, probabilities)]).shape
    (1, 3, 8)
    """
    return np.concatenate(
        [ops.convert_to_numpy(ops.mean(maps, axis=1)) for _, maps in chunks],
        axis=-1,
    )


def _fold(maximum, total, logits, valid):
    """One chunk's logits folded into the running maximum and sum.

    Args:
        maximum, total: the running maximum and sum `(...,)`, float32.
        logits: the chunk's logits `(..., K)`, float32.
        valid: 1 (or a 0/1 float array broadcasting to `logits`) where an
            element counts.

    Returns:
        The new maximum and sum, the chunk's weights `exp(logits -
        new maximum) * valid` and the factor `exp(maximum - new maximum)`
        that rescales what was summed before.
    """
    new_maximum = ops.maximum(
        maximum, ops.stop_gradient(ops.max(logits, axis=-1))
    )
    weights = ops.exp(logits - new_maximum[..., None]) * valid
    decay = ops.exp(maximum - new_maximum)
    total = total * decay + ops.sum(weights, axis=-1)
    return new_maximum, total, weights, decay


def _masked_logits(queries, keys, valid):
    """A chunk's logits `(batch, queries, heads, K)` in float32, NEGATIVE
    where `valid` `(batch, K)` is 0, and `valid` broadcast to match."""
    logits = ops.einsum("bqhd,bkhd->bqhk", queries, keys)
    valid = valid[:, None, None, :]
    return ops.where(valid > 0, ops.cast(logits, "float32"), NEGATIVE), valid


def _nonzero(total):
    """The softmax denominators, 1 where nothing was attended to."""
    return ops.where(total > 0, total, ops.ones_like(total))


def _chunk_bounds(index, num_inputs, chunk_size):
    """Start of chunk `index` and its valid elements (float 0/1, `(K,)`).

    Every chunk has `chunk_size` elements: the last one starts at
    `M - chunk_size` and so overlaps the one before, whose elements it
    masks out, instead of padding the byte array (a copy).
    """
    first = index * chunk_size
    start = ops.minimum(first, num_inputs - chunk_size)
    positions = start + ops.arange(chunk_size)
    return start, ops.cast(positions >= first, "float32")


def _slice_chunk(key_value, mask, index, chunk_size):
    """Chunk `index` of the byte array and its valid elements `(B, K)`."""
    batch, num_inputs, channels = ops.shape(key_value)
    start, valid = _chunk_bounds(index, num_inputs, chunk_size)
    chunk = ops.slice(key_value, [0, start, 0], [batch, chunk_size, channels])
    valid = ops.broadcast_to(valid[None], (batch, chunk_size))
    if mask is not None:
        chunk_mask = ops.slice(mask, [0, start], [batch, chunk_size])
        valid = valid * ops.cast(chunk_mask, "float32")
    return chunk, valid


def _jax_loop(merge, state, queries, key_value, mask, values, chunk_size):
    """`lax.scan` over the chunks, each sliced inside the remat'd step."""
    num_chunks = -(-key_value.shape[1] // chunk_size)

    def step(index, state, queries, key_value, mask, values):
        chunk, valid = _slice_chunk(key_value, mask, index, chunk_size)
        return merge(*state, queries, chunk, valid, *values)

    # A new function per call: jax.checkpoint caches traces by function.
    step = keras.remat(step)
    return ops.fori_loop(
        0,
        num_chunks,
        lambda index, state: step(index, state, queries, key_value, mask,
                                  values),
        state,
    )


def _tensorflow_loop(merge, state, queries, key_value, mask, values,
                     chunk_size):
    """A bounded `tf.while_loop`; chunks sliced outside `recompute_grad`."""
    num_chunks = -(-key_value.shape[1] // chunk_size)
    merge = keras.remat(merge)

    def body(index, state):
        chunk, valid = _slice_chunk(key_value, mask, index, chunk_size)
        return index + 1, merge(*state, queries, chunk, valid, *values)

    _, state = ops.while_loop(
        lambda index, state: index < num_chunks,
        body,
        (0, state),
        maximum_iterations=num_chunks,
    )
    return state


def _torch_chunks(key_value, mask, chunk_size):
    """The chunks of the byte array (views) and their valid elements."""
    for start in range(0, key_value.shape[1], chunk_size):
        chunk = key_value[:, start:start + chunk_size]
        if mask is None:
            valid = ops.ones(tuple(chunk.shape[:2]), "float32")
        else:
            valid = ops.cast(mask[:, start:start + chunk_size], "float32")
        yield chunk, valid


@functools.cache
def _torch_chunked_attention():
    """The `torch.autograd.Function` of the PyTorch backend (made once)."""
    import torch

    class ChunkedAttention(torch.autograd.Function):
        """Chunked attention whose backward pass recomputes each chunk.

        `apply(merge, project_chunk, state, mask, chunk_size, queries,
        key_value, *values)` returns the attended values in float32.
        """

        @staticmethod
        def forward(ctx, merge, project_chunk, state, mask, chunk_size,
                    queries, key_value, *values):
            maximum, total, accumulated = state
            for chunk, valid in _torch_chunks(key_value, mask, chunk_size):
                maximum, total, accumulated = merge(
                    maximum, total, accumulated, queries, chunk, valid,
                    *values
                )
            total = _nonzero(total)
            output = accumulated / total[..., None]
            ctx.project_chunk, ctx.mask = project_chunk, mask
            ctx.chunk_size = chunk_size
            ctx.save_for_backward(queries, key_value, output,
                                  maximum + ops.log(total), *values)
            return output

        @staticmethod
        def backward(ctx, output_gradient):
            queries, key_value, output, log_sum, *values = ctx.saved_tensors
            wants_inputs = ctx.needs_input_grad[6]
            output_dot = ops.sum(output_gradient * output, axis=-1)
            query_gradient = None
            value_gradients = [None] * len(values)
            input_gradients = []
            for chunk, valid in _torch_chunks(key_value, ctx.mask,
                                              ctx.chunk_size):
                with torch.enable_grad():
                    chunk = chunk.detach().requires_grad_(wants_inputs)
                    leaves = [value.detach().requires_grad_()
                              for value in values]
                    keys, chunk_values = ctx.project_chunk(chunk, leaves)
                query_part, keys_gradient, values_gradient = (
                    _chunk_gradients(queries, keys.detach(),
                                     chunk_values.detach(), valid, log_sum,
                                     output_gradient, output_dot)
                )
                query_gradient = _sum_of(query_gradient, query_part)
                gradients = torch.autograd.grad(
                    (keys, chunk_values),
                    leaves + ([chunk] if wants_inputs else []),
                    (ops.cast(keys_gradient, keys.dtype),
                     ops.cast(values_gradient, chunk_values.dtype)),
                    allow_unused=True,
                )
                value_gradients = [
                    _sum_of(so_far, gradient) for so_far, gradient
                    in zip(value_gradients, gradients)
                ]
                if wants_inputs:
                    input_gradients.append(gradients[-1])
            input_gradient = (ops.concatenate(input_gradients, axis=1)
                              if wants_inputs else None)
            return (None, None, None, None, None,
                    ops.cast(query_gradient, queries.dtype), input_gradient,
                    *value_gradients)

    return ChunkedAttention


def _chunk_gradients(queries, keys, values, valid, log_sum, output_gradient,
                     output_dot):
    """One chunk's share of the attention gradient (float32).

    With the probabilities `p = exp(s - log_sum)` of the chunk's logits `s`
    (masked as in the forward pass), the output gradient `dO` and
    `output_dot = dO . output` per query: `dV = p^T dO`,
    `dS = p (dO V^T - output_dot)`, `dQ = dS K` and `dK = dS^T Q`.

    Returns:
        The chunk's part of the query gradient, and the gradients of its
        keys and values.
    """
    # The forward pass's logits, exactly (the same function).
    logits, valid = _masked_logits(queries, keys, valid)
    probabilities = ops.exp(logits - log_sum[..., None]) * valid
    values_gradient = ops.einsum("bqhk,bqhd->bkhd", probabilities,
                                 output_gradient)
    logits_gradient = probabilities * (
        ops.einsum("bqhd,bkhd->bqhk", output_gradient,
                   ops.cast(values, "float32"))
        - output_dot[..., None]
    )
    query_part = ops.einsum("bqhk,bkhd->bqhd", logits_gradient,
                            ops.cast(keys, "float32"))
    keys_gradient = ops.einsum("bqhk,bqhd->bkhd", logits_gradient,
                               ops.cast(queries, "float32"))
    return query_part, keys_gradient, values_gradient


def _sum_of(so_far, gradient):
    """`so_far + gradient`, where None (nothing yet, or unused) is 0."""
    if gradient is None:
        return so_far
    return gradient if so_far is None else so_far + gradient


_LOOPS = {"jax": _jax_loop, "tensorflow": _tensorflow_loop}

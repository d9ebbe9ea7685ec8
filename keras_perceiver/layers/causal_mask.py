"""The causal attention mask of autoregressive models."""

from keras import ops


def causal_mask(num_queries, num_keys, key_mask=None):
    """Which keys each query may attend to, when queries are the last keys.

    Query `i` sits at the absolute position `num_keys - num_queries + i` of
    the key sequence and sees the keys at that position and before it (a
    Perceiver AR's latents over its whole input, or a self-attend).

    Args:
        num_queries: int. The number of queries, at most `num_keys`.
        num_keys: int. The number of keys.
        key_mask: Optional boolean tensor `(batch, num_keys)`, False for
            padding keys, which no query sees.

    Returns:
        A boolean tensor `(1, num_queries, num_keys)`, or `(batch,
        num_queries, num_keys)` with `key_mask`.

    Example:

    >>> keras.ops.convert_to_numpy(causal_mask(2, 3))[0].astype(int)
    array([[1, 1, 0],
           [1, 1, 1]])
    """
    query_positions = ops.arange(num_queries) + (num_keys - num_queries)
    mask = ops.arange(num_keys)[None, :] <= query_positions[:, None]
    mask = mask[None]
    if key_mask is not None:
        mask = ops.logical_and(mask, ops.cast(key_mask, "bool")[:, None, :])
    return mask

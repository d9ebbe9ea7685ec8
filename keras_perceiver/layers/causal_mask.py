"""The causal attention mask of autoregressive models."""

from keras import ops


def causal_mask(num_queries, num_keys, key_mask=None, start=None):
    """Which keys each query may attend to, when queries are keys too.

    Query `i` sits at position `start + i` of the key sequence and sees the
    keys at that position and before it: by default (`start=None`) the
    queries are the last `num_queries` keys (a Perceiver AR's latents over
    its whole input, or a self-attend); a generation step with a key/value
    cache gives the position of its first new query.

    Args:
        num_queries: int. The number of queries.
        num_keys: int. The number of keys.
        key_mask: Optional boolean tensor `(batch, num_keys)`, False for
            padding keys, which no query sees.
        start: int, scalar tensor or None. The position of the first
            query. Defaults to None, meaning `num_keys - num_queries`.

    Returns:
        A boolean tensor `(1, num_queries, num_keys)`, or `(batch,
        num_queries, num_keys)` with `key_mask`.

    Example:

    >>> keras.ops.convert_to_numpy(causal_mask(2, 3))[0].astype(int)
    array([[1, 1, 0],
           [1, 1, 1]])
    """
    if start is None:
        start = num_keys - num_queries
    query_positions = ops.arange(num_queries) + start
    mask = ops.arange(num_keys)[None, :] <= query_positions[:, None]
    mask = mask[None]
    if key_mask is not None:
        mask = ops.logical_and(mask, ops.cast(key_mask, "bool")[:, None, :])
    return mask

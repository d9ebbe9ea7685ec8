"""Helpers the modalities share to make model inputs of variable length.

Inputs of variable length (audio clips, sequences, point clouds, videos)
become `{"inputs", "mask"}`: cut or padded to one length, with a mask that
is True over the real entries.
"""

import numpy as np

from keras_perceiver import argument_checks


def cut_or_padded(values, length):
    """`values` cut or padded with zeros along the first axis to `length`,
    with a mask over its real entries (TensorFlow ops).

    Args:
        values: tensor `(n, ...)`.
        length: int.

    Returns:
        `{"inputs": (length, ...), "mask": bool (length,)}`.

    Example:

    >>> cut_or_padded(tf.ones((3, 2)), 5)["mask"].numpy()
    array([ True,  True,  True, False, False])
    """
    import tensorflow as tf

    values = values[:length]
    count = tf.shape(values)[0]
    padding = [[0, length - count]] + [[0, 0]] * (values.shape.rank - 1)
    return {"inputs": tf.ensure_shape(tf.pad(values, padding),
                                      (length, *values.shape[1:])),
            "mask": tf.range(length) < count}


def padded_rows(rows, length):
    """Rows `(n, width)` (at most `length`) padded with zeros to `length`
    rows, and the mask over the real ones (NumPy).

    Args:
        rows: float array `(n, width)`, n <= length.
        length: int.

    Returns:
        `(float32 (length, width), bool (length,))`.

    Example:

    >>> padded_rows(np.ones((2, 3)), 4)[1]
    array([ True,  True, False, False])
    """
    padded = np.zeros((length, rows.shape[1]), "float32")
    padded[: len(rows)] = rows
    return padded, np.arange(length) < len(rows)


def numpy_inputs(reader, path, preprocessing, shape):
    """`{"inputs", "mask"}` of a file read by NumPy code inside a tf.data
    pipeline.

    Args:
        reader: callable `(path str, preprocessing) -> (inputs, mask)`,
            float32 `shape` and bool `shape[:1]`.
        path: string tensor. The file.
        preprocessing: dict. Passed to `reader`.
        shape: tuple of ints. The shape of the inputs.

    Returns:
        `{"inputs": float32 shape, "mask": bool shape[:1]}` tensors.

    Example:

    >>> numpy_inputs(read_rows, path, {"max_length": 8}, (8, 2))
    """
    import tensorflow as tf

    inputs, mask = tf.numpy_function(
        lambda path: reader(path.decode(), preprocessing), [path],
        ["float32", "bool"],
    )
    return {"inputs": tf.ensure_shape(inputs, shape),
            "mask": tf.ensure_shape(mask, shape[:1])}


def chosen_length(max_length, lengths, multiple=1):
    """The length inputs are cut or padded to: `max_length`, or the
    longest of `lengths`, rounded up to a multiple of `multiple`.

    Args:
        max_length: int or None. The user's choice.
        lengths: list of ints. The lengths of the data.
        multiple: int. Defaults to 1.

    Returns:
        int.

    Raises:
        ValueError: if `max_length` is not a positive integer.

    Example:

    >>> chosen_length(None, [300, 200], multiple=256)
    512
    """
    if max_length is None:
        length = int(max(lengths))
    else:
        length = argument_checks.check_positive_int("max_length", max_length)
    return -(-length // multiple) * multiple

"""Splitting and ordering in-memory examples: the train/validation split
every data set, stream and device shares, and the seeded order of a data
set's training examples."""

import math

import keras
import numpy as np


def num_fitted_examples(num_examples, validation_split):
    """How many of `num_examples` training examples are fitted; the rest
    (the last ones) are held out for validation, as Keras'
    `fit(validation_split=...)` holds them out."""
    return int(math.floor(num_examples * (1.0 - validation_split)))


def split_validation(x, y, validation_split):
    """Holds out the last `validation_split` of the examples for validation.

    The examples Keras' `fit(validation_split=...)` holds out, so in-memory
    data, streams (`StreamedDataset.fit_data`) and several devices
    validate on the same examples.

    Args:
        x: a NumPy array or a (nested) dict of them.
        y: NumPy array of labels.
        validation_split: float in [0, 1). Share held out; 0 holds out
            nothing.

    Returns:
        `((x_fitted, y_fitted), validation_data)`, `validation_data` being
        `(x_held_out, y_held_out)`, or None when `validation_split` is 0.

    Raises:
        ValueError: a split that leaves no example to fit or none to
            validate on.

    Example:

    >>> (x_fit, y_fit), (x_val, y_val) = split_validation(
    ...     np.zeros((10, 3)), np.arange(10), 0.2)
    >>> y_val
    array([8, 9])
    """
    if not validation_split:
        return (x, y), None
    split_at = num_fitted_examples(len(y), validation_split)
    if split_at in (0, len(y)):
        raise ValueError(
            f"The validation split must leave examples both to fit and to "
            f"validate on. Received: validation_split={validation_split} "
            f"of {len(y)} examples"
        )
    fitted, held_out = slice(None, split_at), slice(split_at, None)
    return _examples(x, y, fitted), _examples(x, y, held_out)


def shuffled_examples(x, y, max_examples=None, seed=0):
    """The examples in a seeded random order, at most `max_examples` of them.

    Args:
        x: a NumPy array or a (nested) dict of them.
        y: NumPy array of labels.
        max_examples: int or None. Keep only this many. Defaults to None
            (all).
        seed: int. Seed of the order. Defaults to 0.

    Returns:
        `(x, y)`, shuffled (and cut).

    Example:

    >>> x, y = shuffled_examples(np.zeros((100, 3)), np.arange(100), 10)
    >>> len(y)
    10
    """
    order = np.random.default_rng(seed).permutation(len(y))[:max_examples]
    return _examples(x, y, order)


def _examples(x, y, index):
    return keras.tree.map_structure(lambda array: array[index], x), y[index]

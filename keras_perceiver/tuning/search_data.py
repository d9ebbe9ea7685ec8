"""`search_data`: the examples a search trains and selects on."""

import warnings

from keras_perceiver.datasets.splits import shuffled_examples
from keras_perceiver.datasets.splits import split_validation

# Fewer validation examples than this make the best trial a lottery.
MIN_VALIDATION_EXAMPLES = 10


def search_data(dataset, validation_split, max_train_samples=None, seed=0):
    """The examples to search on: `((x_train, y_train), (x_val, y_val))`.

    A random sample of the training data (all of it, or
    `max_train_samples`, drawn with `seed`) whose last `validation_split`
    is held out to select on. Warns when fewer than 10 examples are held
    out: their scores, which choose the best trial, are mostly noise.

    Args:
        dataset: a `keras_perceiver.datasets.Dataset` (in-memory arrays).
        validation_split: float in (0, 1). The share held out.
        max_train_samples: int or None. The sample's size (validation
            included); None takes every example. Defaults to None.
        seed: int. Draws the sample. Defaults to 0.

    Returns:
        `((x_train, y_train), (x_val, y_val))`.

    Raises:
        ValueError: if the split leaves no example to train on.

    Example:

    >>> (x, y), validation_data = search_data(data, 0.1, 1000)
    """
    x, y = shuffled_examples(dataset.x_train, dataset.y_train,
                             max_train_samples, seed)
    try:
        fitted, validation_data = split_validation(x, y, validation_split)
    except ValueError:
        raise ValueError(
            f"--validation-split {validation_split} (validation_split) of "
            f"{len(y)} examples leaves none to train on"
        ) from None
    num_validation = len(validation_data[1])
    if num_validation < MIN_VALIDATION_EXAMPLES:
        warnings.warn(
            f"only {num_validation} validation examples: the validation "
            "scores that choose the best trial are mostly noise; use more "
            "examples (--max-train-samples, max_train_samples) or a larger "
            "--validation-split",
            stacklevel=2,
        )
    return fitted, validation_data

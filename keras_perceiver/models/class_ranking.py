"""A classifier's most probable classes, by name: `top_classes`."""

import numpy as np


def class_names_of(model, num_classes):
    """The model's class names, or its class numbers as str.

    Example:

    >>> class_names_of(keras.Sequential(), 3)
    ['0', '1', '2']
    """
    return (getattr(model, "class_names", None)
            or [str(index) for index in range(num_classes)])


def top_classes(probabilities, class_names, top_k):
    """The `top_k` classes of each row of `probabilities`, most probable
    first (ties in class order).

    Args:
        probabilities: array of shape `(examples, classes)`.
        class_names: list of str, one per class.
        top_k: int. Classes per example (at most all of them).

    Returns:
        One list per example of `(class name, probability)` pairs.

    Example:

    >>> top_classes(np.array([[0.2, 0.8]]), ["cat", "dog"], 1)
    [[('dog', 0.8)]]
    """
    probabilities = np.asarray(probabilities)
    return [
        [(class_names[index], float(row[index]))
         for index in np.argsort(-row, kind="stable")[:top_k]]
        for row in probabilities
    ]


def class_probabilities(model, data, **predict_kwargs):
    """The softmax of a classifier's logits on `data`, as NumPy.

    Args:
        model: a classifier that outputs logits.
        data: what `model.predict` takes.
        **predict_kwargs: more `model.predict` arguments (`batch_size`).

    Returns:
        An array of shape `(examples, classes)`.

    Raises:
        ValueError: if a prediction is not finite (its input holds NaN or
            infinite values where it is not masked).

    Example:

    >>> probabilities = class_probabilities(model, x, batch_size=64)
    """
    import keras

    logits = model.predict(data, verbose=0, **predict_kwargs)
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    not_finite = np.flatnonzero(~np.isfinite(probabilities).all(axis=-1))
    if len(not_finite):
        raise ValueError(
            f"the predictions of {len(not_finite)} examples (the first: "
            f"example {not_finite[0]}) are not finite: their inputs hold "
            "NaN or infinite values where they are not masked"
        )
    return probabilities

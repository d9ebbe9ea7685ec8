"""Data sets from one `.npz` file of arrays or one `.csv` table."""

import csv
import pathlib

import numpy as np

from keras_perceiver.datasets.dataset import Dataset
from keras_perceiver.datasets.local_files import load_npz

ARRAY_MODALITIES = ("image", "points", "sequence")


def load_npz_source(path, modality=None, test_fraction=0.2, seed=0):
    """A data set from an `.npz` file: `x_train`, `y_train` and optionally
    `x_test`, `y_test` and `class_names`.

    Images are `(n, height, width[, channels])` (uint8 values are scaled to
    [0, 1]); `(n, elements, features)` arrays are point clouds or sequences
    (say which with `modality`); `(n, features)` rows are tabular data,
    read as sequences of one feature per element. Labels may be ints or
    strings. Without `x_test`, `test_fraction` of the examples (a seeded
    random sample) is held out for testing.

    Args:
        path: str or path. The `.npz` file.
        modality: str or None. "image", "points" or "sequence". Defaults to
            None: images for 4-D arrays and 3-D uint8 ones, sequences for
            2-D ones.
        test_fraction: float in (0, 1). Defaults to 0.2.
        seed: int. Seed of the held-out sample. Defaults to 0.

    Returns:
        A `Dataset` (in memory).

    Example:

    >>> np.savez("data.npz", x_train=images, y_train=labels)
    >>> data = load_npz_source("data.npz")
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise ValueError(f"The .npz file does not exist. Received: {path}")
    arrays = load_npz(path, ("x_train", "y_train"), "an .npz data source")
    x = arrays["x_train"]
    modality = _array_modality(x, modality, path)
    parts = [(_inputs(x, modality), arrays["y_train"])]
    if "x_test" in arrays.files and "y_test" in arrays.files:
        parts.append((_inputs(arrays["x_test"], modality), arrays["y_test"]))
    names = arrays["class_names"] if "class_names" in arrays.files else None
    return _labelled_dataset(path.name, parts, modality, names,
                             test_fraction, seed)


def load_csv_source(path, label_column="label", test_fraction=0.2, seed=0):
    """A data set from a CSV table: one example per row, numeric feature
    columns and a label column (ints or names), with a header row.

    Each row becomes a sequence of its features (one element per column,
    `(n, features, 1)`). `test_fraction` of the rows (a seeded random
    sample) is held out for testing.

    Args:
        path: str or path. The `.csv` file.
        label_column: str. The header of the label column. Defaults to
            "label".
        test_fraction: float in (0, 1). Defaults to 0.2.
        seed: int. Seed of the held-out sample. Defaults to 0.

    Returns:
        A `Dataset` (in memory) with modality "sequence".

    Example:

    >>> data = load_csv_source("iris.csv", label_column="species")
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise ValueError(f"The CSV file does not exist. Received: {path}")
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    header = rows[0] if rows else []
    if label_column not in header:
        raise ValueError(
            f"{path} has no label column {label_column!r}; name it with "
            f"label_column (--label-column). Received columns: {header}"
        )
    label_index = header.index(label_column)
    labels = np.array([row[label_index] for row in rows[1:]])
    try:
        features = np.array(
            [[float(value) for i, value in enumerate(row) if i != label_index]
             for row in rows[1:]], "float32",
        )
    except ValueError as error:
        raise ValueError(
            f"{path}: the feature columns must be numbers ({error}). "
            f"Received columns: {header}"
        ) from None
    return _labelled_dataset(path.name, [(features[..., None], labels)],
                             "sequence", None, test_fraction, seed)


def _array_modality(x, modality, path):
    if modality is not None:
        if modality not in ARRAY_MODALITIES:
            raise ValueError(
                f"`modality` of array data must be one of {ARRAY_MODALITIES}. "
                f"Received: modality={modality!r}"
            )
        return modality
    if x.ndim == 4 or (x.ndim == 3 and x.dtype == np.uint8):
        return "image"
    if x.ndim == 2:
        return "sequence"
    raise ValueError(
        f"Cannot tell the modality of {path}'s x_train of shape {x.shape}: "
        "choose it with modality ('image', 'points' or 'sequence'). "
        f"Received: modality=None"
    )


def _inputs(x, modality):
    x = np.asarray(x)
    if modality == "image":
        scale = 255.0 if x.dtype == np.uint8 else 1.0
        x = x[..., None] if x.ndim == 3 else x
        return (x / scale).astype("float32")
    return (x[..., None] if x.ndim == 2 else x).astype("float32")


def _labelled_dataset(name, parts, modality, class_names, test_fraction,
                      seed):
    """A `Dataset` from `[(x_train, y_train)]` or with `(x_test, y_test)`;
    labels become class indices, names from `class_names` or the values."""
    values = np.concatenate([np.asarray(y).reshape(-1) for _, y in parts])
    if class_names is None:
        class_names, indices = np.unique(values, return_inverse=True)
    else:
        indices = values.astype("int64")
    class_names = [str(name) for name in class_names]
    if len(class_names) < 2:
        raise ValueError(
            "A classifier needs at least two classes. Received: labels "
            f"{class_names} in {name}"
        )
    x = [x for x, _ in parts]
    y = np.split(indices.astype("int64"), [len(parts[0][1])])
    if len(parts) == 1:
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(
                "`test_fraction` must be between 0 and 1. Received: "
                f"test_fraction={test_fraction}"
            )
        order = np.random.default_rng(seed).permutation(len(indices))
        num_test = max(1, int(round(len(order) * test_fraction)))
        test, train = order[:num_test], order[num_test:]
        x, y = [x[0][train], x[0][test]], [indices[train], indices[test]]
    return Dataset(name=name, x_train=x[0], y_train=y[0], x_test=x[1],
                   y_test=y[1], class_names=class_names, modality=modality)

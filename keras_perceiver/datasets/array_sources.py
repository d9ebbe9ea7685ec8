"""Data sets from one `.npz` file of arrays or one `.csv` table.

Both are checked whole when they are loaded, so that nothing wrong reaches
training: a feature that is not a finite number, a CSV row of the wrong
length, labels that do not match the examples or the class names are
refused with a `ValueError` that names the file and the place (the CSV
line and column, the array and the example's index).
"""

import csv
import math
import pathlib
import zipfile

import numpy as np

from keras_perceiver.datasets.dataset import Dataset
from keras_perceiver.datasets.local_files import load_npz

ARRAY_MODALITIES = ("image", "points", "sequence")
# Dimensions of x per modality: images (n, height, width[, channels]),
# points and sequences (n, elements[, features]).
MODALITY_RANKS = {"image": (3, 4), "points": (2, 3), "sequence": (2, 3)}
NPZ_ARRAYS = ("x_train", "y_train", "x_test", "y_test", "class_names")
# Whole-number float labels up to this size are read as ints exactly.
LARGEST_EXACT_INT = 2**53


def load_npz_source(path, modality=None, test_fraction=0.2, seed=0):
    """A data set from an `.npz` file: `x_train`, `y_train` and optionally
    `x_test`, `y_test` and `class_names`.

    Images are `(n, height, width[, channels])` (uint8 values are scaled to
    [0, 1]); `(n, elements, features)` arrays are point clouds or sequences
    (say which with `modality`); `(n, features)` rows are tabular data,
    read as sequences of one feature per element. Labels are one per
    example, ints or strings (whole-number floats count as ints); with
    `class_names`, ints index it and strings must be among its names.
    Without `x_test`, `test_fraction` of the examples (a seeded random
    sample) is held out for testing.

    Args:
        path: str or path. The `.npz` file.
        modality: str or None. "image", "points" or "sequence". Defaults to
            None: images for 4-D arrays and 3-D uint8 ones, sequences for
            2-D ones.
        test_fraction: float in (0, 1). Defaults to 0.2.
        seed: int. Seed of the held-out sample. Defaults to 0.

    Returns:
        A `Dataset` (in memory).

    Raises:
        ValueError: naming the array and the example: features that are
            not finite numbers, labels whose count differs from the
            examples', labels outside `class_names`, `x_test` without
            `y_test` (or the reverse).

    Example:

    >>> np.savez("data.npz", x_train=images, y_train=labels)
    >>> data = load_npz_source("data.npz")
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise ValueError(f"The .npz file does not exist. Received: {path}")
    with load_npz(path, ("x_train", "y_train"),
                  "an .npz data source") as archive:
        if ("x_test" in archive.files) != ("y_test" in archive.files):
            raise ValueError(
                f"{path} must hold both x_test and y_test, or neither. "
                f"Received arrays: {sorted(archive.files)}"
            )
        arrays = {key: _array(archive, key, path) for key in NPZ_ARRAYS
                  if key in archive.files}
    splits = ("train", "test") if "x_test" in arrays else ("train",)
    modality = _array_modality(arrays["x_train"], modality, path)
    parts = [_npz_part(arrays, split, modality, path) for split in splits]
    if len(parts) == 2 and parts[1][0].shape[1:] != parts[0][0].shape[1:]:
        raise ValueError(
            f"{path}: x_test's examples must have x_train's shape. Received: "
            f"{parts[1][0].shape[1:]} and {parts[0][0].shape[1:]}"
        )
    names = (_class_names(arrays["class_names"], path)
             if "class_names" in arrays else None)
    return _labelled_dataset(path, parts, modality, names, test_fraction,
                             seed)


def load_csv_source(path, label_column="label", test_fraction=0.2, seed=0):
    """A data set from a CSV table: one example per row, numeric feature
    columns and a label column (ints or names), with a header row.

    Each row becomes a sequence of its features (one element per column,
    `(n, features, 1)`). Blank lines are ignored. Labels that are all
    numbers are compared as numbers: "1" and "1.0" are one class, named
    "1". `test_fraction` of the rows (a seeded random sample) is held out
    for testing.

    Args:
        path: str or path. The `.csv` file (UTF-8).
        label_column: str. The header of the label column. Defaults to
            "label".
        test_fraction: float in (0, 1). Defaults to 0.2.
        seed: int. Seed of the held-out sample. Defaults to 0.

    Returns:
        A `Dataset` (in memory) with modality "sequence".

    Raises:
        ValueError: naming the line (and column): a row with more or fewer
            cells than the header, a feature that is not a finite number,
            an empty label.

    Example:

    >>> data = load_csv_source("iris.csv", label_column="species")
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise ValueError(f"The CSV file does not exist. Received: {path}")
    (_, header), *rows = _csv_rows(path) or [(1, [])]
    if label_column not in header:
        raise ValueError(
            f"{path} has no label column {label_column!r}; name it with "
            f"label_column (--label-column). Received columns: {header}"
        )
    if len(header) < 2 or not rows:
        raise ValueError(
            f"{path} must hold a header and rows of features and a label "
            f"(at least one feature column). Received: columns {header} and "
            f"{len(rows)} rows"
        )
    label_index = header.index(label_column)
    features, labels = [], []
    for line, row in rows:
        place = f"{path}, line {line}"
        if len(row) != len(header):
            raise ValueError(
                f"{place} has {len(row)} cells, but the header has "
                f"{len(header)} columns: give every row one value per "
                f"column. Received: {row}"
            )
        features.append([
            _csv_number(value, f"{place}, column {header[column]!r}")
            for column, value in enumerate(row) if column != label_index
        ])
        labels.append(_csv_label(row[label_index], place))
    x = np.array(features, "float32").reshape(len(rows), -1, 1)
    return _labelled_dataset(path, [(x, _csv_labels(labels, path))],
                             "sequence", None, test_fraction, seed)


def _csv_rows(path):
    """`(line, cells)` of each row that is not blank (the header first)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file)
            return [(reader.line_num, row) for row in reader
                    if any(cell.strip() for cell in row)]
    except (csv.Error, UnicodeDecodeError) as error:
        raise ValueError(
            f"{path} is not a readable UTF-8 CSV file ({error})."
        ) from None


def _csv_number(value, place):
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(
            f"{place}: the feature columns must hold finite numbers; fill "
            f"in or drop the row. Received: {value!r}"
        )
    return number


def _csv_label(value, place):
    if not value.strip():
        raise ValueError(
            f"{place}: the label is empty; give every row a label or drop "
            "it. Received: an empty cell"
        )
    return value.strip()


def _csv_labels(labels, path):
    """The labels, as numbers when all are finite numbers ("1" and "1.0"
    are one class), else as names."""
    try:
        numbers = np.array([float(label) for label in labels])
    except ValueError:
        return np.array(labels)
    if not np.isfinite(numbers).all():
        return np.array(labels)
    return _label_values(numbers, f"{path}'s labels")


def _array(archive, key, path):
    """One array of an `.npz` file, or a `ValueError` naming it."""
    try:
        return archive[key]
    except (ValueError, OSError, EOFError, MemoryError,
            zipfile.BadZipFile) as error:
        raise ValueError(
            f"{path}: the array {key} cannot be read "
            f"({type(error).__name__}: {error}). Received: {path}"
        ) from None


def _npz_part(arrays, split, modality, path):
    """`(inputs, labels)` of a split, checked against each other."""
    x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
    inputs = _inputs(x, modality, f"{path}'s x_{split}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or len(y) != len(inputs):
        raise ValueError(
            f"{path}: y_{split} must hold one label per example of "
            f"x_{split}, shape ({len(inputs)},). Received: x_{split} of "
            f"{len(inputs)} examples and y_{split} of shape {y.shape}"
        )
    return inputs, _label_values(y, f"{path}'s y_{split}")


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


def _inputs(x, modality, where):
    """Float32 model inputs from an array checked for `modality`: numbers,
    finite, of the modality's rank, no empty axis."""
    if x.dtype.kind not in "biuf":
        raise ValueError(
            f"{where} must hold numbers. Received: dtype {x.dtype}"
        )
    ranks = MODALITY_RANKS[modality]
    if x.ndim not in ranks or 0 in x.shape[1:]:
        raise ValueError(
            f"{where} must be {modality} data: {ranks[0]} or {ranks[1]} "
            f"dimensions, none of them empty. Received: shape {x.shape}"
        )
    _check_finite(x, where)
    if modality == "image":
        scale = 255.0 if x.dtype == np.uint8 else 1.0
        x = x[..., None] if x.ndim == 3 else x
        return x.astype("float32") / np.float32(scale)
    return (x[..., None] if x.ndim == 2 else x).astype("float32")


def _check_finite(values, where):
    finite = np.isfinite(values) if values.dtype.kind == "f" else True
    if not np.all(finite):
        index = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(
            f"{where}[{index[0]}] holds {values[index]} at {index}: the "
            "values must be finite numbers; replace or drop that example. "
            f"Received: {int(np.size(finite) - np.sum(finite))} values "
            "that are NaN or infinite"
        )


def _label_values(y, where):
    """Labels as ints (whole-number floats too) or strings."""
    if y.dtype.kind in "US":
        return y.astype(str)
    if y.dtype.kind in "biu":
        return y.astype("int64")
    if y.dtype.kind == "f":
        _check_finite(y, where)
        if np.all(y == np.round(y)) and np.all(np.abs(y) < LARGEST_EXACT_INT):
            return y.astype("int64")
        return y
    raise ValueError(
        f"{where} must hold ints or strings. Received: dtype {y.dtype}"
    )


def _class_names(names, path):
    if names.ndim != 1 or names.dtype.kind not in "biuUS":
        raise ValueError(
            f"{path}: class_names must be a list of names, one per class. "
            f"Received: dtype {names.dtype} and shape {names.shape}"
        )
    names = [str(name) for name in names.astype(str)]
    if len(set(names)) < len(names):
        raise ValueError(
            f"{path}: class_names must not repeat a name. Received: {names}"
        )
    return names


def _labelled_dataset(path, parts, modality, class_names, test_fraction,
                      seed):
    """A `Dataset` named after the file `path` from `[(x_train, y_train)]`
    or with `(x_test, y_test)`; labels become class indices, names from
    `class_names` or the values."""
    kinds = {y.dtype.kind for _, y in parts}
    if len(kinds) > 1:
        raise ValueError(
            f"{path}: y_train and y_test must both hold ints or both "
            f"strings. Received: dtypes {[str(y.dtype) for _, y in parts]}"
        )
    if class_names is None:
        values = np.unique(np.concatenate([y for _, y in parts]))
        class_names = [str(value) for value in values]
        lookup = {value: index for index, value in enumerate(values.tolist())}
    elif kinds == {"U"}:
        lookup = {value: index for index, value in enumerate(class_names)}
    else:
        lookup = {index: index for index in range(len(class_names))}
    if len(class_names) < 2:
        raise ValueError(
            "A classifier needs at least two classes. Received: labels "
            f"{class_names} in {path}"
        )
    x = [x for x, _ in parts]
    y = [_class_indices(labels, lookup, class_names, f"{path}'s y_{split}")
         for (_, labels), split in zip(parts, ("train", "test"))]
    if len(parts) == 1:
        x, y = _held_out(x[0], y[0], test_fraction, seed, path)
    return Dataset(name=path.name, x_train=x[0], y_train=y[0], x_test=x[1],
                   y_test=y[1], class_names=class_names, modality=modality)


def _class_indices(labels, lookup, class_names, where):
    indices = np.array([lookup.get(label, -1) for label in labels.tolist()],
                       "int64")
    unknown = np.flatnonzero(indices < 0)
    if len(unknown):
        index = int(unknown[0])
        raise ValueError(
            f"{where}[{index}] is {labels[index].item()!r}, not a class of "
            f"class_names (indices 0 to {len(class_names) - 1} or the names "
            f"{class_names}): fix the label or add its class. Received: "
            f"{len(unknown)} such labels"
        )
    return indices


def _held_out(x, y, test_fraction, seed, path):
    """`[x_train, x_test], [y_train, y_test]`: a seeded random sample of
    `test_fraction` of the examples held out."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(
            "`test_fraction` must be between 0 and 1. Received: "
            f"test_fraction={test_fraction}"
        )
    order = np.random.default_rng(seed).permutation(len(y))
    num_test = max(1, int(round(len(order) * test_fraction)))
    if num_test >= len(order):
        raise ValueError(
            f"{path} has too few examples to hold out a test split and "
            f"train on the rest. Received: {len(order)} examples"
        )
    test, train = order[:num_test], order[num_test:]
    return [x[train], x[test]], [y[train], y[test]]

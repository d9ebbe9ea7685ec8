"""Sequences: time steps x features, read from `.npy` or `.csv` files.

A sequence file holds one time step per row; sequences are cut or padded
to one length with a mask. The adapter is a `SequenceAdapter` (each step
an element); attention is drawn over the step index.
"""

import pathlib

import numpy as np

from keras_perceiver import adapters
from keras_perceiver.modalities import attention_drawing, inputs
from keras_perceiver.modalities.modality import Modality
from keras_perceiver.modalities.registry import register

SEQUENCE_EXTENSIONS = (".npy", ".csv")


def read_sequence(path):
    """The sequence in a file as float32 `(steps, features)`.

    `.npy`: an array `(steps,)` (one feature) or `(steps, features)`.
    `.csv`: one time step per row, one feature per column; a first row
    that is not numeric is taken as a header and skipped.

    Args:
        path: str or path. The file.

    Returns:
        float32 array `(steps, features)` with at least one step.

    Raises:
        ValueError: the file cannot be read as a sequence (the message says
            why).

    Example:

    >>> pathlib.Path("walk.csv").write_text("x,y\\n0,1\\n2,3\\n4,5\\n")
    >>> read_sequence("walk.csv").shape
    (3, 2)
    """
    path = pathlib.Path(path)
    if path.suffix.lower() not in SEQUENCE_EXTENSIONS:
        raise ValueError(
            f"Sequences must be {' or '.join(SEQUENCE_EXTENSIONS)} files. "
            f"Received: {path}"
        )
    try:
        if path.suffix.lower() == ".npy":
            steps = np.load(path, allow_pickle=False)
        else:
            steps = _read_csv_rows(path)
        steps = np.asarray(steps, "float32")
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise ValueError(
            f"{path} is not a readable sequence ({error}). Received: {path}"
        ) from None
    if steps.ndim == 1:
        steps = steps[:, None]
    if steps.ndim != 2 or len(steps) == 0:
        raise ValueError(
            f"{path} must hold an array (steps,) or (steps, features). "
            f"Received an array of shape {steps.shape}"
        )
    return steps


def _read_csv_rows(path):
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    if lines and not _is_numeric_row(lines[0]):
        lines = lines[1:]
    return np.loadtxt(lines, delimiter=",", ndmin=2)


def _is_numeric_row(line):
    try:
        [float(value) for value in line.split(",")]
    except ValueError:
        return False
    return True


def _preprocessing(facts, max_length=None, **_):
    """Sequences (facts: their shapes) of one width, cut or padded to
    `max_length` steps (default: the longest)."""
    widths = sorted({shape[1] for shape in facts})
    if len(widths) > 1:
        raise ValueError(
            "The sequences must all have the same number of features. "
            f"Received: {widths} features"
        )
    return {"modality": "sequence", "num_features": widths[0],
            "max_length": inputs.chosen_length(max_length,
                                               [s[0] for s in facts])}


def _read(path, preprocessing):
    return inputs.numpy_inputs(
        _steps, path, preprocessing,
        (preprocessing["max_length"], preprocessing["num_features"]),
    )


def _steps(path, preprocessing):
    steps = read_sequence(path)[: preprocessing["max_length"]]
    return inputs.padded_rows(steps, preprocessing["max_length"])


def _prepare(steps, preprocessing):
    """A TFDS sequence feature's values `(steps, features)` or `(steps,)`."""
    import tensorflow as tf

    return inputs.cut_or_padded(
        tf.reshape(tf.cast(steps, "float32"),
                   (-1, preprocessing["num_features"])),
        preprocessing["max_length"],
    )


SEQUENCE = register(Modality(
    name="sequence",
    plural="sequences",
    adapter_factory=adapters.SequenceAdapter,
    adapter_options=(),
    attention_drawer=attention_drawing.signal_drawer,
    extensions=SEQUENCE_EXTENSIONS,
    inspect=lambda path: read_sequence(path).shape,
    preprocessing=_preprocessing,
    read=_read,
    prepare=_prepare,
))

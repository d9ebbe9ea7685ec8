"""Reading one sequence (time steps x features) from a `.npy` or `.csv` file."""

import pathlib

import numpy as np

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

"""A byte corpus that ships with Python: the standard library's source."""

import os
import pathlib

import numpy as np

from keras_perceiver import argument_checks
from keras_perceiver.preprocessing.byte_tokenizer import ByteTokenizer


def stdlib_folder():
    """The folder of the running Python's standard library (`os.py`'s)."""
    return pathlib.Path(os.__file__).parent


def load_stdlib_bytes(validation_fraction=0.1, folder=None):
    """The standard library's `*.py` files as training and validation bytes.

    Nothing is downloaded: the corpus is the `*.py` files directly in the
    running Python's standard library folder (168 files, 4.7 MB for
    Python 3.11), read in sorted name order and split by file, so that no
    file is in both parts: the files at evenly spread places of the sorted
    list (a `validation_fraction` of them) are the validation part. Each
    part is its files' bytes, concatenated. The same Python gives the same
    bytes; another version has other files, so record the version with
    any result.

    Args:
        validation_fraction: float in (0, 1). The share of the files held
            out. Defaults to 0.1.
        folder: path-like or None. Read this folder's `*.py` files instead.
            Defaults to None, the standard library (`stdlib_folder()`).

    Returns:
        A dict: `"train"` and `"validation"` (NumPy uint8 arrays of bytes),
        `"train_files"` and `"validation_files"` (the file names), and
        `"folder"` (str).

    Raises:
        ValueError: for a fraction outside (0, 1) or a folder with fewer
            than two `*.py` files.

    Example:

    >>> corpus = load_stdlib_bytes()
    >>> corpus["train"].dtype, len(corpus["validation_files"]) > 0
    (dtype('uint8'), True)
    """
    if (
        not isinstance(validation_fraction, (int, float))
        or not 0 < validation_fraction < 1
    ):
        raise ValueError(
            "`validation_fraction` must be a number in (0, 1). Received: "
            f"validation_fraction={validation_fraction!r}"
        )
    folder = pathlib.Path(folder) if folder is not None else stdlib_folder()
    files = sorted(folder.glob("*.py"))
    if len(files) < 2:
        raise ValueError(
            "The corpus needs at least two *.py files (one to train on, one "
            f"to validate on). Received: {len(files)} in {folder}"
        )
    held_out = [
        int((index + 1) * validation_fraction)
        > int(index * validation_fraction)
        for index in range(len(files))
    ]
    parts = {"train": [], "validation": []}
    for path, validation in zip(files, held_out):
        parts["validation" if validation else "train"].append(path)
    if not parts["validation"] or not parts["train"]:
        raise ValueError(
            f"`validation_fraction` leaves no file in one part of the "
            f"{len(files)} files. Received: "
            f"validation_fraction={validation_fraction!r}"
        )
    corpus = {"folder": str(folder)}
    for name, paths in parts.items():
        corpus[name] = np.frombuffer(
            b"".join(path.read_bytes() for path in paths), dtype="uint8"
        )
        corpus[f"{name}_files"] = [path.name for path in paths]
    return corpus


def byte_windows(data, length, num_windows, seed=0):
    """Windows of `length` consecutive bytes as `ByteTokenizer` token ids.

    The windows start at random places of `data` (drawn with `seed`, so
    the same arguments give the same windows); byte `b` is id `b + 6`.
    For next-byte training of `PerceiverCausalLM` take `length =
    max_context + 1`: the inputs are a window's first `max_context` ids,
    the targets its last `num_latents`.

    Args:
        data: NumPy uint8 array of bytes, e.g. a part of
            `load_stdlib_bytes()`.
        length: int. Bytes per window, at most `len(data)`.
        num_windows: int. The number of windows.
        seed: int. Seed of the start places. Defaults to 0.

    Returns:
        An int32 NumPy array `(num_windows, length)`.

    Example:

    >>> ids = byte_windows(np.frombuffer(b"import os\\n", "uint8"), 4, 2)
    >>> ids.shape
    (2, 4)
    """
    length = argument_checks.check_positive_int("length", length)
    num_windows = argument_checks.check_positive_int("num_windows", num_windows)
    if length > len(data):
        raise ValueError(
            f"`length` must be at most the {len(data)} bytes of `data`. "
            f"Received: length={length}"
        )
    starts = np.random.default_rng(seed).integers(
        0, len(data) - length + 1, size=num_windows
    )
    windows = np.stack([data[start: start + length] for start in starts])
    return windows.astype("int32") + ByteTokenizer.num_special_tokens

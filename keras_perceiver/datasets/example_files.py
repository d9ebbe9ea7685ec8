"""Examples stored as arrays, and the files named to classify."""

import pathlib
import zipfile

import numpy as np

from keras_perceiver.datasets import file_inputs


def load_examples(path):
    """The examples of a `.npy` array or a `.npz` file of named arrays.

    Args:
        path: str or path.

    Returns:
        A NumPy array, or a dict of them (dict inputs such as
        `{"inputs", "mask"}`).

    Raises:
        ValueError: if the file is missing or not a readable `.npy` or
            `.npz` file.

    Example:

    >>> inputs = load_examples("examples.npz")
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise ValueError(f"input file not found: {path}")
    try:
        data = np.load(path)
        if isinstance(data, np.ndarray):
            return data
        return {key: data[key] for key in data.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(
            f"{path} is not a readable .npy or .npz file ({error})"
        ) from None


def files_to_classify(arguments, modality):
    """The files named, and those of `modality` in the folders named
    (sorted, nested folders included).

    Args:
        arguments: list of str or path. Files and folders.
        modality: str. A registered modality that reads files
            (`keras_perceiver.modalities.with_files()`).

    Returns:
        A list of str.

    Raises:
        ValueError: a missing file, a file of another format, or a folder
            without files of `modality`.

    Example:

    >>> files_to_classify(["photos/", "cat.png"], "image")
    """
    paths = []
    for argument in arguments:
        path = pathlib.Path(argument)
        if path.is_dir():
            found = sorted(str(p) for p in path.rglob("*") if p.is_file())
            found = file_inputs.files_of(modality, found)
            if not found:
                raise ValueError(f"no {modality} files in {path}")
            paths += found
        elif not path.is_file():
            raise ValueError(f"file not found: {path}")
        elif not file_inputs.files_of(modality, [path]):
            raise ValueError(
                f"{path} is not a {modality} file; the model reads "
                f"{', '.join(file_inputs.file_extensions(modality))} "
                "files"
            )
        else:
            paths.append(str(path))
    return paths

"""Finding a data set's files in a local folder, with clear errors."""

import pathlib
import zipfile


def require_data_dir(data_dir, dataset, filenames):
    """Raises unless a folder was given, for data sets with no download.

    Args:
        data_dir: str, path or None. The folder given by the user.
        dataset: str. The data set's name, for the message.
        filenames: sequence of str. The files the folder must hold.
    """
    if data_dir is None:
        raise ValueError(
            f"{dataset} needs a data directory holding "
            f"{' and '.join(filenames)}. Received: data_dir=None"
        )


def find_file(data_dir, filename, dataset):
    """Returns `data_dir/filename`, or raises a ValueError that says what is
    missing.

    Args:
        data_dir: str or path. The folder given by the user.
        filename: str. The file the data set needs inside it.
        dataset: str. The data set's name, for the message.
    """
    folder = pathlib.Path(data_dir)
    if not folder.is_dir():
        raise ValueError(
            f"The {dataset} data directory does not exist. "
            f"Received: data_dir={str(data_dir)!r}"
        )
    path = folder / filename
    if not path.is_file():
        raise ValueError(
            f"The {dataset} data directory must contain {filename}. "
            f"Received: data_dir={str(data_dir)!r}"
        )
    return path


def load_npz(path, required_keys, dataset):
    """Opens an `.npz` file and checks that it holds `required_keys`."""
    import numpy as np

    try:
        data = np.load(path, allow_pickle=False)
        files = getattr(data, "files", None)
        # A damaged archive (bad CRC, cut short) fails here, not later.
        damaged = None if files is None else data.zip.testzip()
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(
            f"{path} is not a readable .npz file for {dataset} ({error}). "
            f"Received: {path}"
        ) from None
    if damaged is not None:
        raise ValueError(
            f"{path} is not a readable .npz file for {dataset} (its member "
            f"{damaged} is damaged). Received: {path}"
        )
    if files is None:
        raise ValueError(
            f"{path} must be an .npz archive for {dataset}, not a single "
            f"array. Received: {path}"
        )
    missing = [key for key in required_keys if key not in files]
    if missing:
        raise ValueError(
            f"{path} is not in the {dataset} format: it lacks the arrays "
            f"{missing}. Received arrays: {sorted(files)}"
        )
    return data

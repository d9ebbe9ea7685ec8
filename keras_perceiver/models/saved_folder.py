"""Writing a model's folder whole, and only over a folder written before.

`save_to_preset` and `pretrained.save_transformers_checkpoint` write a
folder of files. Like `export_saved_model`, they write it under a
temporary name beside the target and rename it into place once complete,
so a failure or a kill never leaves half a folder (a folder replaced is
renamed aside first and removed last); and they replace an
existing folder only when asked to (`overwrite=True`) and only when
keras-perceiver wrote it: its marker file (`metadata.json` of a preset,
`config.json` of a transformers checkpoint) names the keras-perceiver
version that wrote it.
"""

import json
import os
import shutil
import tempfile

# The key of the marker file that says keras-perceiver wrote the folder.
VERSION_KEY = "keras_perceiver_version"
# A marker file larger than this is not one keras-perceiver wrote.
MAX_MARKER_BYTES = 16 * 2**20


def write_folder(path, write, marker, overwrite=False):
    """Writes a folder through `write(staging)`, then moves it to `path`.

    Args:
        path: str or path-like. The folder to create.
        write: callable taking the staging folder's path; writes the files,
            `marker` among them (a JSON object holding `VERSION_KEY`).
        marker: str. The name of the marker file.
        overwrite: bool. Whether an earlier folder of the same kind (one
            whose `marker` holds `VERSION_KEY`) may be replaced. Defaults
            to False.

    Returns:
        The absolute path of the folder, as a str.

    Raises:
        ValueError: if `path` exists and is not an empty folder (unless
            `overwrite` and it is an earlier one), is the working folder or
            one above it, or cannot be written.

    Example:

    >>> write_folder("preset", lambda folder: ..., "metadata.json")
    """
    path = os.path.abspath(os.fspath(path))
    check_target(path, marker, overwrite)
    parent = os.path.dirname(path)
    try:
        os.makedirs(parent, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=".keras-perceiver-", dir=parent)
    except OSError as error:
        raise ValueError(
            f"Cannot write beside {path!r}: {error.strerror or error}. "
            f"Received: path={path!r}"
        ) from None
    retired = f"{staging}-replaced"
    try:
        write(staging)
        check_target(path, marker, overwrite)  # It may have changed since.
        if os.path.isdir(path):
            os.rename(path, retired)  # Kept until the new one is in place.
        os.replace(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)
    return path


def check_target(path, marker, overwrite):
    """Raises a `ValueError` unless `write_folder` may write `path`."""
    working = os.path.realpath(os.getcwd())
    if os.path.commonpath([os.path.realpath(path), working]) == (
        os.path.realpath(path)
    ):
        raise ValueError(
            "The folder must not be the working folder or one above it. "
            f"Received: path={path!r}"
        )
    if not os.path.lexists(path) or _is_empty_folder(path):
        return
    if not overwrite:
        raise ValueError(
            "The folder must not exist or be empty; pass overwrite=True to "
            "replace one that keras-perceiver wrote. "
            f"Received: path={path!r}, which exists and is not empty"
        )
    if not written_by_keras_perceiver(path, marker):
        raise ValueError(
            "overwrite=True replaces only a folder that keras-perceiver "
            f"wrote (its {marker} names the version that wrote it); choose "
            "another folder, or remove it yourself. "
            f"Received: path={path!r}, which is not one"
        )


def written_by_keras_perceiver(folder, marker):
    """Whether `folder` is a real folder whose `marker` file is a JSON
    object holding `VERSION_KEY`.

    Example:

    >>> written_by_keras_perceiver("my_preset", "metadata.json")
    True
    """
    path = os.path.join(folder, marker)
    if os.path.islink(folder) or not os.path.isdir(folder) or (
        os.path.islink(path) or not os.path.isfile(path)
    ):
        return False
    try:
        if os.path.getsize(path) > MAX_MARKER_BYTES:
            return False
        with open(path, encoding="utf-8") as file:
            content = json.load(file)
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(content, dict) and VERSION_KEY in content


def write_json(folder, name, value):
    """Writes `value` as indented JSON to `folder/name`."""
    with open(os.path.join(folder, name), "w", encoding="utf-8") as file:
        json.dump(value, file, indent=2)
        file.write("\n")


def _is_empty_folder(path):
    return (os.path.isdir(path) and not os.path.islink(path)
            and not os.listdir(path))

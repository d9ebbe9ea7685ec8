"""Writing files so that a kill leaves either the old file or the new one.

A file is written under a temporary name beside its destination, flushed
to disk (`fsync`) and renamed over the destination; the rename is atomic
on POSIX file systems, and the folder is synced too so that the rename
survives a power cut. A kill at any moment leaves the destination whole
(old or new) and at worst a stray `.tmp-*` file, which
`remove_temporary_files` clears.
"""

import contextlib
import os
import pathlib
import re

TEMPORARY_PREFIX = ".tmp-"
# `atomic_path`'s temporary names: the prefix, a process id, the name.
TEMPORARY_NAME = re.compile(re.escape(TEMPORARY_PREFIX) + r"\d+-.+")


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path to write; moves it onto `path` on success.

    The temporary name ends like `path` (`.keras`, `.weights.h5`, `.png`),
    so writers that infer the format from the name accept it. If the block
    raises, `path` is left as it was and the temporary file is removed.

    Args:
        path: str or path. The file to write.

    Example:

    >>> with atomic_path("model.keras") as temporary:
    ...     model.save(temporary)
    """
    path = pathlib.Path(path)
    temporary = path.with_name(f"{TEMPORARY_PREFIX}{os.getpid()}-{path.name}")
    try:
        yield temporary
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
        sync_folder(path.parent)
    finally:
        temporary.unlink(missing_ok=True)


def write_text_atomically(path, text):
    """Writes `text` to `path` through `atomic_path`."""
    with atomic_path(path) as temporary:
        pathlib.Path(temporary).write_text(text)


def sync_folder(folder):
    """Flushes a folder's entries (new names, renames) to disk."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_temporary_files(folder):
    """Removes the `.tmp-<pid>-*` files an interrupted `atomic_path` left
    (regular files only; other `.tmp-*` names are left alone)."""
    for stray in pathlib.Path(folder).iterdir():
        if (TEMPORARY_NAME.fullmatch(stray.name) and stray.is_file()
                and not stray.is_symlink()):
            stray.unlink(missing_ok=True)

"""The bad-input suite's checks: refused in one line, nothing else touched.

Every case of the suite (the `bad_input_*_test.py` files) feeds the
command or a Python loader something wrong and checks two things: the
answer is one line that names the problem (exit status 2 on the command
line, a `ValueError` in Python), and no file outside the tool's own
changed. `folder_digest` hashes a folder (names, contents, link targets,
kinds) so a test can compare it before and after.
"""

import contextlib
import hashlib
import os
import pathlib

import pytest

from command_line import one_line_error


def folder_digest(folder):
    """A hash of everything under `folder`: each entry's relative path, its
    kind, a link's target (never followed) and a file's bytes (not
    permissions or times)."""
    digest = hashlib.sha256()
    folder = pathlib.Path(folder)
    if not folder.exists() and not folder.is_symlink():
        return "absent"
    entries = sorted(folder.rglob("*")) if folder.is_dir() else [folder]
    for entry in entries:
        name = str(entry.relative_to(folder)) if entry != folder else "."
        digest.update(name.encode() + b"\0")
        if entry.is_symlink():
            digest.update(b"link:" + os.readlink(entry).encode())
        elif entry.is_file():
            digest.update(b"file:" + entry.read_bytes())
        else:
            digest.update(b"folder")
        digest.update(b"\0")
    return digest.hexdigest()


@contextlib.contextmanager
def unchanged(*folders):
    """Asserts that nothing under `folders` changed inside the block."""
    before = [folder_digest(folder) for folder in folders]
    yield
    after = [folder_digest(folder) for folder in folders]
    for folder, old, new in zip(folders, before, after):
        assert old == new, f"{folder} changed"


def assert_refused(result, *fragments):
    """The command exited with status 2 and one error line holding every
    fragment (case-insensitive); returns that line."""
    line = one_line_error(result)
    for fragment in fragments:
        assert fragment.lower() in line.lower(), (fragment, line)
    return line


def assert_value_error(call, *fragments):
    """`call()` raises a ValueError whose message holds every fragment
    (case-insensitive); returns the message."""
    with pytest.raises(ValueError) as raised:
        call()
    message = str(raised.value)
    for fragment in fragments:
        assert fragment.lower() in message.lower(), (fragment, message)
    return message

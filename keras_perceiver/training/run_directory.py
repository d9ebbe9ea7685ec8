"""One training run per output directory: `RunDirectory`."""

import errno
import fcntl
import os
import pathlib
import re
import stat
import time
import warnings

LOCK_NAME = ".lock"
LATEST_NAME = "latest"
MARKER_NAME = ".keras-perceiver"
MARKER_TEXT = (
    "keras-perceiver created this folder: it writes, replaces and deletes "
    "only its own files here.\n"
)
# A lock file holds a process id, or nothing once released.
LOCK_CONTENT = re.compile(rb"\d{0,20}\s*")


class RunDirectory:
    """An output directory that this tool owns and one live process holds.

    Ownership: `lock()` writes a marker file, `.keras-perceiver`, into every
    directory it creates (or finds empty), and refuses with a `ValueError`,
    before writing anything, a non-empty directory without it: a folder of
    other files is never written to unless the caller says to `adopt` it.

    Holding: `lock()` then takes an exclusive `fcntl.flock` lock on the
    `.lock` file and writes the process id there. The operating system
    releases the lock when the process ends, however it ends (a kill
    included), so a lock left by a dead process is never in force: the next
    run takes it over, with a warning naming the process that left it.
    While a live process holds the lock, `lock()` raises a `ValueError`
    naming that process. A `.lock` that is not a regular file of one link
    holding a process id (a symbolic link, for one) is refused and never
    written.

    `RunDirectory.new(parent)` makes a fresh directory
    `parent/<YYYYmmdd-HHMMSS>` for each run (a suffix `-2`, `-3`... when
    two start in the same second) and points the symlink `parent/latest`
    at it.

    Args:
        path: str or path. The output directory.
        adopt: bool. Write the marker into a non-empty directory without
            one (the caller knows it may write there). Defaults to False.

    Example:

    >>> with RunDirectory.new("runs/digits") as run:
    ...     model.save(run.path / "model.keras")
    >>> RunDirectory("runs/digits/latest").lock()  # the same run, resumed
    """

    def __init__(self, path, adopt=False):
        self.path = pathlib.Path(path)
        self.adopt = adopt
        self._lock_file = None

    @classmethod
    def new(cls, parent):
        """A fresh directory under `parent`, which `parent/latest` names."""
        parent = pathlib.Path(parent)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        _make_folder(parent, exist_ok=True)
        _check_latest(parent / LATEST_NAME)
        for attempt in range(1, 1000):
            name = stamp if attempt == 1 else f"{stamp}-{attempt}"
            try:
                (parent / name).mkdir()
            except FileExistsError:
                continue
            except OSError as error:
                raise _cannot_write(parent, error) from None
            try:
                _point_latest_at(parent, name)
            except OSError as error:
                raise _cannot_write(parent, error) from None
            return cls(parent / name)
        raise ValueError(
            f"Too many runs started in {parent} this second. Received: "
            f"{parent}"
        )

    @classmethod
    def held(cls, path, overwrite=False, written_before=False,
             subfolder=None):
        """The directory at `path`, locked for a run that writes results.

        A non-empty folder without the marker is refused unless
        `written_before` or `overwrite`; with `overwrite`, the caller's own
        `subfolder` must not be there (another tool's would be read and
        pruned as the caller's).

        Args:
            path: str or path. The output directory.
            overwrite: bool. Write into a folder of other files (they are
                left alone). Defaults to False.
            written_before: bool. `path` holds the caller's records, written
                by a release before the marker file. Defaults to False.
            subfolder: str or None. The caller's own subfolder
                ("checkpoints"). Defaults to None.

        Returns:
            The locked `RunDirectory`.

        Example:

        >>> run = RunDirectory.held("runs/a", subfolder="checkpoints")
        """
        directory = cls(path, adopt=written_before or overwrite)
        if (overwrite and not written_before and subfolder
                and directory.foreign()
                and os.path.lexists(directory.path / subfolder)):
            raise ValueError(
                f"{directory.path / subfolder} was not written by "
                "keras-perceiver, and --overwrite-output-dir "
                "(overwrite_output_dir=True) leaves other tools' files "
                "alone: move it away, or choose another output directory"
            )
        try:
            return directory.lock()
        except ValueError as error:
            if directory.foreign() and not directory.adopt:
                raise ValueError(
                    f"{error}; or add --overwrite-output-dir "
                    "(overwrite_output_dir=True) to write there beside them"
                ) from None
            raise

    def owned(self):
        """Whether the directory holds this tool's marker file."""
        return _is_regular_file(self.path / MARKER_NAME)

    def foreign(self):
        """Whether the directory holds entries but not this tool's marker."""
        return not self.owned() and _has_entries(self.path)

    def lock(self):
        """Holds the directory for this process, or raises `ValueError`."""
        self._claim()
        lock_file, holder = _open_lock_file(self.path / LOCK_NAME)
        if not os.access(self.path, os.W_OK):
            lock_file.close()
            raise _cannot_write(self.path, PermissionError("read-only"))
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.close()
            raise ValueError(
                f"The output directory {self.path} is in use by another "
                f"run (process {holder or 'unknown'}); wait for it to end "
                "or choose another directory"
            ) from None
        if holder:
            warnings.warn(
                f"Taking over {self.path}: process {holder}, which held "
                "it, ended without releasing it",
                stacklevel=2,
            )
        lock_file.seek(0)
        lock_file.truncate(0)
        lock_file.write(f"{os.getpid()}\n".encode())
        lock_file.flush()
        self._lock_file = lock_file
        return self

    def release(self):
        """Lets other processes have the directory."""
        if self._lock_file is None:
            return
        self._lock_file.truncate(0)
        self._lock_file.flush()
        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        self._lock_file.close()
        self._lock_file = None

    def __enter__(self):
        return self.lock()

    def __exit__(self, *exception):
        self.release()

    def _claim(self):
        """Creates the directory and its marker; refuses another's."""
        if self.foreign() and not self.adopt:
            raise ValueError(
                f"The output directory {self.path} holds files that "
                f"keras-perceiver did not write (it has no {MARKER_NAME} "
                "file), so it writes nothing there; choose a new or empty "
                "directory"
            )
        _make_folder(self.path, exist_ok=True)
        marker = self.path / MARKER_NAME
        try:
            descriptor = os.open(
                marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                0o644,
            )
        except FileExistsError:
            if not self.owned():
                raise ValueError(
                    f"{marker} is not keras-perceiver's marker file (not a "
                    "regular file); remove it or choose another directory"
                ) from None
            return
        except OSError as error:
            raise _cannot_write(self.path, error) from None
        with os.fdopen(descriptor, "w") as file:
            file.write(MARKER_TEXT)


def _open_lock_file(path):
    """The lock file (binary, read and write) and the process id it holds.

    Only a regular file of one link holding nothing or a process id is
    opened: never through a symbolic link (`O_NOFOLLOW`), and never one
    whose writing would change another file.
    """
    flags = (os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
             | os.O_CLOEXEC)
    try:
        descriptor = os.open(path, flags, 0o644)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO):
            raise _not_a_lock(path, "a symbolic link or not a file") from None
        raise _cannot_write(path.parent, error) from None
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode):
        os.close(descriptor)
        raise _not_a_lock(path, "not a regular file")
    lock_file = os.fdopen(descriptor, "r+b")
    content = lock_file.read(64)
    problem = None
    if status.st_nlink != 1:
        problem = "a hard link, which writing would change elsewhere"
    elif not LOCK_CONTENT.fullmatch(content):
        problem = "it holds something other than a process id"
    if problem:
        lock_file.close()
        raise _not_a_lock(path, problem)
    return lock_file, content.decode().strip()


def _not_a_lock(path, problem):
    return ValueError(
        f"{path} is not a lock file of keras-perceiver ({problem}); it is "
        "left as it is: remove it or choose another directory"
    )


def _is_regular_file(path):
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _has_entries(path):
    try:
        with os.scandir(path) as entries:
            return any(True for _ in entries)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as error:
        raise _cannot_write(path, error) from None


def _make_folder(path, exist_ok):
    try:
        path.mkdir(parents=True, exist_ok=exist_ok)
    except OSError as error:
        raise ValueError(
            f"Cannot create the output directory {path}: "
            f"{error.strerror or error}"
        ) from None


def _cannot_write(path, error):
    return ValueError(
        f"Cannot write to the output directory {path}: "
        f"{getattr(error, 'strerror', None) or error}"
    )


def _check_latest(latest):
    """Refuses a `latest` that is not a symbolic link (another's file)."""
    if os.path.lexists(latest) and not latest.is_symlink():
        raise ValueError(
            f"{latest} is not a link that keras-perceiver made; it is left "
            "as it is: move it away or choose another output directory"
        )


def _point_latest_at(parent, name):
    """Points `parent/latest` at `name`, replacing it in one rename."""
    temporary = parent / f".{LATEST_NAME}-{os.getpid()}"
    temporary.unlink(missing_ok=True)
    os.symlink(name, temporary)
    os.replace(temporary, parent / LATEST_NAME)

"""One training run per output directory: `RunDirectory`."""

import fcntl
import os
import pathlib
import time
import warnings

LOCK_NAME = ".lock"
LATEST_NAME = "latest"


class RunDirectory:
    """An output directory that one live process holds at a time.

    `lock()` creates the directory, checks that it can be written and takes
    an exclusive `fcntl.flock` lock on its `.lock` file, writing the
    process id there. The operating system releases the lock when the
    process ends, however it ends (a kill included), so a lock left by a
    dead process is never in force: the next run takes it over, with a
    warning naming the process that left it. While a live process holds
    the lock, `lock()` raises a `ValueError` naming that process.

    `RunDirectory.new(parent)` makes a fresh directory
    `parent/<YYYYmmdd-HHMMSS>` for each run (a suffix `-2`, `-3`... when
    two start in the same second) and points the symlink `parent/latest`
    at it.

    Args:
        path: str or path. The output directory.

    Example:

    >>> with RunDirectory.new("runs/digits") as run:
    ...     model.save(run.path / "model.keras")
    >>> RunDirectory("runs/digits/latest").lock()  # the same run, resumed
    """

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self._lock_file = None

    @classmethod
    def new(cls, parent):
        """A fresh directory under `parent`, which `parent/latest` names."""
        parent = pathlib.Path(parent)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        _make_folder(parent, exist_ok=True)
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

    def lock(self):
        """Holds the directory for this process, or raises `ValueError`."""
        _make_folder(self.path, exist_ok=True)
        try:
            lock_file = open(self.path / LOCK_NAME, "a+")
        except OSError as error:
            raise _cannot_write(self.path, error) from None
        if not os.access(self.path, os.W_OK):
            lock_file.close()
            raise _cannot_write(self.path, PermissionError("read-only"))
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.seek(0)
            holder = lock_file.read().strip() or "unknown"
            lock_file.close()
            raise ValueError(
                f"The output directory {self.path} is in use by another "
                f"run (process {holder}); wait for it to end or choose "
                "another directory"
            ) from None
        lock_file.seek(0)
        previous = lock_file.read().strip()
        if previous:
            warnings.warn(
                f"Taking over {self.path}: process {previous}, which held "
                "it, ended without releasing it",
                stacklevel=2,
            )
        lock_file.truncate(0)
        lock_file.write(f"{os.getpid()}\n")
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


def _point_latest_at(parent, name):
    """Points `parent/latest` at `name`, replacing it in one rename."""
    temporary = parent / f".{LATEST_NAME}-{os.getpid()}"
    temporary.unlink(missing_ok=True)
    os.symlink(name, temporary)
    os.replace(temporary, parent / LATEST_NAME)

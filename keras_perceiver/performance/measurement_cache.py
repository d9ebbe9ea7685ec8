"""Measured tables, kept per machine so that a choice is measured once.

One JSON file per machine (its CPU and GPUs) in the cache folder:
`$KERAS_PERCEIVER_CACHE`, else `$XDG_CACHE_HOME/keras-perceiver`, else
`~/.cache/keras-perceiver`. It maps a key (a hash of the workload, the
machine, the library versions and the measuring method) to what was
measured. The file is written atomically; a damaged one is a warning and a
new measurement.
"""

import hashlib
import json
import os
import pathlib
import warnings

from keras_perceiver.performance.measurement import Measurement
from keras_perceiver.training.atomic_files import write_text_atomically

CACHE_VARIABLE = "KERAS_PERCEIVER_CACHE"
# What a table's rows mean, in the key: raised whenever a candidate is
# measured differently within one release (2: torch.compile compiles the
# repeated blocks, not the whole step), so older tables are measured again.
MEASUREMENT_METHOD = 2


def cache_folder():
    """The folder of the cache files.

    Returns:
        A `pathlib.Path` (not created here).

    Example:

    >>> os.environ["KERAS_PERCEIVER_CACHE"] = "/tmp/kp-cache"
    >>> cache_folder()
    PosixPath('/tmp/kp-cache')
    """
    if os.environ.get(CACHE_VARIABLE):
        return pathlib.Path(os.environ[CACHE_VARIABLE])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "keras-perceiver"


def cache_path(machine):
    """The cache file of `machine` (what `machine.describe` returns)."""
    return cache_folder() / f"performance-{_digest(machine)[:16]}.json"


def cache_key(workload, machine, versions):
    """The key of a table: a hash of what it was measured for and how
    (`MEASUREMENT_METHOD`).

    Args:
        workload: dict. The workload (model, inputs, batch size).
        machine: dict. What `machine.describe` returns.
        versions: dict. What `machine.library_versions` returns.

    Returns:
        str.
    """
    return _digest({"workload": workload, "machine": machine,
                    "versions": versions, "method": MEASUREMENT_METHOD})


def _digest(value):
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def read_entry(path, key):
    """The entry `key` of the cache file `path`, or None.

    A file that is not what `write_entry` writes is a warning (and None:
    the caller measures again).

    Args:
        path: a path. The cache file.
        key: str. What `cache_key` returned.

    Returns:
        None, or a dict: "measured_at" (str), "steps_per_epoch" (int or
        None) and "rows" (a list of `Measurement`).
    """
    entry = _read_entries(path).get(key)
    if entry is None:
        return None
    try:
        steps_per_epoch = entry["steps_per_epoch"]
        if not (steps_per_epoch is None or isinstance(steps_per_epoch, int)):
            raise ValueError(f"steps_per_epoch is {steps_per_epoch!r}")
        return {"measured_at": str(entry["measured_at"]),
                "steps_per_epoch": steps_per_epoch,
                "rows": [Measurement.from_json(row) for row in entry["rows"]]}
    except (KeyError, TypeError, ValueError) as error:
        _warn_damaged(path, error)
        return None


def write_entry(path, key, entry):
    """Writes `entry` (as `read_entry` returns it) under `key`, keeping the
    file's other entries (a damaged file's are lost).

    Args:
        path: a path. The cache file; its folder is created.
        key: str.
        entry: dict.
    """
    path = pathlib.Path(path)
    entries = _read_entries(path, quiet=True)
    entries[key] = {**entry, "rows": [row.to_json() for row in entry["rows"]]}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, json.dumps(entries, indent=1))


def _read_entries(path, quiet=False):
    try:
        entries = json.loads(pathlib.Path(path).read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        if not quiet:
            _warn_damaged(path, error)
        return {}
    if not isinstance(entries, dict):
        if not quiet:
            _warn_damaged(path, "not a JSON object")
        return {}
    return entries


def _warn_damaged(path, reason):
    warnings.warn(f"the measurement cache {path} is damaged ({reason}); "
                  "measuring again", stacklevel=3)

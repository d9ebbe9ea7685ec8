"""Crash-safe training checkpoints that a killed run resumes from."""

import contextlib
import csv
import hashlib
import io
import json
import math
import pathlib
import re
import stat
import warnings

import keras

from keras_perceiver.training.atomic_files import (
    atomic_path,
    remove_temporary_files,
    write_text_atomically,
)

CHECKPOINT_NAME = re.compile(r"epoch-(\d+)\.json")
# A checkpoint's metadata (options, model config, history) is a few KB; a
# larger file is not this tool's.
MAX_METADATA_BYTES = 16 * 2**20
CHECKPOINT_FILE_NAME = re.compile(r"epoch-(\d+)\.(?:json|weights\.h5)")


class RunCheckpoint(keras.callbacks.Callback):
    """Saves the training state after every epoch; a killed run resumes.

    Each checkpoint is a pair of files in `directory`:
    `epoch-NNNN.weights.h5` (the model's and the optimizer's variables) and
    `epoch-NNNN.json` (the number of finished epochs, the number of epochs
    asked for, the model's configuration, the run's options, the SHA-256 of
    the weights and the history so far). Both are written atomically
    (temporary file, `fsync`, rename) and the JSON last, so a checkpoint
    exists only once its weights are whole. The newest `keep` checkpoints
    are kept; nothing is deleted when training ends.

    `restore(model)` (called by `on_train_begin` unless called before)
    loads the newest checkpoint and makes `fit` start after its epoch. A
    damaged newest checkpoint (metadata that is not JSON, weights missing
    or not matching their checksum) is skipped with a warning for the one
    before. A checkpoint of another model or other run options, or
    checkpoints of which none can be used, raise a `ValueError`: training
    never starts from fresh weights under an old epoch number.

    A non-finite training loss raises `FloatingPointError` in the batch it
    appears in, before that epoch's checkpoint: the newest checkpoint stays
    the last good one.

    Given `history_path`, the history is written there as CSV (the format
    of `keras.callbacks.CSVLogger`) after every epoch and on restore, one
    row per finished epoch: a resumed run repeats no rows.

    Args:
        directory: str or path. The folder for the checkpoints (created on
            the first save). Nothing else may write there.
        run_options: dict of JSON values. What defines the run besides the
            model (data, learning rate, seed...); checkpoints written under
            other options are refused. Defaults to `{}`.
        history_path: optional str or path of the CSV history. Defaults to
            None.
        keep: int. How many checkpoints to keep. Defaults to 2.

    Example:

    >>> checkpoint = RunCheckpoint("runs/a/checkpoints",
    ...                            run_options={"learning_rate": 1e-3},
    ...                            history_path="runs/a/history.csv")
    >>> model.fit(x, y, epochs=10, callbacks=[checkpoint])  # kill, rerun
    >>> checkpoint.finished_epochs
    10
    """

    def __init__(self, directory, run_options=None, history_path=None,
                 keep=2):
        super().__init__()
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            raise ValueError(
                f"`keep` must be a positive integer. Received: keep={keep!r}"
            )
        self.directory = pathlib.Path(directory)
        self.run_options = _as_json_values(run_options or {})
        self.history_path = history_path
        self.keep = keep
        self.history = []
        self.finished_epochs = None

    def latest_metadata(self):
        """The newest checkpoint's metadata that can be read, or None.

        Raises:
            ValueError: if it was written under other run options.
        """
        for _, metadata_path in self._checkpoints():
            metadata = _read_metadata(metadata_path)
            if isinstance(metadata, dict):
                self._check_same(metadata["run_options"], self.run_options,
                                 "other options")
                return metadata
        return None

    def restore(self, model):
        """Loads the newest usable checkpoint into `model` (built, compiled).

        Returns:
            The number of finished epochs it holds (0 without checkpoints).
        """
        if self.directory.is_dir():
            remove_temporary_files(self.directory)
        model_config = _model_config(model)
        problems = []
        for epoch, metadata_path in self._checkpoints():
            metadata = _read_metadata(metadata_path)
            if isinstance(metadata, dict):
                self._check_same(metadata["run_options"], self.run_options,
                                 "other options")
                self._check_same(metadata["model"], model_config,
                                 "another model")
                problem = self._load_weights(model, metadata)
            else:
                problem = metadata
            if problem is None:
                if problems:
                    warnings.warn(
                        f"Resuming from the checkpoint of epoch {epoch} in "
                        f"{self.directory}: {'; '.join(problems)}",
                        stacklevel=2,
                    )
                self.history = metadata["history"]
                self.finished_epochs = epoch
                self._write_history()
                return epoch
            problems.append(f"the checkpoint of epoch {epoch} is damaged "
                            f"({problem})")
        if problems:
            raise ValueError(
                f"No usable checkpoint in {self.directory}: "
                f"{'; '.join(problems)}. To start afresh, remove "
                f"{self.directory} (or train in another directory)"
            )
        self.history, self.finished_epochs = [], 0
        self._write_history()
        return 0

    def written_files(self):
        """The files of the checkpoints in `directory`, as their own
        metadata lists them: each `epoch-NNNN.json` of a checkpoint, then
        the weights it names. Other files there are not listed."""
        files = []
        for epoch, metadata_path in self._checkpoints():
            metadata = _read_metadata(metadata_path)
            if (isinstance(metadata, dict)
                    and metadata["weights"] == _weights_name(epoch)):
                files += [metadata_path, self.directory / metadata["weights"]]
        return files

    def remove(self):
        """Deletes the checkpoints (the files `written_files` lists, and
        temporary files of interrupted writes), then `directory` if that
        leaves it empty. Nothing else is deleted."""
        if not self.directory.is_dir():
            return
        for path in self.written_files():  # each metadata before its weights
            path.unlink(missing_ok=True)
        remove_temporary_files(self.directory)
        with contextlib.suppress(OSError):
            self.directory.rmdir()

    def on_train_begin(self, logs=None):
        if self.finished_epochs is None:
            self.restore(self.model)
        # How keras.callbacks.BackupAndRestore makes `fit` skip epochs.
        self.model._initial_epoch = self.finished_epochs

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            kept = (f"the checkpoint of epoch {self.finished_epochs} in "
                    f"{self.directory} is kept" if self.finished_epochs
                    else "no checkpoint was written")
            raise FloatingPointError(
                f"The training loss became {float(loss)} in epoch "
                f"{self.finished_epochs + 1}, batch {batch + 1}; training "
                f"stopped and {kept}. Try a lower learning rate"
            )

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch}
        row.update({key: finite_or_none(value)
                    for key, value in sorted((logs or {}).items())})
        self.history = [r for r in self.history if r["epoch"] < epoch]
        self.history.append(row)
        self.finished_epochs = epoch + 1
        self._save()
        self._write_history()

    def _save(self):
        self.directory.mkdir(parents=True, exist_ok=True)
        weights_path = self.directory / _weights_name(self.finished_epochs)
        with atomic_path(weights_path) as temporary:
            self.model.save_weights(temporary)
            checksum = _sha256(temporary)
        metadata = {
            "epoch": self.finished_epochs,
            "epochs": (self.params or {}).get("epochs"),
            "weights": weights_path.name,
            "weights_sha256": checksum,
            "model": _model_config(self.model),
            "run_options": self.run_options,
            "history": self.history,
        }
        write_text_atomically(
            self.directory / f"epoch-{self.finished_epochs:04d}.json",
            json.dumps(metadata, indent=1, allow_nan=False),
        )
        self._remove_old_checkpoints()

    def _remove_old_checkpoints(self):
        kept = [epoch for epoch, _ in self._checkpoints()][:self.keep]
        # Metadata first: a kill in between leaves weights without
        # metadata, which no restore reads. Only this class's file names.
        for pattern in ("epoch-*.json", "epoch-*.weights.h5"):
            for path in self.directory.glob(pattern):
                match = CHECKPOINT_FILE_NAME.fullmatch(path.name)
                if match and int(match.group(1)) < min(kept):
                    path.unlink(missing_ok=True)

    def _checkpoints(self):
        """`(epoch, metadata path)` of each checkpoint, newest first."""
        if not self.directory.is_dir():
            return []
        found = []
        try:
            paths = list(self.directory.iterdir())
        except OSError:  # a folder it cannot list holds none of its own
            return []
        for path in paths:
            match = CHECKPOINT_NAME.fullmatch(path.name)
            if match:
                found.append((int(match.group(1)), path))
        return sorted(found, reverse=True)

    def _load_weights(self, model, metadata):
        """Loads a checkpoint's weights; returns what is wrong, or None."""
        weights_path = self.directory / metadata["weights"]
        if not weights_path.is_file():
            return f"{weights_path.name} is missing"
        if _sha256(weights_path) != metadata["weights_sha256"]:
            return f"{weights_path.name} does not match its checksum"
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        try:
            model.load_weights(weights_path)
        except (OSError, ValueError, KeyError) as error:
            return f"{weights_path.name} cannot be loaded: {error}"
        return None

    def _check_same(self, saved, current, what):
        difference = _first_difference(saved, current)
        if difference is not None:
            raise ValueError(
                f"The checkpoints in {self.directory} belong to a run with "
                f"{what} ({difference}). Resume with the same options, or "
                f"start afresh: remove {self.directory} (or train in "
                "another directory)"
            )

    def _write_history(self):
        if self.history_path is None:
            return
        columns = ["epoch"] + sorted(
            {key for row in self.history for key in row} - {"epoch"}
        )
        text = io.StringIO()
        writer = csv.DictWriter(text, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.history)
        write_text_atomically(self.history_path, text.getvalue())


def _weights_name(epoch):
    return f"epoch-{epoch:04d}.weights.h5"


def _read_metadata(path):
    """A checkpoint's metadata dict, or a string saying what is wrong.

    Only a regular file (not a link, a pipe or a device) of at most
    `MAX_METADATA_BYTES` is read: folders of other tools are read too, to
    tell whether an earlier release wrote them.
    """
    try:
        info = path.lstat()
    except OSError as error:
        return f"{path.name} cannot be read: {error}"
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_METADATA_BYTES:
        return (f"{path.name} is not a regular file of at most "
                f"{MAX_METADATA_BYTES} bytes")
    try:
        metadata = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return f"{path.name} is not valid JSON: {error}"
    required = ("epoch", "weights", "weights_sha256", "model", "run_options",
                "history")
    if not isinstance(metadata, dict) or any(k not in metadata
                                             for k in required):
        return f"{path.name} lacks some of {', '.join(required)}"
    return metadata


def _model_config(model):
    """The model's class and configuration, as JSON values.

    Names are left out: Keras numbers them per process (`dense_1`), and
    weights load by structure, not by name.
    """
    serialized = keras.saving.serialize_keras_object(model)
    return _without_names(_as_json_values(
        {"class_name": serialized["class_name"],
         "config": serialized["config"]}
    ))


def _without_names(value):
    if isinstance(value, dict):
        return {key: _without_names(entry) for key, entry in value.items()
                if key != "name"}
    if isinstance(value, list):
        return [_without_names(entry) for entry in value]
    return value


def _as_json_values(value):
    return json.loads(json.dumps(value))


def _first_difference(saved, current, path=""):
    """`'path: saved there, current now'` for the first difference, or None."""
    if isinstance(saved, dict) and isinstance(current, dict):
        pairs = [(key, saved.get(key), current.get(key))
                 for key in sorted(set(saved) | set(current))]
    elif (isinstance(saved, list) and isinstance(current, list)
          and len(saved) == len(current)):
        pairs = list(zip(range(len(saved)), saved, current))
    else:
        pairs = None
    if pairs is None:
        if saved == current:
            return None
        return (f"{path or 'value'}: {_short(saved)} there, "
                f"{_short(current)} now")
    for key, saved_entry, current_entry in pairs:
        difference = _first_difference(
            saved_entry, current_entry, f"{path}.{key}" if path else str(key)
        )
        if difference is not None:
            return difference
    return None


def _short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def finite_or_none(value):
    """A float for JSON: None where it is NaN or infinite."""
    value = float(value)
    return value if math.isfinite(value) else None


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

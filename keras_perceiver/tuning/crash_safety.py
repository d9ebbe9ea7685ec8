"""A KerasTuner search that a kill at any moment neither damages nor
shortens: `crash_safe_tuner`."""

import contextlib
import json

from keras_perceiver.optional_dependencies import import_optional
from keras_perceiver.training.atomic_files import atomic_path

# The first import of keras_perceiver.tuning may be this one.
import_optional("keras_tuner", "keras_perceiver.tuning")


@contextlib.contextmanager
def crash_safe_tuner(make_tuner):
    """A KerasTuner tuner whose search survives being killed at any moment.

    Within the block the tuner's state files are written atomically
    (`state_written_atomically`), and a search reloaded from its directory
    runs each trial that a kill interrupted again, first, and no finished
    trial twice (`resume_interrupted_trials`). Only one search may use the
    directory at a time.

    Args:
        make_tuner: a function of no arguments that returns the tuner (any
            KerasTuner tuner, resuming from its directory): it runs in the
            block, since a tuner writes its state as it starts.

    Yields:
        The tuner, to search with inside the block.

    Raises:
        ValueError: if a state file of the search is damaged (written by a
            release without these guarantees).

    Example:

    >>> with crash_safe_tuner(lambda: keras_tuner.RandomSearch(
    ...         hypermodel, objective="val_accuracy", max_trials=4,
    ...         directory="runs", project_name="search")) as tuner:
    ...     tuner.search(x, y, epochs=2, validation_data=(x_val, y_val))
    """
    with state_written_atomically():
        try:
            tuner = make_tuner()
        except json.JSONDecodeError as error:
            raise ValueError(
                f"A state file of the search is damaged ({error}); start "
                "the search afresh (--overwrite, or the tuner's "
                "overwrite=True)"
            ) from None
        resume_interrupted_trials(tuner.oracle)
        yield tuner


@contextlib.contextmanager
def state_written_atomically():
    """Makes KerasTuner write its state files atomically within the block.

    KerasTuner writes oracle.json and each trial.json in place (its
    `utils.save_json`, which all its state goes through); a kill during a
    write left an empty file that every resume then failed to read. Here
    they go through `atomic_path`: a kill leaves the old file or the new.

    Example:

    >>> with state_written_atomically():
    ...     tuner.search(x, y, validation_data=(x_val, y_val))
    """
    from keras_tuner.src import utils

    save_json = utils.save_json

    def save_json_atomically(path, obj):
        with atomic_path(path) as temporary:
            return save_json(str(temporary), obj)

    utils.save_json = save_json_atomically
    try:
        yield
    finally:
        utils.save_json = save_json


def resume_interrupted_trials(oracle):
    """Makes a reloaded search run each interrupted trial to its end.

    KerasTuner writes a trial's trial.json and then oracle.json, the
    oracle's list of running trials. A kill between the two leaves a trial
    that is running in its file but unknown to the oracle, which counted it
    against `max_trials` and never ran it again; or a finished trial that
    the oracle still runs again. Only one search holds the directory, so a
    trial found running here was interrupted: it is run again (first, its
    values marked as tried), and a finished one is not.

    Args:
        oracle: a KerasTuner oracle, reloaded from the search's directory.

    Example:

    >>> resume_interrupted_trials(tuner.oracle)
    """
    from keras_tuner.src.engine.trial import TrialStatus

    for trial in oracle.trials.values():
        if trial.trial_id in oracle._retry_queue:
            if trial.status == TrialStatus.COMPLETED:
                oracle._retry_queue.remove(trial.trial_id)
                if trial.trial_id not in oracle.end_order:
                    oracle.end_order.append(trial.trial_id)
        elif trial.status == TrialStatus.RUNNING:
            oracle._record_values(trial)
            oracle._retry_queue.append(trial.trial_id)

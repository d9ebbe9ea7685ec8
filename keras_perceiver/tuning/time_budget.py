import time

import keras
import keras_tuner


class TimeBudgetExceeded(keras_tuner.errors.FatalError):
    """Raised by `TimeBudget` to end a search whose time is spent.

    KerasTuner lets a `FatalError` through instead of failing the trial, so
    `tuner.search` stops. The trial that was running stays unfinished in the
    tuner's directory and runs again when the search resumes.

    Example:

    >>> try:
    ...     tuner.search(x, y, callbacks=[TimeBudget(600)])
    ... except TimeBudgetExceeded:
    ...     print("Out of time; run it again to resume.")  # doctest: +SKIP
    """


class TimeBudget(keras.callbacks.Callback):
    """Bounds the wall time of a KerasTuner search.

    Pass it to `tuner.search(..., callbacks=[TimeBudget(seconds)])`. The
    clock starts when the callback is created; once the budget is spent, the
    next training step (or the start of the next trial) raises
    `TimeBudgetExceeded`, which ends `tuner.search`. Finished trials are
    saved in the tuner's directory, so a new tuner on the same directory
    resumes the search, rerunning only the trial that was cut short.

    Args:
        seconds: int or float >= 0. The budget in seconds.

    Example:

    >>> budget = TimeBudget(600)
    >>> try:
    ...     tuner.search(x, y, validation_split=0.1, callbacks=[budget])
    ... except TimeBudgetExceeded:
    ...     pass  # doctest: +SKIP
    """

    def __init__(self, seconds):
        super().__init__()
        is_number = isinstance(seconds, (int, float)) and not isinstance(
            seconds, bool
        )
        if not is_number or seconds < 0:
            raise ValueError(
                "`seconds` must be a number >= 0. "
                f"Received: seconds={seconds!r}"
            )
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def on_train_begin(self, logs=None):
        self._check()

    def on_train_batch_end(self, batch, logs=None):
        self._check()

    def _check(self):
        if time.monotonic() >= self.deadline:
            raise TimeBudgetExceeded(
                f"The search's time budget of {self.seconds:g} s is spent. "
                "Run the search again with the same directory to resume it."
            )

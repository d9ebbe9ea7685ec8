import statistics
import time

import keras


class StepTimer(keras.callbacks.Callback):
    """Measures the wall time of training steps.

    The time of each training step is taken from `on_train_batch_begin` to
    `on_train_batch_end`. Keras turns the step's logs into Python numbers
    before it calls a callback that overrides `on_train_batch_end`, so the
    time includes the computation even on backends that dispatch
    asynchronously. The first step of a `fit` compiles the step function and
    is left out when there are others; `time_per_step` is the median of the
    rest, which also ignores the odd retrace (a smaller last batch). At the
    end of each epoch the callback writes it into the logs under `name`, so
    that it shows in the progress bar and the `History`.

    Args:
        name: str. The key under which the time is logged. Defaults to
            `"time_per_step"`.

    Example:

    >>> timer = StepTimer()
    >>> model.fit(x, y, epochs=2, callbacks=[timer])  # doctest: +SKIP
    >>> timer.time_per_step  # seconds  # doctest: +SKIP
    0.0123
    """

    def __init__(self, name="time_per_step"):
        super().__init__()
        self.name = name
        self.step_times = []
        self._step_start = None

    def on_train_begin(self, logs=None):
        self.step_times = []

    def on_train_batch_begin(self, batch, logs=None):
        self._step_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.step_times.append(time.perf_counter() - self._step_start)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs[self.name] = self.time_per_step

    @property
    def time_per_step(self):
        """Median seconds per training step, NaN before the first step."""
        if not self.step_times:
            return float("nan")
        return statistics.median(self.step_times[1:] or self.step_times)

"""What every paper experiment shares: training runs, their log, the report.

An experiment is a module of `benchmarks.paper` with
- `DESCRIPTION`, one line;
- `SETTINGS`, a dict of two dicts, "full" (the committed run) and "quick"
  (tiny sizes, for tests and development);
- `run(settings, runs)`: trains what it compares through `runs` (a
  `FinishedRuns`) and returns its results, a JSON-ready dict;
- `render(results)`: the Markdown table(s) and what they say;
- `plot(results, figure)`: draws the results on a matplotlib figure.

`benchmarks.paper.__main__` runs an experiment and writes its files with
`write_report`.
"""

import json
import math
import re
import shutil
import statistics
import time
from pathlib import Path

import keras

from keras_perceiver import training
from keras_perceiver.datasets.splits import shuffled_examples
from keras_perceiver.training.run_checkpoint import RunCheckpoint

BATCH_SIZE = 64
ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT.parent / "shared" / "data"


class FinishedRuns:
    """The training runs an experiment has finished, one JSON line each.

    A run is done once: `get_or_run(key, function)` returns the logged
    result of `key`, or calls `function(checkpoint_directory)`, appends its
    result to the file and returns it. An experiment stopped part-way (a
    killed job, a session ending) picks up from the runs it finished when
    started again, and a run that passes its `checkpoint_directory` on to
    `fit_and_test` resumes from its last finished epoch.

    Args:
        path: str or Path of the JSON-lines file. It is created when the
            first run finishes.

    Example:

    >>> runs = FinishedRuns("/tmp/example.runs.jsonl")
    >>> runs.get_or_run("seed 0", lambda checkpoints: {"accuracy": 0.9})
    {'accuracy': 0.9}
    """

    def __init__(self, path):
        self.path = Path(path)
        self.results = {}
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                if line.strip():
                    entry = json.loads(line)
                    self.results[entry["key"]] = entry["result"]

    def get_or_run(self, key, function):
        if key not in self.results:
            checkpoints = self.path.parent / "checkpoints" / re.sub(
                r"[^A-Za-z0-9._=-]+", "_", key)
            result = function(checkpoints)
            shutil.rmtree(checkpoints, ignore_errors=True)
            if checkpoints.parent.is_dir() and not any(
                    checkpoints.parent.iterdir()):
                checkpoints.parent.rmdir()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as log:
                log.write(json.dumps({"key": key, "result": result}) + "\n")
            self.results[key] = result
        return self.results[key]


def fit_and_test(build_model, train, test, epochs, seed=0,
                 learning_rate=training.LEARNING_RATE,
                 batch_size=BATCH_SIZE, measure=None, curve_data=None,
                 checkpoint_directory=None):
    """Trains a classifier with the package's recipe and tests it.

    The recipe is `keras_perceiver.training`'s: AdamW with gradient
    clipping, a linear warm-up and cosine decay of the learning rate, no
    validation split (the test set is only evaluated at the end).

    Args:
        build_model: callable returning a new, uncompiled Keras classifier
            (logits); called after the seed is set, so the seed fixes the
            initial weights.
        train: `(x, y)` NumPy arrays to train on.
        test: `(x, y)` NumPy arrays to test on.
        epochs: int.
        seed: int. Seeds the weights, the shuffling and dropout.
        learning_rate: float. The peak learning rate.
        batch_size: int.
        measure: callable or None. Called with the trained model; the dict
            it returns joins the result.
        curve_data: `(x, y)` or None. Data evaluated after every epoch, as
            `fit`'s validation data, for a learning curve only (nothing is
            selected on it); its accuracies are the result's
            `curve_accuracy`.
        checkpoint_directory: str, Path or None. Where to keep a
            `RunCheckpoint` after every epoch; a run started again with
            the same folder resumes after its last finished epoch.

    Returns:
        A dict: `test_accuracy`, `test_loss`, `train_accuracy` (per epoch),
        `parameters`, `epochs`, `steps`, `train_seconds` (`fit` alone),
        `seconds_per_step`, `seed`.
    """
    keras.utils.set_random_seed(seed)
    model = build_model()
    steps = training.steps_per_epoch(len(train[1]), batch_size) * epochs
    training.compile_for_classification(
        model, training.learning_rate_schedule(learning_rate, steps)
    )
    timer = EpochTimer()
    callbacks = [timer]
    if checkpoint_directory is not None:
        # Built, so that a checkpoint can be loaded into it.
        model(keras.tree.map_structure(lambda array: array[:1], train[0]))
        callbacks.append(RunCheckpoint(checkpoint_directory, run_options={
            "epochs": epochs, "seed": seed, "learning_rate": learning_rate,
            "batch_size": batch_size, "train_examples": len(train[1])}))
    model.fit(*train, batch_size=batch_size, epochs=epochs, shuffle=True,
              validation_data=curve_data, verbose=2, callbacks=callbacks)
    epochs_logged = (callbacks[1].history if checkpoint_directory is not None
                     else timer.epochs)
    train_seconds = sum(row["seconds"] for row in epochs_logged)
    test_loss, test_accuracy = model.evaluate(*test, batch_size=256,
                                              verbose=0)
    result = {
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "train_accuracy": [float(row["accuracy"]) for row in epochs_logged],
        "parameters": int(model.count_params()),
        "epochs": epochs,
        "steps": steps,
        "train_seconds": train_seconds,
        "seconds_per_step": train_seconds / steps,
        "seed": seed,
    }
    if curve_data is not None:
        result["curve_accuracy"] = [float(row["val_accuracy"])
                                    for row in epochs_logged]
    if measure is not None:
        result.update(measure(model))
    return result


class EpochTimer(keras.callbacks.Callback):
    """Adds each epoch's duration in seconds to its logs, as `seconds`
    (callbacks after it, such as `RunCheckpoint`, record it), and keeps
    every epoch's logs in `epochs`."""

    def on_train_begin(self, logs=None):
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs["seconds"] = time.perf_counter() - self.started
        self.epochs.append(dict(logs))


def step_times_side_by_side(builders, batch, repeats, warmup=2):
    """Milliseconds per training step of several models, timed together.

    The per-epoch times of runs trained hours or sessions apart mix
    machine loads; this times the models in one process on one batch, a
    step of each in turn, so that all of them see the same load.

    Args:
        builders: dict from a name to a callable returning a new,
            uncompiled classifier.
        batch: `(x, y)` NumPy arrays, one batch.
        repeats: int. Timed steps of each model.
        warmup: int. Untimed steps of each model first (compilation).

    Returns:
        A dict from each name to its median milliseconds per step.
    """
    models = {}
    for name, build in builders.items():
        keras.utils.set_random_seed(0)
        models[name] = build()
        training.compile_for_classification(
            models[name],
            training.learning_rate_schedule(training.LEARNING_RATE,
                                            warmup + repeats),
        )
    seconds = {name: [] for name in models}
    for step in range(warmup + repeats):
        for name, model in models.items():
            start = time.perf_counter()
            model.train_on_batch(*batch)  # returns NumPy: waits for the step
            if step >= warmup:
                seconds[name].append(time.perf_counter() - start)
    return {name: 1000 * statistics.median(values)
            for name, values in seconds.items()}


def summary(values):
    """Mean, sample standard deviation, minimum and maximum of `values`.

    Example:

    >>> summary([0.5, 0.7])["mean"]
    0.6
    """
    values = [float(v) for v in values]
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def percent(value):
    """`value` (a fraction) as a percentage with one decimal, e.g. 48.3 %."""
    return "–" if value is None or math.isnan(value) else (
        f"{100 * value:.1f} %")


def mean_and_spread(stats):
    """`summary` output as "mean ± std (min-max)" in percent."""
    return (f"{100 * stats['mean']:.1f} ± {100 * stats['std']:.1f} % "
            f"({100 * stats['min']:.1f}-{100 * stats['max']:.1f})")


def subset(x, y, count, seed=0):
    """The first `count` examples of a seeded shuffle of `(x, y)`."""
    return shuffled_examples(x, y, max_examples=count, seed=seed)

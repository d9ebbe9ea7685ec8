"""A training run that survives being killed: a `RunSpec` in, a finished
run folder out."""

import contextlib
import json
import time
import warnings

import keras

from keras_perceiver import backend_differences
from keras_perceiver.training.atomic_files import atomic_path
from keras_perceiver.training.atomic_files import write_text_atomically
from keras_perceiver.training.recipe import compile_for_classification
from keras_perceiver.training.recipe import evaluate
from keras_perceiver.training.recipe import learning_rate_schedule
from keras_perceiver.training.recipe import steps_per_epoch
from keras_perceiver.training.run_checkpoint import RunCheckpoint
from keras_perceiver.training.run_checkpoint import finite_or_none
from keras_perceiver.training.run_directory import RunDirectory
from keras_perceiver.training.run_spec import CHECKPOINTS
from keras_perceiver.training.run_spec import RESULT_FILES


class TrainingRun:
    """Trains, evaluates and writes a run folder; a killed run resumes.

    `run()` holds the folder (`RunDirectory`: this tool's, one run at a
    time), then trains with a `RunCheckpoint` after every epoch, so that
    the same spec run again resumes after the last finished epoch; a
    finished run is not trained again. The folder ends up holding
    `model.keras`, `history.csv`, `training_curves.png`,
    `attention_maps.png` (unless `draw_attention_maps` is False) and,
    written last, `metrics.json`: its `epochs` marks the run finished.

    A spec that does not fit the folder raises `ValueError` before any
    training: checkpoints of other run options, more finished epochs than
    `epochs`, an unfinished run of other `epochs` (unless
    `continue_training`), a finished run of fewer epochs (unless
    `continue_training`; `restart` starts over). So does a non-finite
    training loss, which leaves the last good checkpoint.

    With `spec.distributed`, processes other than the chief write nothing,
    and several processes keep no checkpoints.

    Args:
        spec: a `RunSpec`.

    Example:

    >>> import keras_perceiver as kp
    >>> from keras_perceiver.training import RunSpec, TrainingRun
    >>> spec = RunSpec(kp.datasets.load("digits"), output_dir="runs/d",
    ...                epochs=2)
    >>> folder = TrainingRun(spec).run()  # killed? run it again: it resumes
    >>> json.loads((folder / "metrics.json").read_text())["epochs"]
    2
    """

    def __init__(self, spec):
        self.spec = spec
        self.output_dir = None
        self.checkpoint = None
        self.epoch_timer = _EpochTimer()

    @property
    def finished_epochs(self):
        """Epochs the checkpoint holds (None before restoring, or without
        checkpoints)."""
        return self.checkpoint and self.checkpoint.finished_epochs

    def run(self):
        """Trains (or resumes) the run; returns its folder (None in
        processes other than the chief)."""
        spec = self.spec
        chief = spec.distributed is None or spec.distributed.is_chief
        directory = self._hold_output_dir() if chief else None
        self.output_dir = directory.path if chief else None
        if spec.distributed is None or _can_resume(spec.distributed):
            self.checkpoint = RunCheckpoint(
                self.output_dir / CHECKPOINTS, spec.options(),
                history_path=self.output_dir / "history.csv",
            )
        try:
            self._train()
        finally:
            if directory is not None:
                directory.release()
        return self.output_dir

    def _hold_output_dir(self):
        """The locked `RunDirectory`: `output_dir`, or a new one.

        One with checkpoints of this tool, written before it marked its
        folders, is this tool's.
        """
        spec = self.spec
        if spec.output_dir is None:
            return RunDirectory.new(spec.new_folder_parent()).lock()
        directory = RunDirectory(spec.output_dir)
        earlier = RunCheckpoint(directory.path / CHECKPOINTS).written_files()
        return RunDirectory.held(directory.path, spec.overwrite_output_dir,
                                 bool(earlier), CHECKPOINTS)

    def _train(self):
        spec = self.spec
        chief = self.output_dir is not None
        if self.checkpoint is not None and not self._should_train():
            return
        if chief and spec.mixed_precision:
            _warn_if_mixed_precision_is_slow()
        dataset = spec.dataset() if callable(spec.dataset) else spec.dataset
        keras.utils.set_random_seed(spec.seed)
        if spec.mixed_precision:
            keras.config.set_dtype_policy("mixed_bfloat16")
        model = compiled_model(spec, dataset)
        if chief:
            print(self._starting_line(dataset))
        started = time.perf_counter()
        self._fit(model, dataset)
        seconds = time.perf_counter() - started
        # Every process evaluates (multi-worker engines run it
        # collectively); only the chief writes files.
        test_loss, test_accuracy = evaluate(model, dataset, spec.batch_size)
        if chief:
            self._write_results(model, dataset, test_loss, test_accuracy,
                                seconds)

    def _starting_line(self, dataset):
        devices = ""
        if self.spec.distributed is not None:
            devices = (f" on {self.spec.distributed.num_devices} devices "
                       f"({self.spec.distributed.strategy} parallel)")
        return (
            f"Training a Perceiver on {dataset.name} ({dataset.modality}, "
            f"{dataset.num_train_examples} training examples, "
            f"{dataset.num_classes} classes) with the "
            f"{keras.config.backend()} backend{devices}; results in "
            f"{self.output_dir}"
        )

    def _should_train(self):
        """False when the run is already finished; raises `ValueError`
        where resuming would not do what the spec says."""
        spec, output_dir = self.spec, self.output_dir
        if spec.restart:
            self.checkpoint.remove()
            for name in RESULT_FILES:
                (output_dir / name).unlink(missing_ok=True)
            return True
        try:
            latest = self.checkpoint.latest_metadata()
        except ValueError as error:
            raise _with_restart_hint(error) from None
        done = latest["epoch"] if latest else 0
        results = read_metrics(output_dir)
        unfinished = results is None or results["epochs"] < done
        if not unfinished and not _check_finished(spec, output_dir, results,
                                                  latest):
            return False
        if done > spec.epochs:
            raise ValueError(
                f"{output_dir} holds {done} finished epochs, more than "
                f"--epochs {spec.epochs} (epochs={spec.epochs}); rerun with "
                f"--epochs {done} or more, or --restart (restart=True) to "
                "start over"
            )
        if (latest and latest["epochs"] != spec.epochs and unfinished
                and not spec.continue_training):
            raise ValueError(
                f"{output_dir} holds an unfinished run of --epochs "
                f"{latest['epochs']} ({done} done): rerun with --epochs "
                f"{latest['epochs']} to resume it, add --continue "
                f"(continue_training=True) to train it up to {spec.epochs} "
                "instead, or --restart (restart=True) to start over"
            )
        return True

    def _fit(self, model, dataset):
        """Fits the model from its last checkpoint; raises `ValueError` on
        a non-finite loss."""
        spec = self.spec
        if self.checkpoint is not None:
            if self._restore(model) >= spec.epochs:
                return
            callbacks = [self.checkpoint]  # stops on a non-finite loss
        else:
            callbacks = [keras.callbacks.TerminateOnNaN(raise_error=True)]
            if self.output_dir is not None:
                callbacks.append(keras.callbacks.CSVLogger(
                    str(self.output_dir / "history.csv")))
        callbacks.append(self.epoch_timer)
        try:
            _fit_on_engine(model, dataset, spec, callbacks,
                           verbose=1 if self.output_dir is not None else 0)
        except FloatingPointError as error:  # from RunCheckpoint
            raise ValueError(str(error)) from None
        except RuntimeError as error:  # TerminateOnNaN's, or another
            if "NaN or Inf loss" not in str(error):
                raise
            raise ValueError(str(error)) from None

    def _restore(self, model):
        """Loads the newest usable checkpoint; returns its finished epochs."""
        try:
            finished_epochs = self.checkpoint.restore(model)
        except ValueError as error:
            raise _with_restart_hint(error) from None
        if finished_epochs:
            print(f"Resuming after epoch {finished_epochs} from "
                  f"{self.checkpoint.directory}")
        return finished_epochs

    def _write_results(self, model, dataset, test_loss, test_accuracy,
                       seconds):
        """Writes the model, the plots and, last, metrics.json
        (atomically)."""
        from keras_perceiver.reports import plotting

        output_dir, spec = self.output_dir, self.spec
        with atomic_path(output_dir / "model.keras") as temporary:
            model.save(temporary)
        with atomic_path(output_dir / "training_curves.png") as temporary:
            plotting.plot_training_curves(output_dir / "history.csv",
                                          temporary)
        if spec.draw_attention_maps:
            with atomic_path(output_dir / "attention_maps.png") as temporary:
                plotting.plot_attention_maps(model, dataset, temporary)
        metrics = {
            "dataset": dataset.name,
            "backend": keras.config.backend(),
            "test_accuracy": finite_or_none(test_accuracy),
            "test_loss": finite_or_none(test_loss),
            "parameters": int(model.count_params()),
            "epochs": spec.epochs,
            "training_seconds_this_run": round(seconds, 1),
            # Each epoch's training and validation, checkpoint included.
            "epoch_seconds_this_run": [
                round(epoch, 3) for epoch in self.epoch_timer.seconds],
            # On torch the step runs eagerly through compiled blocks.
            "jit_compile": bool(model.jit_compile or self.spec.jit_compile),
        }
        if spec.distributed is not None:
            metrics["devices"] = spec.distributed.num_devices
            metrics["distribution"] = spec.distributed.strategy
        write_text_atomically(output_dir / "metrics.json",
                              json.dumps(metrics, indent=2, allow_nan=False))
        print(
            f"Test accuracy {test_accuracy:.4f} ({model.count_params():,} "
            f"parameters, {seconds:.0f} s of training in this run). "
            f"Saved {output_dir / 'model.keras'}"
        )


class _EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of each epoch `fit` runs, in `seconds`."""

    def __init__(self):
        super().__init__()
        self.seconds = []
        self._started = None

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._started)


def compiled_model(spec, dataset):
    """The spec's model for `dataset`, compiled with the training recipe
    (in the distributed engine's scope where there is one)."""
    from keras_perceiver.models import perceiver_for_dataset

    build_model = spec.build_model or perceiver_for_dataset
    scope = (spec.distributed.scope() if spec.distributed
             else contextlib.nullcontext())
    with scope:
        model = build_model(dataset)
        steps = steps_per_epoch(dataset.num_train_examples, spec.batch_size,
                                spec.validation_split)
        compile_for_classification(
            model,
            learning_rate_schedule(spec.learning_rate, steps * spec.epochs,
                                   spec.schedule),
            weight_decay=spec.weight_decay,
            jit_compile=spec.jit_compile or "auto",
        )
    return model


def read_metrics(output_dir):
    """The metrics.json of a finished run (its `epochs` a number), or None."""
    try:
        metrics = json.loads((output_dir / "metrics.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(metrics, dict):
        return None
    epochs = metrics.get("epochs")
    finished = isinstance(epochs, int) and not isinstance(epochs, bool)
    return metrics if finished else None


def _check_finished(spec, output_dir, results, latest):
    """Whether to train a finished run further (printing so where not);
    raises `ValueError` where the spec does not say what to do with it."""
    finished = results["epochs"]
    if spec.epochs == finished:
        print(f"{output_dir} holds this run, finished after {finished} "
              f"epochs (test accuracy {results.get('test_accuracy')}); "
              "--continue --epochs N trains it further, --restart starts "
              "over")
        return False
    if not spec.continue_training and spec.epochs > finished:
        raise ValueError(
            f"{output_dir} holds a run finished after {finished} epochs; "
            f"add --continue (continue_training=True) to train it up to "
            f"--epochs {spec.epochs}, or --restart (restart=True) to start "
            "over"
        )
    if spec.continue_training and latest is None:
        raise ValueError(
            f"{output_dir} holds no checkpoint to continue from; --restart "
            "(restart=True) starts over"
        )
    return True


def _fit_on_engine(model, dataset, spec, callbacks, verbose):
    """`model.fit`, or the distributed engine's fit."""
    from keras_perceiver.datasets.splits import split_validation

    if spec.distributed is None:
        model.fit(**dataset.fit_data(spec.batch_size, spec.validation_split),
                  epochs=spec.epochs, callbacks=callbacks)
        return
    (x_train, y_train), validation_data = split_validation(
        dataset.x_train, dataset.y_train, spec.validation_split
    )
    spec.distributed.fit(
        model, x_train, y_train, batch_size=spec.batch_size,
        epochs=spec.epochs, validation_data=validation_data,
        callbacks=callbacks, verbose=verbose, seed=spec.seed,
    )


def _can_resume(distributed):
    """Resuming needs one process running model.fit."""
    return (distributed.differences.trains_with_keras_fit
            and distributed.num_processes == 1)


def _with_restart_hint(error):
    first_line = str(error).splitlines()[0] if str(error) else repr(error)
    return ValueError(f"{first_line}; or rerun with --restart "
                      "(restart=True)")


def _warn_if_mixed_precision_is_slow():
    """Warns (one line) where mixed_bfloat16 would train slower than
    float32: on a CPU without native bfloat16."""
    if backend_differences.mixed_bfloat16_is_slow():
        warnings.warn(
            "--mixed-precision: training runs on a CPU without native "
            "bfloat16 (no AVX512-BF16, AMX or ARM BF16), where "
            "mixed_bfloat16 is slower than float32 (20-30x on torch); leave "
            "out --mixed-precision (mixed_precision=False) to train in "
            "float32, the faster choice here",
            stacklevel=2,
        )

"""`keras-perceiver train`: fit a Perceiver on a data set, resumably."""

import contextlib
import json
import math
import os
import pathlib
import sys
import time
import warnings

from keras_perceiver.training.atomic_files import atomic_path, write_text_atomically

from keras_perceiver.cli.checkpoint_options import (
    add_checkpoint_arguments,
    check_model_source,
    load_image_checkpoint,
)
from keras_perceiver.cli.dataset_options import (
    add_dataset_arguments,
    data_name,
    load_dataset,
)
from keras_perceiver.cli.main import (
    CommandError,
    check_positive_ints,
    check_range,
    first_line,
    interrupted,
)
from keras_perceiver.cli.model_options import (
    add_input_arguments,
    add_model_arguments,
    input_kwargs,
    model_kwargs,
)
from keras_perceiver.cli.output_options import (
    add_overwrite_argument,
    hold_given_output_dir,
)
from keras_perceiver.training.run_directory import RunDirectory
from keras_perceiver.training.defaults import (
    LEARNING_RATE,
    SCHEDULES,
    WEIGHT_DECAY,
)

DISTRIBUTIONS = ("data", "model")
CHECKPOINTS = "checkpoints"
RESULT_FILES = ("model.keras", "history.csv", "training_curves.png",
                "attention_maps.png", "metrics.json")
# Options that may change between the runs of one output directory.
NOT_RUN_OPTIONS = ("run", "command", "backend", "output_dir", "epochs",
                   "continue_training", "restart", "devices", "distribution",
                   "jit_compile")


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "train",
        help="train a Perceiver on a data set",
        description="Train a Perceiver with Keras progress bars. Writes "
        "model.keras, history.csv, training_curves.png, attention_maps.png "
        "and metrics.json to the output directory, and a checkpoint after "
        "every epoch. Started again with the same output directory, it "
        "resumes from the last finished epoch; a finished run says so.",
    )
    add_dataset_arguments(parser)
    add_model_arguments(parser)
    add_input_arguments(parser)
    add_checkpoint_arguments(
        parser,
        "fine-tune a Hugging Face Perceiver image checkpoint (a folder in "
        "the Hugging Face layout, or a Hub id such as "
        "deepmind/vision-perceiver-conv): its encoder with a new decoder "
        "for the data set's classes, images resized to the checkpoint's "
        "size inside the model (the model and input options, except "
        "--dropout, do not apply)",
    )
    training = parser.add_argument_group("training options")
    training.add_argument("--epochs", type=int, default=10,
                          help="passes over the training data")
    training.add_argument("--batch-size", type=int, default=64,
                          help="examples per training step")
    training.add_argument(
        "--learning-rate", type=float, default=LEARNING_RATE,
        help=f"peak learning rate (default: {LEARNING_RATE})",
    )
    training.add_argument(
        "--schedule", choices=SCHEDULES, default="cosine",
        help="cosine: linear warm-up over the first 5 %% of the steps, then "
             "cosine decay to 0; constant: the learning rate throughout "
             "(default: cosine)",
    )
    training.add_argument("--weight-decay", type=float, default=WEIGHT_DECAY,
                          help="AdamW weight decay")
    training.add_argument(
        "--validation-split", type=float, default=0.1,
        help="share of the training data held out for validation curves",
    )
    training.add_argument(
        "--mixed-precision", action="store_true",
        help="train in mixed_bfloat16: faster on GPUs, TPUs and CPUs with "
             "native bfloat16 (AVX512-BF16, AMX); slower than float32 on "
             "other CPUs (20-30x on torch), where a warning says so",
    )
    training.add_argument(
        "--jit-compile", action="store_true",
        help="compile the training step: with XLA on TensorFlow (which "
             "Keras leaves off on CPU-only machines) and with torch.compile "
             "on torch (minutes to compile, then faster, above all with "
             "--mixed-precision); JAX always compiles it",
    )
    training.add_argument("--seed", type=int, default=0,
                          help="random seed (weights, shuffling, dropout)")
    training.add_argument(
        "--output-dir", default=None,
        help="where results go; give the directory of a run to resume it "
             "(default: a new runs/<dataset>/<date-time>, which "
             "runs/<dataset>/latest names); a folder of other files is "
             "refused",
    )
    add_overwrite_argument(training, RESULT_FILES, CHECKPOINTS)
    again = training.add_mutually_exclusive_group()
    again.add_argument(
        "--continue", dest="continue_training", action="store_true",
        help="train the run in --output-dir further, up to --epochs (the "
             "learning-rate schedule is stretched over the new total)",
    )
    again.add_argument(
        "--restart", action="store_true",
        help="delete the results and checkpoints that train wrote in "
             "--output-dir (only those) and train afresh",
    )
    devices = parser.add_argument_group(
        "devices",
        "train on several devices with the backend's own engine: JAX "
        "keras.distribution, TensorFlow MirroredStrategy (multi-host with "
        "TF_CONFIG), PyTorch DistributedDataParallel under torchrun. "
        "--batch-size is the global batch.",
    )
    devices.add_argument(
        "--devices", type=int, default=None,
        help="number of devices: JAX devices, TensorFlow GPUs (on a CPU, "
             "logical CPU devices), or torch processes (one per GPU; "
             "started with torchrun for you on one host)",
    )
    devices.add_argument(
        "--distribution", choices=DISTRIBUTIONS, default="data",
        help="data: replicate the model, split each batch; model: also "
             "split the latents, attention and MLP weights (JAX only) "
             "(default: data)",
    )
    parser.set_defaults(run=run)


def run(args):
    from keras_perceiver.training.run_checkpoint import RunCheckpoint

    check_training_arguments(args)
    training = start_distributed_training(args)
    chief = training is None or training.is_chief
    run_directory = hold_output_dir(args) if chief else None
    output_dir = run_directory.path if chief else None
    checkpoint = None
    if training is None or can_resume(training):
        checkpoint = RunCheckpoint(output_dir / CHECKPOINTS,
                                   run_options(args),
                                   history_path=output_dir / "history.csv")
    try:
        train_in(output_dir, args, training, checkpoint)
    except KeyboardInterrupt:
        return interrupted(interrupted_message(checkpoint, args, output_dir))
    finally:
        if run_directory is not None:
            run_directory.release()
    if training is not None:
        training.finish()


def interrupted_message(checkpoint, args, output_dir):
    """What Ctrl-C stopped, and how to go on: a run in a folder of its own
    (no --output-dir) resumes with --output-dir naming that folder."""
    if checkpoint is None:  # several processes keep no checkpoints
        return "interrupted; run the same command to train again"
    after = (f" after epoch {checkpoint.finished_epochs}"
             if checkpoint.finished_epochs else "")
    if args.output_dir is None:
        return (f"interrupted{after}; run the same command with "
                f"--output-dir {output_dir} to resume")
    return f"interrupted{after}; run the same command to resume"


def train_in(output_dir, args, training, checkpoint):
    """Trains, evaluates and (in the chief) writes to `output_dir`.

    `output_dir` is None in processes other than the chief; `checkpoint`
    (a `RunCheckpoint`) is None where the run cannot resume.
    """
    import keras

    from keras_perceiver.training import evaluate

    chief = output_dir is not None
    if checkpoint is not None and not check_run_state(args, checkpoint,
                                                      output_dir):
        return
    if chief and args.mixed_precision:
        warn_if_mixed_precision_is_slow()
    # Several devices split in-memory arrays.
    dataset = load_dataset(args, in_memory=training is not None)
    keras.utils.set_random_seed(args.seed)
    if args.mixed_precision:
        keras.config.set_dtype_policy("mixed_bfloat16")
    model = build_model(args, dataset, training)
    devices = ""
    if training is not None:
        devices = (
            f" on {training.num_devices} devices ({args.distribution} "
            "parallel)"
        )
    if chief and args.checkpoint:
        print(f"Fine-tuning {args.checkpoint} with a new "
              f"{dataset.num_classes}-class head")
    if chief:
        print(
            f"Training a Perceiver on {dataset.name} ({dataset.modality}, "
            f"{dataset.num_train_examples} training examples, "
            f"{dataset.num_classes} classes) with the "
            f"{keras.config.backend()} backend{devices}; results in "
            f"{output_dir}"
        )
    started = time.perf_counter()
    train_model(model, dataset, args, training, checkpoint, output_dir)
    training_seconds = time.perf_counter() - started
    # Every process evaluates (multi-worker engines run it collectively);
    # only the chief writes files.
    test_loss, test_accuracy = evaluate(model, dataset, args.batch_size)
    if chief:
        write_results(model, dataset, output_dir, args, training,
                      test_loss, test_accuracy, training_seconds)


def warn_if_mixed_precision_is_slow():
    """Warns (one line) where mixed_bfloat16 would train slower than
    float32: on a CPU without native bfloat16."""
    from keras_perceiver import backend_differences

    if backend_differences.mixed_bfloat16_is_slow():
        warnings.warn(
            "--mixed-precision: training runs on a CPU without native "
            "bfloat16 (no AVX512-BF16, AMX or ARM BF16), where "
            "mixed_bfloat16 is slower than float32 (20-30x on torch); leave "
            "out --mixed-precision to train in float32, the faster choice "
            "here",
            stacklevel=2,
        )


def build_model(args, dataset, training):
    """The compiled model: a new Perceiver or a fine-tuned checkpoint."""
    from keras_perceiver.models import perceiver_for_dataset
    from keras_perceiver.training import (
        compile_for_classification,
        learning_rate_schedule,
        steps_per_epoch,
    )

    scope = training.scope() if training else contextlib.nullcontext()
    with scope:
        if args.checkpoint:
            model = fine_tuned_checkpoint(args, dataset)
        else:
            try:
                model = perceiver_for_dataset(
                    dataset, **model_kwargs(args), **input_kwargs(args)
                )
            except ValueError as error:
                raise CommandError(first_line(error)) from None
        steps = steps_per_epoch(dataset.num_train_examples, args.batch_size,
                                args.validation_split)
        compile_for_classification(
            model,
            learning_rate_schedule(args.learning_rate, steps * args.epochs,
                                   args.schedule),
            weight_decay=args.weight_decay,
            jit_compile=args.jit_compile or "auto",
        )
    return model


def train_model(model, dataset, args, training, checkpoint, output_dir):
    """Fits the model from its last checkpoint; stops on a non-finite loss.

    With a checkpoint (one process), training resumes after its last
    finished epoch, or is skipped when it holds them all. Otherwise (several
    processes) the chief logs the history with CSVLogger.
    """
    import keras

    chief = output_dir is not None
    if checkpoint is not None:
        if restore(checkpoint, model) >= args.epochs:
            return
        callbacks = [checkpoint]  # which stops on a non-finite loss itself
    else:
        callbacks = [keras.callbacks.TerminateOnNaN(raise_error=True)]
        if chief:
            callbacks.append(
                keras.callbacks.CSVLogger(str(output_dir / "history.csv"))
            )
    try:
        fit(model, dataset, args, training, callbacks, chief)
    except FloatingPointError as error:  # from RunCheckpoint
        raise CommandError(first_line(error)) from None
    except RuntimeError as error:  # TerminateOnNaN's, or another
        if "NaN or Inf loss" not in str(error):
            raise
        raise CommandError(first_line(error)) from None


def fit(model, dataset, args, training, callbacks, chief):
    """`model.fit`, or the distributed engine's fit, as the options ask."""
    from keras_perceiver.datasets.splits import split_validation

    if training is None:
        model.fit(
            **dataset.fit_data(args.batch_size, args.validation_split),
            epochs=args.epochs,
            callbacks=callbacks,
        )
    else:
        (x_train, y_train), validation_data = split_validation(
            dataset.x_train, dataset.y_train, args.validation_split
        )
        training.fit(
            model, x_train, y_train, batch_size=args.batch_size,
            epochs=args.epochs, validation_data=validation_data,
            callbacks=callbacks, verbose=1 if chief else 0, seed=args.seed,
        )


def hold_output_dir(args):
    """The locked `RunDirectory`: --output-dir, or a new one per run.

    An --output-dir of another tool's files is refused (unless
    --overwrite-output-dir); one with checkpoints of this tool, written
    before it marked its folders, is this tool's.
    """
    from keras_perceiver.training.run_checkpoint import RunCheckpoint

    if args.output_dir is not None:
        path = pathlib.Path(args.output_dir)
        earlier = RunCheckpoint(path / CHECKPOINTS).written_files()
        return hold_given_output_dir(path, args, bool(earlier), CHECKPOINTS)
    try:
        return RunDirectory.new(f"runs/{data_name(args)}").lock()
    except ValueError as error:
        raise CommandError(first_line(error)) from None


def run_options(args):
    """The options that define a run: a checkpoint under others is refused."""
    return {name: value for name, value in sorted(vars(args).items())
            if name not in NOT_RUN_OPTIONS}


def check_run_state(args, checkpoint, output_dir):
    """Says whether to train: False when the run is already finished.

    Raises CommandError where resuming would not do what the options say:
    checkpoints of another run, more finished epochs than --epochs, an
    unfinished run of another --epochs, or a finished run to continue
    without --continue.
    """
    if args.restart:
        remove_run(checkpoint, output_dir)
        return True
    try:
        latest = checkpoint.latest_metadata()
    except ValueError as error:
        raise CommandError(f"{first_line(error)}; or rerun with --restart")
    done = latest["epoch"] if latest else 0
    results = read_metrics(output_dir)
    unfinished = results is None or results["epochs"] < done
    if not unfinished:
        finished = results["epochs"]
        if args.epochs == finished:
            print(f"{output_dir} holds this run, finished after {finished} "
                  f"epochs (test accuracy {results.get('test_accuracy')}); "
                  "--continue --epochs N trains it further, --restart "
                  "starts over")
            return False
        if not args.continue_training and args.epochs > finished:
            raise CommandError(
                f"{output_dir} holds a run finished after {finished} "
                f"epochs; add --continue to train it up to --epochs "
                f"{args.epochs}, or --restart to start over"
            )
        if args.continue_training and latest is None:
            raise CommandError(
                f"{output_dir} holds no checkpoint to continue from; "
                "--restart starts over"
            )
    if done > args.epochs:
        raise CommandError(
            f"{output_dir} holds {done} finished epochs, more than --epochs "
            f"{args.epochs}; rerun with --epochs {done} or more, or "
            "--restart to start over"
        )
    if (latest and latest["epochs"] != args.epochs and unfinished
            and not args.continue_training):
        raise CommandError(
            f"{output_dir} holds an unfinished run of --epochs "
            f"{latest['epochs']} ({done} done): rerun with --epochs "
            f"{latest['epochs']} to resume it, add --continue to train it "
            f"up to {args.epochs} instead, or --restart to start over"
        )
    return True


def restore(checkpoint, model):
    """Loads the newest usable checkpoint; returns its finished epochs."""
    try:
        finished_epochs = checkpoint.restore(model)
    except ValueError as error:
        raise CommandError(
            f"{first_line(error)}; or rerun with --restart"
        ) from None
    if finished_epochs:
        print(f"Resuming after epoch {finished_epochs} from "
              f"{checkpoint.directory}")
    return finished_epochs


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


def remove_run(checkpoint, output_dir):
    """Deletes what `train` wrote in `output_dir` (for --restart): the
    checkpoints their metadata lists and the results, nothing else."""
    checkpoint.remove()
    for name in RESULT_FILES:
        (output_dir / name).unlink(missing_ok=True)


def write_results(model, dataset, output_dir, args, training, test_loss,
                  test_accuracy, training_seconds):
    """Writes the model, the plots and, last, metrics.json (atomically)."""
    import keras

    from keras_perceiver.reports import plotting
    from keras_perceiver.training.run_checkpoint import finite_or_none

    with atomic_path(output_dir / "model.keras") as temporary:
        model.save(temporary)
    with atomic_path(output_dir / "training_curves.png") as temporary:
        plotting.plot_training_curves(output_dir / "history.csv", temporary)
    # A fine-tuned checkpoint is a Functional model that resizes and
    # normalises the images before its classifier; every Perceiver task
    # draws its attention maps.
    if not args.checkpoint:
        with atomic_path(output_dir / "attention_maps.png") as temporary:
            plotting.plot_attention_maps(model, dataset, temporary)
    metrics = {
        "dataset": dataset.name,
        "backend": keras.config.backend(),
        "test_accuracy": finite_or_none(test_accuracy),
        "test_loss": finite_or_none(test_loss),
        "parameters": int(model.count_params()),
        "epochs": args.epochs,
        "training_seconds_this_run": round(training_seconds, 1),
        "jit_compile": bool(model.jit_compile),
    }
    if training is not None:
        metrics["devices"] = training.num_devices
        metrics["distribution"] = args.distribution
    write_text_atomically(output_dir / "metrics.json",
                          json.dumps(metrics, indent=2, allow_nan=False))
    print(
        f"Test accuracy {test_accuracy:.4f} ({model.count_params():,} "
        f"parameters, {training_seconds:.0f} s of training in this run). "
        f"Saved {output_dir / 'model.keras'}"
    )


def fine_tuned_checkpoint(args, dataset):
    """A checkpoint's encoder with a new head for the data set's classes."""
    from keras_perceiver.pretrained import fine_tuning_classifier

    if dataset.modality != "image":
        raise CommandError(
            f"--checkpoint fine-tunes image checkpoints; {dataset.name} "
            f"holds {dataset.modality} data"
        )
    checkpoint, preprocessor = load_image_checkpoint(args)
    try:
        return fine_tuning_classifier(
            checkpoint,
            dataset.input_shape,
            dataset.num_classes,
            class_names=list(dataset.class_names),
            image_mean=preprocessor.image_mean,
            image_std=preprocessor.image_std,
            dropout=args.dropout,
        )
    except ValueError as error:
        raise CommandError(first_line(error)) from None


def start_distributed_training(args):
    """The `DistributedTraining` the options ask for, or None for one device.

    Training is distributed with `--devices`, `--distribution model`, or
    when the backend's launcher set up several processes (torchrun,
    `TF_CONFIG`, `KERAS_DISTRIBUTION_JOB_ADDRESSES`: see
    `keras_perceiver.backend_differences`).

    On the torch backend, `--devices N` outside torchrun starts this command
    again under `torchrun --standalone --nproc_per_node N` (one host).
    """
    from keras_perceiver import backend_differences

    differences = backend_differences.current()
    if args.distribution == "model" and not differences.model_parallel:
        raise CommandError(
            f"--distribution model needs the JAX backend (keras.distribution"
            f".ModelParallel); on {differences.name} use --distribution data"
        )
    launched = differences.launched()
    if args.devices is None and args.distribution == "data" and not launched:
        return None
    if args.jit_compile and not differences.trains_jit_compiled_on_devices:
        raise CommandError(
            f"--jit-compile does not work in {differences.title}'s "
            f"multi-device training ({differences.engine}); train without it"
        )
    if (differences.relaunches_for_devices and not launched
            and (args.devices or 1) > 1):
        relaunch_under_torchrun(args.devices)
    from keras_perceiver.distribution import DistributedTraining

    try:
        training = DistributedTraining(args.devices, args.distribution)
    except ValueError as error:
        raise CommandError(first_line(error)) from None
    if args.batch_size % training.num_replicas:
        raise CommandError(
            f"--batch-size must be a multiple of the {training.num_replicas} "
            f"data-parallel replicas, got {args.batch_size}"
        )
    return training


def can_resume(training):
    """Resuming needs one process running model.fit."""
    return (training.differences.trains_with_keras_fit
            and training.num_processes == 1)


def relaunch_under_torchrun(num_processes):
    """Starts this command again as `num_processes` torchrun processes."""
    from keras_perceiver.distribution.torchrun_command import (
        torchrun_command,
    )

    command = torchrun_command(num_processes, sys.argv[1:])
    sys.stdout.flush()
    os.execv(sys.executable, command)


def check_training_arguments(args):
    check_model_source(args)
    check_positive_ints(args, "epochs", "batch_size", "devices")
    check_range("--learning-rate", args.learning_rate, 0.0, math.inf,
                "a positive number", low_included=False)
    check_range("--weight-decay", args.weight_decay, 0.0, math.inf,
                "a number >= 0")
    check_range("--dropout", args.dropout, 0.0, 1.0, "in [0, 1)")
    check_range("--validation-split", args.validation_split, 0.0, 1.0,
                "in [0, 1)")

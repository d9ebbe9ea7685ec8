"""What every example shares: command-line flags, compile, fit, report."""

import argparse
import pathlib
import sys
import time

import keras

from keras_perceiver.training import (
    compile_for_classification,
    evaluate,
    learning_rate_schedule,
    steps_per_epoch,
)

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT / ".." / "shared" / "data"


def provenance():
    """What a results file records of its run: the command, the machine
    (`benchmarks.machine.describe`) and its `lscpu` flags."""
    sys.path.insert(0, str(ROOT))
    from benchmarks import machine

    return {"command": " ".join(["python", *sys.argv]),
            "machine": machine.describe(),
            "lscpu_flags": machine.lscpu_flags()}


def parse_args(description, dataset_folder, epochs, batch_size,
               audio_features=None, add_arguments=None):
    """Flags every example takes: where the data is, epochs, batch size.

    `dataset_folder` is the data's folder inside ../shared/data ("" for that
    folder itself). Examples with audio give `audio_features`, the default
    of their `--audio-features` flag; examples with flags of their own give
    `add_arguments`, a function that adds them to the parser.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--data-dir", default=str(SHARED_DATA / dataset_folder),
        help="folder with a local copy of the data "
        "(default: the copy in ../shared/data)",
    )
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--output-dir", default="runs/examples",
                        help="where examples that write results put them")
    parser.add_argument("--mixed-precision", action="store_true",
                        help="train in mixed_bfloat16")
    if audio_features is not None:
        parser.add_argument("--audio-features", default=audio_features,
                            choices=("waveform", "log_mel"))
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args()
    if args.mixed_precision:
        keras.config.set_dtype_policy("mixed_bfloat16")
    keras.utils.set_random_seed(0)
    return args


def compile_fit_evaluate(model, data, args, train=None):
    """Trains `model` as `keras-perceiver train` does; reports test accuracy.

    The recipe of `keras_perceiver.training`, with its defaults (weight
    decay `keras_perceiver.training.defaults.WEIGHT_DECAY`): AdamW with
    gradient clipping and cross-entropy on the logits, the learning rate warming up over the
    first 5 % of the steps to `args.learning_rate`, then decaying to 0 on
    a cosine.

    Args:
        model: a `keras_perceiver.Perceiver`.
        data: a `keras_perceiver.datasets.Dataset`: trained on its training
            examples, tested on its test examples.
        args: the parsed flags.
        train: optional batched `tf.data.Dataset` of known length, fitted
            instead of `data`'s training examples.

    Returns:
        The test accuracy.
    """
    if train is None:
        steps = steps_per_epoch(data.num_train_examples, args.batch_size)
        fit_data = data.fit_data(args.batch_size)
    else:
        steps = int(train.cardinality())
        fit_data = {"x": train}
    compile_for_classification(
        model, learning_rate_schedule(args.learning_rate, steps * args.epochs)
    )
    started = time.perf_counter()
    model.fit(**fit_data, epochs=args.epochs)
    seconds = time.perf_counter() - started
    _, accuracy = evaluate(model, data, args.batch_size)
    print(f"test accuracy {accuracy:.4f} after {args.epochs} epochs "
          f"({seconds:.0f} s of training, {model.count_params():,} "
          f"parameters, {keras.config.backend()} backend)")
    return accuracy

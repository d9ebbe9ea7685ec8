"""What every example shares: command-line flags, compile, fit, report."""

import argparse
import math
import pathlib
import time

import keras

from keras_perceiver.schedules import warmup_cosine_decay

SHARED_DATA = pathlib.Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def parse_args(description, dataset_folder, epochs, batch_size,
               audio_features=None):
    """Flags every example takes: where the data is, epochs, batch size.

    `dataset_folder` is the data's folder inside ../shared/data ("" for that
    folder itself). Examples with audio give `audio_features`, the default
    of their `--audio-features` flag.
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
    args = parser.parse_args()
    if args.mixed_precision:
        keras.config.set_dtype_policy("mixed_bfloat16")
    keras.utils.set_random_seed(0)
    return args


def compile_fit_evaluate(model, train, test, args, validation_data=None):
    """AdamW + cross-entropy; fits `train`, reports accuracy on `test`.

    The learning rate warms up over the first 5 % of the steps to
    `args.learning_rate`, then decays to 0 on a cosine.

    Args:
        model: a `keras_perceiver.Perceiver`.
        train: `(x, y)` or a batched `tf.data.Dataset` of known length.
        test: `(x, y)`.
        args: the parsed flags.
        validation_data: optional data to report after every epoch.

    Returns:
        The test accuracy.
    """
    if isinstance(train, tuple):
        steps_per_epoch = math.ceil(len(train[1]) / args.batch_size)
    else:
        steps_per_epoch = int(train.cardinality())
    schedule = warmup_cosine_decay(args.learning_rate,
                                   steps_per_epoch * args.epochs)
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    started = time.perf_counter()
    if isinstance(train, tuple):
        model.fit(*train, epochs=args.epochs, batch_size=args.batch_size,
                  validation_data=validation_data)
    else:
        model.fit(train, epochs=args.epochs, validation_data=validation_data)
    seconds = time.perf_counter() - started
    _, accuracy = model.evaluate(*test, batch_size=args.batch_size, verbose=0)
    print(f"test accuracy {accuracy:.4f} after {args.epochs} epochs "
          f"({seconds:.0f} s of training, {model.count_params():,} "
          f"parameters, {keras.config.backend()} backend)")
    return accuracy

"""`keras-perceiver train`: fit a Perceiver on a data set, resumably."""

import json
import pathlib
import time

from keras_perceiver.cli.dataset_options import (
    add_dataset_arguments,
    load_dataset,
)
from keras_perceiver.cli.main import CommandError
from keras_perceiver.cli.model_options import add_model_arguments, model_kwargs


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "train",
        help="train a Perceiver on a data set",
        description="Train a Perceiver with Keras progress bars. Writes "
        "model.keras, history.csv, training_curves.png, attention_maps.png "
        "and metrics.json to the output directory. Started again with the "
        "same output directory, it resumes from the last finished epoch.",
    )
    add_dataset_arguments(parser)
    add_model_arguments(parser)
    training = parser.add_argument_group("training options")
    training.add_argument("--epochs", type=int, default=10)
    training.add_argument("--batch-size", type=int, default=64)
    training.add_argument("--learning-rate", type=float, default=1e-3)
    training.add_argument("--weight-decay", type=float, default=1e-4)
    training.add_argument(
        "--validation-split", type=float, default=0.1,
        help="share of the training data held out for validation curves",
    )
    training.add_argument(
        "--mixed-precision", action="store_true",
        help="train in mixed_bfloat16 (much faster on CPUs with AMX)",
    )
    training.add_argument("--seed", type=int, default=0)
    training.add_argument(
        "--output-dir", default=None,
        help="where results go (default: runs/<dataset>)",
    )
    parser.set_defaults(run=run)


def run(args):
    import keras

    from keras_perceiver import plotting
    from keras_perceiver.models import perceiver_for_dataset

    check_training_arguments(args)
    dataset = load_dataset(args)
    output_dir = pathlib.Path(args.output_dir or f"runs/{args.dataset}")
    output_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(args.seed)
    if args.mixed_precision:
        keras.config.set_dtype_policy("mixed_bfloat16")
    model = perceiver_for_dataset(dataset, **model_kwargs(args))
    model.compile(
        optimizer=keras.optimizers.AdamW(
            args.learning_rate, weight_decay=args.weight_decay, clipnorm=1.0
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    print(
        f"Training a Perceiver on {dataset.name} ({dataset.modality}, "
        f"{len(dataset.y_train)} training examples, {dataset.num_classes} "
        f"classes) with the {keras.config.backend()} backend; "
        f"results in {output_dir}"
    )
    started = time.perf_counter()
    model.fit(
        dataset.x_train,
        dataset.y_train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        validation_split=args.validation_split,
        callbacks=[
            keras.callbacks.BackupAndRestore(str(output_dir / "backup")),
            keras.callbacks.CSVLogger(
                str(output_dir / "history.csv"), append=True
            ),
        ],
    )
    training_seconds = time.perf_counter() - started
    test_loss, test_accuracy = model.evaluate(
        dataset.x_test, dataset.y_test, batch_size=args.batch_size, verbose=0
    )
    model.save(output_dir / "model.keras")
    plotting.plot_training_curves(
        output_dir / "history.csv", output_dir / "training_curves.png"
    )
    plotting.plot_attention_maps(
        model, dataset, output_dir / "attention_maps.png"
    )
    metrics = {
        "dataset": dataset.name,
        "backend": keras.config.backend(),
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "parameters": int(model.count_params()),
        "epochs": args.epochs,
        "training_seconds_this_run": round(training_seconds, 1),
    }
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(
        f"Test accuracy {test_accuracy:.4f} ({model.count_params():,} "
        f"parameters, {training_seconds:.0f} s of training in this run). "
        f"Saved {output_dir / 'model.keras'}"
    )


def check_training_arguments(args):
    for name in ("epochs", "batch_size"):
        if getattr(args, name) <= 0:
            raise CommandError(
                f"--{name.replace('_', '-')} must be a positive integer, "
                f"got {getattr(args, name)}"
            )
    if not 0.0 <= args.validation_split < 1.0:
        raise CommandError(
            f"--validation-split must be in [0, 1), got "
            f"{args.validation_split}"
        )

"""`keras-perceiver predict`: class predictions of a saved model.

With `--checkpoint`, the predictions of a Hugging Face Perceiver image
checkpoint for image files: the top 5 classes with their names.
"""

import csv
import pathlib

import numpy as np

from keras_perceiver.cli.dataset_options import (
    add_audio_features_argument,
    load_dataset,
)
from keras_perceiver.cli.checkpoint_options import (
    add_checkpoint_arguments,
    load_image_checkpoint,
)
from keras_perceiver.cli.main import CommandError, first_line
from keras_perceiver.cli.saved_model_options import load_keras_model


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "predict",
        help="predict classes with a saved model",
        description="Predict classes for a .npy array, a .npz file of named "
        "arrays (dict inputs such as {'inputs', 'mask'}), or the test split "
        "of a data set; or, with --checkpoint, print the top 5 classes of "
        "image files under a Hugging Face Perceiver image checkpoint.",
        usage="%(prog)s MODEL (--input FILE | --dataset NAME) [options]\n"
        "       %(prog)s --checkpoint NAME_OR_FOLDER IMAGE [IMAGE ...]",
    )
    parser.add_argument(
        "paths", nargs="+", metavar="MODEL_OR_IMAGE",
        help="a .keras file written by `train`; with --checkpoint, the "
             "image files",
    )
    add_checkpoint_arguments(
        parser,
        "a Hugging Face Perceiver image checkpoint (a folder in the Hugging "
        "Face layout, or a Hub id such as deepmind/vision-perceiver-conv) "
        "to classify the image files with",
    )
    parser.add_argument(
        "--top-k", type=int, default=5,
        help="with --checkpoint: classes printed per image (default: 5)",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--input", help="a .npy or .npz file of examples")
    source.add_argument("--dataset", help="predict a data set's test split")
    parser.add_argument("--data-dir", default=None)
    add_audio_features_argument(parser)
    parser.add_argument(
        "--output", default=None, help="CSV file for the predictions"
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.set_defaults(run=run)


def run(args):
    import keras

    if args.checkpoint:
        return predict_checkpoint(args)
    if len(args.paths) != 1 or not (args.input or args.dataset):
        raise CommandError(
            "give one .keras model and --input or --dataset (image files "
            "are classified with --checkpoint)"
        )
    model = load_keras_model(args.paths[0])
    inputs = read_inputs(args)
    try:
        logits = model.predict(inputs, batch_size=args.batch_size, verbose=0)
    except ValueError as error:
        raise CommandError(first_line(error)) from None
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    classes = probabilities.argmax(axis=-1)
    for index, label in enumerate(classes[:10]):
        print(f"example {index}: class {label} "
              f"(p={probabilities[index, label]:.3f})")
    if len(classes) > 10:
        print(f"... {len(classes)} predictions in all")
    if args.output:
        write_predictions(args.output, probabilities)
        print(f"Wrote {args.output}")


def read_inputs(args):
    if args.dataset:
        return load_dataset(args).x_test
    path = pathlib.Path(args.input)
    if not path.is_file():
        raise CommandError(f"input file not found: {path}")
    try:
        data = np.load(path)
    except (ValueError, OSError) as error:
        raise CommandError(
            f"{path} is not a .npy or .npz file ({error})"
        ) from None
    if isinstance(data, np.ndarray):
        return data
    return {key: data[key] for key in data.files}


def write_predictions(path, probabilities):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(
            ["example", "predicted_class"]
            + [f"p{c}" for c in range(probabilities.shape[1])]
        )
        for index, row in enumerate(probabilities):
            writer.writerow(
                [index, int(row.argmax())] + [f"{p:.6f}" for p in row]
            )


def predict_checkpoint(args):
    """Prints the top classes of each image file under a checkpoint."""
    from keras_perceiver.checkpoints import classify_images

    if args.input or args.dataset:
        raise CommandError(
            "--checkpoint classifies image files; --input and --dataset "
            "are for .keras models"
        )
    if args.top_k <= 0:
        raise CommandError(
            f"--top-k must be a positive integer, got {args.top_k}"
        )
    for path in args.paths:
        if not pathlib.Path(path).is_file():
            raise CommandError(f"image file not found: {path}")
    model, preprocessor = load_image_checkpoint(args)
    for start in range(0, len(args.paths), args.batch_size):
        paths = args.paths[start:start + args.batch_size]
        try:
            results = classify_images(model, preprocessor, paths, args.top_k)
        except ValueError as error:
            raise CommandError(first_line(error)) from None
        for path, top in zip(paths, results):
            print(f"{path}:")
            for rank, (name, probability) in enumerate(top, start=1):
                print(f"  {rank}. {name} ({probability:.3f})")

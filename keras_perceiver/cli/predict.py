"""`keras-perceiver predict`: class predictions of a saved model.

One syntax, `predict MODEL INPUT...`: the top classes of raw files (images,
WAV audio, point clouds, sequences, or the files in folders), read as the
model's training data were; or, with `--input`, `--dataset` or `--data`
instead of files, the predicted class of each example of an array or a
data set's test split. With `--checkpoint NAME IMAGE...`, the top classes
of image files under a Hugging Face Perceiver image checkpoint.
"""

import csv
import os
import pathlib
import zipfile

from keras_perceiver.cli.dataset_options import (
    add_source_arguments,
    load_dataset,
)
from keras_perceiver.cli.checkpoint_options import (
    add_checkpoint_arguments,
    load_image_checkpoint,
)
from keras_perceiver.cli.main import (
    CommandError,
    check_positive_ints,
    first_line,
)
from keras_perceiver.cli.model_file import load_keras_model

USAGE = ("give the model, then what to predict: predict MODEL "
         "FILE_OR_FOLDER..., predict MODEL --input FILE (or --dataset NAME, "
         "--data SOURCE), or predict --checkpoint NAME IMAGE...")


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "predict",
        help="predict classes with a saved model",
        description="Print the top classes of files (or of the files in "
        "folders) of the model's modality, read as in training; or the "
        "predicted class of each example of a .npy array, a .npz file of "
        "named arrays (dict inputs such as {'inputs', 'mask'}) or the test "
        "split of a data set; or, with --checkpoint, the top classes of "
        "image files under a Hugging Face Perceiver image checkpoint.",
        usage="%(prog)s MODEL FILE_OR_FOLDER [FILE_OR_FOLDER ...] "
        "[options]\n"
        "       %(prog)s MODEL (--input FILE | --dataset NAME | --data "
        "SOURCE) [options]\n"
        "       %(prog)s --checkpoint NAME_OR_FOLDER IMAGE [IMAGE ...]",
    )
    parser.add_argument(
        "paths", nargs="*", metavar="MODEL INPUT",
        help="a .keras file written by `train`, then the files and folders "
             "to classify (with --checkpoint: the image files alone)",
    )
    parser.add_argument(
        "--model", default=None,
        help="the .keras file, given as an option instead of first",
    )
    add_checkpoint_arguments(
        parser,
        "a Hugging Face Perceiver image checkpoint (a folder in the Hugging "
        "Face layout, or a Hub id such as deepmind/vision-perceiver-conv) "
        "to classify the image files with",
    )
    parser.add_argument(
        "--top-k", type=int, default=5,
        help="files: classes printed per file",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--input", help="a .npy or .npz file of examples")
    add_source_arguments(parser, source)
    parser.add_argument(
        "--output", default=None,
        help="CSV file for the predictions (checked before any work)",
    )
    parser.add_argument("--batch-size", type=int, default=64,
                        help="examples per batch")
    parser.set_defaults(run=run)


def run(args):
    check_positive_ints(args, "batch_size")
    check_output_path(args.output)
    if args.checkpoint:
        return predict_checkpoint(args)
    model_path, inputs = model_and_inputs(args)
    if inputs:
        return predict_files(args, model_path, inputs)
    return predict_examples(args, model_path)


def model_and_inputs(args):
    """The .keras file and the files to classify (none for --input,
    --dataset and --data), or raises CommandError."""
    paths = list(args.paths)
    model_path = args.model or (paths.pop(0) if paths else None)
    if model_path is None:
        raise CommandError(USAGE)
    arrays = args.input or args.dataset or args.data
    if paths:
        check_file_arguments(args)
    elif not arrays:
        raise CommandError(USAGE)
    return model_path, paths


def predict_examples(args, model_path):
    """Prints (and with --output writes) the class of each example."""
    import keras
    import numpy as np

    model = load_keras_model(model_path)
    inputs = read_inputs(args, model)
    num_examples = len(keras.tree.flatten(inputs)[0])
    if num_examples == 0:
        raise CommandError("no examples to predict: the input is empty")
    try:
        logits = model.predict(inputs, batch_size=args.batch_size, verbose=0)
    except ValueError as error:
        raise CommandError(first_line(error)) from None
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    not_finite = np.flatnonzero(~np.isfinite(probabilities).all(axis=-1))
    if len(not_finite):
        raise CommandError(
            f"the predictions of {len(not_finite)} examples (the first: "
            f"example {not_finite[0]}) are not finite: their inputs hold "
            "NaN or infinite values where they are not masked"
        )
    names = class_names(model, probabilities.shape[-1])
    classes = probabilities.argmax(axis=-1)
    for index, label in enumerate(classes[:10]):
        print(f"example {index}: class {names[label]} "
              f"(p={probabilities[index, label]:.3f})")
    if len(classes) > 10:
        print(f"... {len(classes)} predictions in all")
    if args.output:
        write_predictions(args.output, probabilities)
        print(f"Wrote {args.output}")


def class_names(model, num_classes):
    """The model's class names, or its class numbers as str."""
    return (getattr(model, "class_names", None)
            or [str(c) for c in range(num_classes)])


def read_inputs(args, model):
    """The examples of --dataset or --data (test split), or --input's."""
    import numpy as np

    if args.dataset or args.data:
        dataset = load_dataset(args, model=model)
        inputs, _ = dataset.first_examples(dataset.num_test_examples, "test")
        return inputs
    path = pathlib.Path(args.input)
    if not path.is_file():
        raise CommandError(f"input file not found: {path}")
    try:
        data = np.load(path)
        if isinstance(data, np.ndarray):
            return data
        return {key: data[key] for key in data.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise CommandError(
            f"{path} is not a readable .npy or .npz file ({error})"
        ) from None


def check_output_path(output):
    """Raises unless the predictions can be written to `output` (or None)."""
    if output is None:
        return
    path = pathlib.Path(output)
    if path.is_dir():
        raise CommandError(f"--output {path} is a directory; give a file")
    if not path.parent.is_dir():
        raise CommandError(
            f"--output {path}: the directory {path.parent} does not exist"
        )
    if not os.access(path if path.exists() else path.parent, os.W_OK):
        raise CommandError(f"--output {path}: permission denied")


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
    from keras_perceiver.pretrained import classify_images

    check_file_arguments(args)
    if args.model:
        raise CommandError("give --model or --checkpoint, not both")
    if not args.paths:
        raise CommandError(USAGE)
    for path in args.paths:
        if not pathlib.Path(path).is_file():
            raise CommandError(f"image file not found: {path}")
    from keras_perceiver.modalities.image import load_image_file

    # Pillow alone reads images for a checkpoint: no TensorFlow needed.
    readable = readable_files(args.paths, "image", args.skip_bad_files,
                              inspect=load_image_file)
    model, preprocessor = load_image_checkpoint(args)
    results = []
    for start in range(0, len(readable), args.batch_size):
        paths = readable[start:start + args.batch_size]
        try:
            results += classify_images(model, preprocessor, paths,
                                       args.top_k)
        except ValueError as error:
            raise CommandError(first_line(error)) from None
        print_top_classes(paths, results[start:])
    if args.output:
        write_top_classes(args.output, readable, results)
        print(f"Wrote {args.output}")


def readable_files(paths, modality, skip_bad_files, inspect=None):
    """The files of `paths` that can be read as `modality`.

    Raises CommandError naming the first unreadable file, unless
    `skip_bad_files`: then those are left out, and counted in one line.
    `inspect` checks one file (`file_inputs.inspect_files`).
    """
    from keras_perceiver.datasets import file_inputs

    try:
        readable, _, skipped = file_inputs.inspect_files(
            paths, modality, skip_bad_files, inspect)
    except ValueError as error:
        raise CommandError(first_line(error)) from None
    if not readable:
        raise CommandError("no readable files to classify")
    if skipped:
        print(f"Skipped {len(skipped)} unreadable files (the first: "
              f"{skipped[0]})")
    return readable


def check_file_arguments(args):
    """Raises unless the options fit classifying files."""
    if args.input or args.dataset or args.data:
        raise CommandError(
            "give files to classify or --input, --dataset or --data, not "
            "both"
        )
    if args.top_k <= 0:
        raise CommandError(
            f"--top-k must be a positive integer, got {args.top_k}"
        )


def print_top_classes(paths, results):
    """Prints each path with its `[(class name, probability)]`, best first."""
    for path, top in zip(paths, results):
        print(f"{path}:")
        for rank, (name, probability) in enumerate(top, start=1):
            print(f"  {rank}. {name} ({probability:.3f})")


def predict_files(args, model_path, inputs):
    """Prints (and with --output writes) the top classes of raw files."""
    import keras
    import numpy as np

    from keras_perceiver.datasets import file_inputs

    model = load_keras_model(model_path)
    preprocessing = getattr(model, "input_preprocessing", None)
    if not preprocessing:
        raise CommandError(
            f"{model_path} does not record how to read files: train it with "
            "--data on a folder or a TFDS data set"
        )
    if not file_inputs.file_extensions(preprocessing["modality"]):
        raise CommandError(
            f"{model_path} takes {preprocessing['modality']} data, not "
            "files (predict reads image, WAV, point-cloud and sequence "
            f"files); classify its data with: predict {model_path} --data "
            "SOURCE"
        )
    paths = readable_files(files_to_classify(inputs, preprocessing["modality"]),
                           preprocessing["modality"], args.skip_bad_files)
    try:
        stream = file_inputs.read_files(paths, preprocessing)
        logits = model.predict(stream.batch(args.batch_size), verbose=0)
    except ValueError as error:
        raise CommandError(first_line(error)) from None
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    names = class_names(model, probabilities.shape[-1])
    results = [
        [(names[c], float(row[c])) for c in np.argsort(-row)[:args.top_k]]
        for row in probabilities
    ]
    print_top_classes(paths, results)
    if args.output:
        write_top_classes(args.output, paths, results)
        print(f"Wrote {args.output}")


def files_to_classify(arguments, modality):
    """The files named on the command line, and those of `modality` in the
    folders named (sorted, nested folders included)."""
    from keras_perceiver.datasets import file_inputs

    paths = []
    for argument in arguments:
        path = pathlib.Path(argument)
        if path.is_dir():
            found = sorted(str(p) for p in path.rglob("*") if p.is_file())
            found = file_inputs.files_of(modality, found)
            if not found:
                raise CommandError(f"no {modality} files in {path}")
            paths += found
        elif not path.is_file():
            raise CommandError(f"file not found: {path}")
        elif not file_inputs.files_of(modality, [path]):
            raise CommandError(
                f"{path} is not a {modality} file; the model reads "
                f"{', '.join(file_inputs.file_extensions(modality))} "
                "files"
            )
        else:
            paths.append(str(path))
    return paths


def write_top_classes(path, paths, results):
    """A CSV row per file: its top classes and their probabilities."""
    num_classes = len(results[0])
    header = ["file"] + [
        f"{kind}_{rank}" for rank in range(1, num_classes + 1)
        for kind in ("class", "probability")
    ]
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        for file_path, top in zip(paths, results):
            writer.writerow([file_path] + [
                value for name, probability in top
                for value in (name, f"{probability:.6f}")
            ])
